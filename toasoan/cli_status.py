"""`toasoan status [--json]`: how the office is running and the warnings that need a person.

Exits 0 when there is no warning and EXIT_WARNINGS otherwise, so a monitoring script (or a cron job
that mails its output) needs no parsing; `--json` prints review.health.Health.as_json().
"""

from __future__ import annotations

import argparse
from typing import Any

from core.db import reading
from core.formats import format_datetime
from core.settings import Settings
from toasoan.cli_common import open_engine, print_json

EXIT_WARNINGS = 6


def add_status_command(sub: Any) -> None:
    st = sub.add_parser("status", help="tình trạng hoạt động và các cảnh báo cần người xử lý")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from review.health import collect

    with reading(open_engine(settings)) as s:
        health = collect(settings, s)
    if args.json:
        print_json(health.as_json())
        return EXIT_WARNINGS if health.warnings else 0
    tz = settings.tz

    def when(value: Any) -> str:
        return format_datetime(value, tz) if value is not None else "chưa có"

    print(f"Quét hộp thư thành công lần cuối: {when(health.last_sweep_at)}")
    for r in health.runners.values():
        state = f"lỗi từ {when(r['failing_since'])}: {r['last_error']}" if r["failing_since"] else "bình thường"
        where = f", chạy tại {r['owner']}" if r["owner"] else ", không tiến trình nào đang chạy"
        print(f"  {r['label']}: {state} (thành công lần cuối {when(r['last_ok_at'])}{where})")
    inbox = ", ".join(f"{k} {v}" for k, v in sorted(health.inbox.items())) or "chưa có thư"
    print(f"Thư đã nhận: {inbox}; bị cách ly: {health.quarantined}")
    outbox = ", ".join(f"{k} {v}" for k, v in sorted(health.outbox.items())) or "trống"
    print(f"Thư gửi đi: {outbox}")
    print(f"Việc đăng bài thất bại: {health.publish_failed}")
    for j in health.upcoming:
        print(f"Sắp tới: {j['label']} kỳ {j['period']} lúc {when(j['due'])}")
    d = health.disk
    print(f"Ổ đĩa lưu trữ {d['path']}: còn trống {d['free_percent']}%")
    if not health.warnings:
        print("Không có cảnh báo.")
        return 0
    print(f"Cảnh báo ({len(health.warnings)}):")
    for w in health.warnings:
        print(f"  - [{w.code}] {w.message}")
    return EXIT_WARNINGS
