"""`toasoan inbox list [--json] [--status S]`, `inbox show ID [--json]`, `inbox retry ID [--json]`:
the received emails (JSON: toasoan.views.inbound_json; `show --json` adds "diagnostics"), read
through ingest.queries."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from core.db import reading
from core.settings import Settings
from toasoan.cli_common import CliError, deliver_quietly, open_engine, print_json

if TYPE_CHECKING:
    from ingest.diagnostics import Diagnostics
    from ingest.queries import Inbound


def add_inbox_command(sub: Any) -> None:
    inbox = sub.add_parser("inbox", help="thư đã nhận")
    isub = inbox.add_subparsers(dest="inbox_cmd", required=True)
    il = isub.add_parser("list")
    il.add_argument("--json", action="store_true")
    il.add_argument("--status", choices=["received", "accepted", "ignored", "quarantined"])
    ish = isub.add_parser("show")
    ish.add_argument("id", type=int)
    ish.add_argument("--json", action="store_true")
    ir = isub.add_parser("retry", help="xử lý lại thư bị cách ly")
    ir.add_argument("id", type=int)
    ir.add_argument("--json", action="store_true")
    inbox.set_defaults(func=cmd_inbox)


def cmd_inbox(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.queries import inbound, inbound_list
    from toasoan.views import inbound_json

    engine = open_engine(settings)
    if args.inbox_cmd == "retry":
        from ingest.service import Ingestor, RetryError
        from ingest.word.pool import shutdown_pool

        try:
            row = Ingestor(settings, engine).retry(args.id)
        except RetryError as exc:  # not found, or not quarantined
            raise CliError(str(exc)) from exc
        finally:
            shutdown_pool()
        deliver_quietly(settings, engine)
        if args.json:
            print_json(inbound_json(row))
        else:
            print(f"Thư {row.id}: {row.status} {row.reason or ''} bài: {row.draft_ids}")
        return 0
    with reading(engine) as s:
        if args.inbox_cmd == "show":
            found_row = inbound(s, args.id)
            if found_row is None:
                raise CliError(f"Không có thư số {args.id} / no inbound message {args.id}")
            data: Any = inbound_json(found_row)
            found = _diagnostics(settings, found_row)
            if args.json:
                print_json({**data, "diagnostics": found.as_json()})
            else:
                for k, v in data.items():
                    print(f"{k}: {v}")
                _print_diagnostics(found)
            return 0
        rows = inbound_list(s, args.status)
    if args.json:
        print_json([inbound_json(r) for r in rows])
    else:
        for r in rows:
            print(f"{r.id:>5}  {r.status:<11} {r.reason or '':<20} {r.sender:<35} {r.subject}")
    return 0


def _diagnostics(settings: Settings, row: Inbound) -> Diagnostics:
    """mail-parser's reading of the stored email (ingest.diagnostics), on demand."""
    from core.storage import Store
    from ingest.diagnostics import diagnose_inbound

    return diagnose_inbound(Store(settings.storage_dir), row.raw_sha256, row.size)


def _print_diagnostics(found: Diagnostics) -> None:
    print("chẩn đoán (mail-parser):")
    for note in found.notes:
        print(f"  lưu ý: {note}")
    if found.error:
        print(f"  lỗi: {found.error}")
    print(f"  lỗi cấu trúc: {len(found.defects)}")
    for d in found.defects:
        print(f"    [{d.part}] {d.label} ({d.category}: {d.text})")
    omitted = f", bỏ qua {found.hops_omitted} chặng cũ nhất" if found.hops_omitted else ""
    print(f"  đường đi (Received), chặng 1 là máy chủ đầu tiên: {len(found.received)}{omitted}")
    for h in found.received:
        delay = "" if h.delay is None else f" (+{h.delay:g} giây)" if h.delay >= 0 else f" ({h.delay:g} giây)"
        print(f"    {h.hop:>2}. từ {h.from_ or '?'} qua {h.by or '?'} lúc {h.date or '?'}{delay}")
