"""`toasoan outbox list [--json]` and `outbox send`: the mail queued to go out (core.outbox)."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import col, select

from core.db import reading
from core.settings import Settings
from toasoan.cli_common import open_engine, print_json


def add_outbox_command(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="thư gửi đi")
    osub = outbox.add_subparsers(dest="outbox_cmd", required=True)
    ol = osub.add_parser("list")
    ol.add_argument("--json", action="store_true")
    osub.add_parser("send", help="gửi ngay các thư đến hạn")
    outbox.set_defaults(func=cmd_outbox)


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    from core.models import OutboxMail
    from core.outbox import deliver_due
    from toasoan.views import outbox_json

    engine = open_engine(settings)
    if args.outbox_cmd == "send":
        r = deliver_due(engine, settings)
        if settings.smtp is None:
            print("Chưa cấu hình [smtp]: thư vẫn chờ trong hàng đợi / no [smtp] section: mail stays queued")
        print(f"Đã gửi {r.sent}, chờ gửi lại {r.retrying}, thất bại {r.failed}.")
        return 0
    with reading(engine) as s:
        rows = s.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all()
    if args.json:
        print_json([outbox_json(m, settings) for m in rows])
    else:
        for m in rows:
            print(f"{m.id:>5}  {m.status:<11} {m.kind:<18} {m.to_addr:<35} {m.subject}")
    return 0
