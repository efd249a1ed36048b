"""`toasoan demo`, `toasoan seed [--force]` (both for `make run`) and `toasoan db upgrade`: setting
up a database and a sample mailbox."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import col, select

from core.db import reading
from core.settings import Settings
from toasoan.cli_common import open_engine


def add_demo_command(sub: Any) -> None:
    sub.add_parser("demo", help="tài khoản mẫu cho make run").set_defaults(func=cmd_demo)


def add_seed_command(sub: Any) -> None:
    seed = sub.add_parser("seed", help="đặt thư mẫu vào Maildir (make run)")
    seed.add_argument("--force", action="store_true")
    seed.set_defaults(func=cmd_seed)


def add_db_command(sub: Any) -> None:
    db = sub.add_parser("db", help="cơ sở dữ liệu")
    db.add_argument("db_cmd", choices=["upgrade"])
    db.set_defaults(func=cmd_db)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """`make run`: demo accounts on a fresh database, and the address and logins printed."""
    from review.auth import add_user, has_accounts

    engine = open_engine(settings)
    has_users = has_accounts(engine)
    published = 0
    if not has_users:
        for name, password, role, full_name in DEMO_USERS:
            add_user(engine, name, password, role=role, full_name=full_name)
        published = _demo_publish(settings, engine)
    print("\n" + "=" * 72)
    print(f"  Giao diện biên tập / review UI:  {settings.review.public_url}/")
    if "static" in settings.publish.targets:
        print(f"  Trang tin / the site:  {settings.publish_static.base_url}  ({published} bài mẫu đã đăng)")
    if not has_users:
        for name, password, role, _ in DEMO_USERS:
            print(f"  đăng nhập / sign in:  {name} / {password}   ({role})")
    else:
        print("  (đã có tài khoản: dùng tài khoản của tòa soạn / existing accounts kept)")
    print("=" * 72 + "\n")
    return 0


def _demo_publish(settings: Settings, engine: Any, n: int = 3) -> int:
    """`make run` on a fresh database: take the sample mail in, and let the head of the board approve a
    few clean drafts, published at once, so the site shows the whole loop. Returns how many went live."""
    from core.models import Draft
    from publish.jobs import run_due
    from review import service
    from review.auth import get_user
    from toasoan.worker import run_once

    run_once(settings, engine)
    with reading(engine) as s:
        drafts = s.exec(select(Draft).where(Draft.status == "pending_review").order_by(col(Draft.id))).all()
        clean = [d.id for d in drafts if not d.warnings and d.duplicate_of is None and d.id is not None][:n]
    chief = get_user(engine, DEMO_USERS[1][0])
    for draft_id in clean:
        service.approve(engine, settings, draft_id, chief, revision=None)
    return run_due(settings, engine).published


# Demo accounts of `make run` only (created on an empty database, printed on start).
DEMO_USERS = (
    ("bientap", "bientap-demo", "editor", "Nguyễn Văn Biên (biên tập viên)"),
    ("truongban", "truongban-demo", "chief", "Trần Thị Duyệt (Trưởng Ban Biên tập)"),
)


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from toasoan.samples import write_samples

    if settings.mailbox.backend != "maildir":
        print("Hộp thư là IMAP: không đặt thư mẫu / the mailbox is IMAP: no samples seeded")
        return 0
    path = settings.resolve(settings.mailbox.path)
    has_mail = any((path / sub).is_dir() and any((path / sub).iterdir()) for sub in ("new", "cur"))
    processed = path / f".{settings.mailbox.processed_folder}"
    if (has_mail or processed.exists()) and not args.force:
        print(f"Hộp thư {path} đã có thư; không thêm mẫu (dùng --force để thêm).")
        return 0
    written = write_samples(path)
    print(f"Đã đặt {len(written)} thư mẫu vào {path}.")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    open_engine(settings)
    print("Cơ sở dữ liệu đã cập nhật / database is up to date.")
    return 0
