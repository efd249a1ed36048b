"""`toasoan users add NAME --role R [--full-name N]` (the password on stdin), `users disable NAME
[--json]`, `users list`: the board's accounts (review.auth)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.settings import Settings
from toasoan.cli_common import CliError, open_engine, print_json


def add_users_command(sub: Any) -> None:
    users = sub.add_parser("users", help="tài khoản Ban Biên tập")
    usub = users.add_subparsers(dest="users_cmd", required=True)
    ua = usub.add_parser("add", help="thêm hoặc đặt lại tài khoản (mật khẩu đọc từ stdin); phiên cũ kết thúc")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["viewer", "editor", "chief", "admin"])
    ua.add_argument("--full-name", default="")
    udis = usub.add_parser("disable", help="khóa tài khoản và kết thúc mọi phiên đăng nhập của tài khoản đó")
    udis.add_argument("name")
    udis.add_argument("--json", action="store_true")
    usub.add_parser("list")
    users.set_defaults(func=cmd_users)


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    from review.auth import AuthError, add_user, disable_user

    engine = open_engine(settings)
    if args.users_cmd == "disable":
        try:
            user, ended = disable_user(engine, args.name)
        except AuthError as exc:
            raise CliError(str(exc)) from exc
        if args.json:
            print_json({"username": user.username, "role": user.role, "active": user.active, "sessions_ended": ended})
        else:
            print(f"Đã khóa tài khoản {user.username}; {ended} phiên đăng nhập đã kết thúc.")
        return 0
    if args.users_cmd == "add":
        password = sys.stdin.readline().rstrip("\r\n") if not sys.stdin.isatty() else _ask_password()
        try:
            user = add_user(engine, args.name, password, role=args.role, full_name=args.full_name or "")
        except AuthError as exc:
            raise CliError(str(exc)) from exc
        print(f"Đã lưu tài khoản {user.username} ({user.role}).")
        return 0
    from review.auth import accounts

    for u in accounts(engine):
        print(f"{u.username:<20} {u.role:<8} {'' if u.active else '(khóa)'} {u.full_name}")
    return 0


def _ask_password() -> str:
    import getpass

    first = getpass.getpass("Mật khẩu: ")
    if getpass.getpass("Nhập lại: ") != first:
        raise CliError("Hai lần nhập mật khẩu không khớp / passwords differ")
    return first
