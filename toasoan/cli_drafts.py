"""`toasoan drafts list|show|source|approve|reject|request-changes|withdraw|history`: the drafts for
scripts (JSON: toasoan.views), and the board's decisions with the same checks, audit and emails as
the web UI (review.service)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from core.db import reading
from core.settings import Settings
from toasoan.cli_common import CliError, deliver_quietly, open_engine, print_json


def add_drafts_command(sub: Any) -> None:
    drafts = sub.add_parser("drafts", help="bài chờ biên tập")
    dsub = drafts.add_subparsers(dest="drafts_cmd", required=True)
    dl = dsub.add_parser("list")
    dl.add_argument("--json", action="store_true")
    dl.add_argument("--status")
    ds = dsub.add_parser("show")
    ds.add_argument("id", type=int)
    ds.add_argument("--json", action="store_true")
    dsrc = dsub.add_parser("source", help="lưu tệp gốc của bài (tệp Word, hoặc thư nếu bài gõ trong thư)")
    dsrc.add_argument("id", type=int)
    dsrc.add_argument("--output", "-o", type=Path, default=None)
    dap = dsub.add_parser("approve", help="duyệt bài (chế độ hai bước: biên tập viên đề xuất)")
    dap.add_argument("id", type=int)
    dap.add_argument("--by", required=True, help="tài khoản người duyệt")
    dap.add_argument("--coefficient", type=_coefficient, help="hệ số nhuận bút (Trưởng ban), ví dụ 2,5")
    dap.add_argument("--category", help="chuyên mục (slug)")
    dap.add_argument("--publish-at", help='giờ đăng bài (giờ tòa soạn) "dd/mm/yyyy HH:MM"; mặc định: ngay')
    dap.add_argument("--json", action="store_true")
    drj = dsub.add_parser("reject", help="không sử dụng bài")
    drj.add_argument("id", type=int)
    drj.add_argument("--by", required=True)
    drj.add_argument("--reason", required=True)
    drj.add_argument("--json", action="store_true")
    drc = dsub.add_parser("request-changes", help="đề nghị tác giả chỉnh sửa")
    drc.add_argument("id", type=int)
    drc.add_argument("--by", required=True)
    drc.add_argument("--note", required=True)
    drc.add_argument("--json", action="store_true")
    dwd = dsub.add_parser("withdraw", help="gỡ bài đã đăng khỏi mọi trang (bài chờ giờ đăng thì không đăng nữa)")
    dwd.add_argument("id", type=int)
    dwd.add_argument("--by", required=True)
    dwd.add_argument("--reason", required=True)
    dwd.add_argument("--json", action="store_true")
    dh = dsub.add_parser("history", help="lịch sử xử lý bài")
    dh.add_argument("id", type=int)
    dh.add_argument("--json", action="store_true")
    drafts.set_defaults(func=cmd_drafts)


def cmd_drafts(settings: Settings, args: argparse.Namespace) -> int:
    from core.drafts import images_of
    from core.models import Draft
    from toasoan.views import draft_detail_json, draft_json

    engine = open_engine(settings)
    if args.drafts_cmd == "source":
        return _draft_source(settings, engine, args.id, args.output)
    if args.drafts_cmd in ("approve", "reject", "request-changes", "withdraw"):
        return _decide(settings, engine, args)
    if args.drafts_cmd == "history":
        return _history(engine, args)
    with reading(engine) as s:
        if args.drafts_cmd == "show":
            d = s.get(Draft, args.id)
            if d is None:
                raise CliError(f"Không có bài số {args.id} / no draft {args.id}")
            images = images_of(s, args.id)
            from publish.queries import publications_of

            data = draft_detail_json(d, images, settings, publications_of(s, args.id))
            if args.json:
                print_json(data)
            else:
                for k, v in data.items():
                    print(f"{k}: {v}")
            return 0
        q = select(Draft).order_by(col(Draft.id))
        if args.status:
            q = q.where(Draft.status == args.status)
        drafts = s.exec(q).all()
    if args.json:
        print_json([draft_json(d, settings) for d in drafts])
    else:
        for d in drafts:
            print(f"{d.id:>5}  {d.tracking_code}  {d.status:<15} {d.kind:<4} {d.unit_code or '-':<6} {d.title}")
    return 0


def _decide(settings: Settings, engine: Any, args: argparse.Namespace) -> int:
    """The board's decisions for scripts: the same checks, audit and emails as the web UI."""
    from core.drafts import DraftError
    from review import service
    from review.auth import AuthError, get_user
    from toasoan.views import draft_json

    try:
        user = get_user(engine, args.by)
        if args.drafts_cmd == "approve":
            coefficient = args.coefficient  # parsed by argparse (_coefficient)
            if settings.review.two_step and user.role == "editor":
                draft = service.propose(
                    engine, settings, args.id, user, revision=None, coefficient=coefficient, category=args.category
                )
            else:
                draft = service.approve(
                    engine,
                    settings,
                    args.id,
                    user,
                    revision=None,
                    coefficient=coefficient,
                    category=args.category,
                    publish_at=_publish_at(settings, args.publish_at),
                )
        elif args.drafts_cmd == "reject":
            draft = service.reject(engine, settings, args.id, user, revision=None, reason=args.reason)
        elif args.drafts_cmd == "withdraw":
            draft = service.withdraw(engine, settings, args.id, user, reason=args.reason)
        else:
            draft = service.request_changes(engine, settings, args.id, user, revision=None, note=args.note)
    except (AuthError, DraftError) as exc:
        raise CliError(str(exc)) from exc
    deliver_quietly(settings, engine)
    if args.json:
        print_json(draft_json(draft, settings))
    else:
        print(f"Bài {draft.tracking_code}: {draft.status}")
    return 0


def _publish_at(settings: Settings, text: str | None) -> Any:
    """--publish-at "dd/mm/yyyy HH:MM" in the office's time zone: the embargo, as aware UTC."""
    from core.formats import parse_local_datetime

    if not text:
        return None
    try:
        return parse_local_datetime(text, settings.tz)
    except ValueError as exc:
        raise CliError(f"--publish-at: {exc} / expected dd/mm/yyyy HH:MM") from exc


def _coefficient(text: str) -> Any:
    """--coefficient through the web form's parser: a bad number is a usage error (exit 2, the message)."""
    from review.service import Invalid, parse_coefficient

    try:
        return parse_coefficient(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _history(engine: Any, args: argparse.Namespace) -> int:
    from core.models import Draft
    from review.service import history
    from toasoan.views import event_json

    with reading(engine) as s:
        if s.get(Draft, args.id) is None:
            raise CliError(f"Không có bài số {args.id} / no draft {args.id}")
    events = [event_json(e) for e in history(engine, args.id)]
    if args.json:
        print_json(events)
    else:
        for e in events:
            arrow = f"{e['from_status'] or ''} -> {e['to_status']}" if e["to_status"] else ""
            print(f"{e['at']}  {e['actor']:<30} {e['action']:<18} {arrow}  {e['note'] or ''}")
    return 0


def _draft_source(settings: Settings, engine: Any, draft_id: int, output: Path | None) -> int:
    """Write the contributor's original file (the Word file, or the email for a body draft)."""
    from core.models import Draft
    from core.storage import Store
    from ingest import spool
    from ingest.queries import inbound as inbound_of

    store = Store(settings.storage_dir)
    with reading(engine) as s:
        d = s.get(Draft, draft_id)
        if d is None:
            raise CliError(f"Không có bài số {draft_id} / no draft {draft_id}")
        inbound = inbound_of(s, d.inbound_id) if d.inbound_id else None
    if d.source_sha256:
        data = store.get("documents", d.source_sha256)
        suffix = Path(d.source_file or "").suffix.lower() if d.source_file else ""
    elif inbound is not None:
        data, suffix = spool.read(store, inbound.raw_sha256), ".eml"
    else:
        raise CliError(f"Bài số {draft_id} không còn tệp gốc / draft {draft_id} has no original file")
    # The sender's file name is never a path: the default name is the tracking code.
    target = output or Path(f"{d.tracking_code}{suffix if suffix.isascii() and len(suffix) <= 6 else ''}")
    target.write_bytes(data)
    print(f"Đã ghi tệp gốc của bài {d.tracking_code} ({d.source_file or 'thư gốc'}) vào {target}")
    return 0
