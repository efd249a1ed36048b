"""The `toasoan` command. Every subcommand is safe to run twice.

Exit codes: 0 success (a quarantined message is not a failure), 1 bad usage or not found,
2 configuration error (or a backup or restore refused), 3 mailbox unreachable, 4 database
unreachable, 5 a publish job failed (`publish --once`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from core.db import reading, redact
from core.formats import json_text
from core.settings import Settings, SettingsError, check_serving, default_config_path, load_settings
from ingest.mailbox import MailboxError
from publish.site.cli import add_parser as add_site_parser
from reports import cli as reports_cli
from toasoan.backup import add_backup_commands
from toasoan.cli_publish import add_publish_commands
from toasoan.cli_status import add_status_command

if TYPE_CHECKING:
    from ingest.diagnostics import Diagnostics
    from ingest.models import InboundMessage

log = logging.getLogger("toasoan")

EXIT_USAGE, EXIT_CONFIG, EXIT_MAILBOX, EXIT_DATABASE = 1, 2, 3, 4


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _print_json(data: Any) -> None:
    sys.stdout.write(json_text(data))


def _engine(settings: Settings) -> Any:
    from toasoan.database import DatabaseUnavailable, open_database

    try:
        return open_database(settings)
    except DatabaseUnavailable as exc:  # its message names the database without the password
        raise CliError(str(exc), EXIT_DATABASE) from None


# ------------------------------------------------------------------------------------ commands
def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from toasoan.worker import run_once, run_worker

    if not args.once:
        return run_worker(settings, _engine(settings))
    report = run_once(settings, _engine(settings))
    print(
        f"Đã kiểm tra {report.listed} thư, lưu mới {report.stored}, trùng {report.duplicates}, "
        f"xử lý {report.processed}, chuyển thư mục {report.acked}.",
        file=sys.stderr,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from toasoan.worker import run_worker

    return run_worker(settings, _engine(settings))


def cmd_inbox(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.models import InboundMessage
    from toasoan.views import inbound_json

    engine = _engine(settings)
    if args.inbox_cmd == "retry":
        from ingest.service import Ingestor, RetryError
        from ingest.word.pool import shutdown_pool

        try:
            row = Ingestor(settings, engine).retry(args.id)
        except RetryError as exc:  # not found, or not quarantined
            raise CliError(str(exc)) from exc
        finally:
            shutdown_pool()
        _deliver_quietly(settings, engine)
        if args.json:
            _print_json(inbound_json(row))
        else:
            print(f"Thư {row.id}: {row.status} {row.reason or ''} bài: {row.draft_ids}")
        return 0
    with reading(engine) as s:
        if args.inbox_cmd == "show":
            shown = s.get(InboundMessage, args.id)
            if shown is None:
                raise CliError(f"Không có thư số {args.id} / no inbound message {args.id}")
            row = shown
            data: Any = inbound_json(row)
            found = _diagnostics(settings, row)
            if args.json:
                _print_json({**data, "diagnostics": found.as_json()})
            else:
                for k, v in data.items():
                    print(f"{k}: {v}")
                _print_diagnostics(found)
            return 0
        q = select(InboundMessage).order_by(col(InboundMessage.id))
        if args.status:
            q = q.where(InboundMessage.status == args.status)
        rows = s.exec(q).all()
    if args.json:
        _print_json([inbound_json(r) for r in rows])
    else:
        for r in rows:
            print(f"{r.id:>5}  {r.status:<11} {r.reason or '':<20} {r.sender:<35} {r.subject}")
    return 0


def _diagnostics(settings: Settings, row: InboundMessage) -> Diagnostics:
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


def cmd_drafts(settings: Settings, args: argparse.Namespace) -> int:
    from core.drafts import images_of
    from core.models import Draft
    from toasoan.views import draft_detail_json, draft_json

    engine = _engine(settings)
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
            from publish.jobs import publications_in

            data = draft_detail_json(d, images, settings, publications_in(s, args.id))
            if args.json:
                _print_json(data)
            else:
                for k, v in data.items():
                    print(f"{k}: {v}")
            return 0
        q = select(Draft).order_by(col(Draft.id))
        if args.status:
            q = q.where(Draft.status == args.status)
        drafts = s.exec(q).all()
    if args.json:
        _print_json([draft_json(d, settings) for d in drafts])
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
    _deliver_quietly(settings, engine)
    if args.json:
        _print_json(draft_json(draft, settings))
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
        _print_json(events)
    else:
        for e in events:
            arrow = f"{e['from_status'] or ''} -> {e['to_status']}" if e["to_status"] else ""
            print(f"{e['at']}  {e['actor']:<30} {e['action']:<18} {arrow}  {e['note'] or ''}")
    return 0


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    from review.auth import AuthError, add_user, disable_user

    engine = _engine(settings)
    if args.users_cmd == "disable":
        try:
            user, ended = disable_user(engine, args.name)
        except AuthError as exc:
            raise CliError(str(exc)) from exc
        if args.json:
            _print_json({"username": user.username, "role": user.role, "active": user.active, "sessions_ended": ended})
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
    from review.models import User

    with reading(engine) as s:
        users = s.exec(select(User).order_by(col(User.username))).all()
    for u in users:
        print(f"{u.username:<20} {u.role:<8} {'' if u.active else '(khóa)'} {u.full_name}")
    return 0


def _ask_password() -> str:
    import getpass

    first = getpass.getpass("Mật khẩu: ")
    if getpass.getpass("Nhập lại: ") != first:
        raise CliError("Hai lần nhập mật khẩu không khớp / passwords differ")
    return first


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    check_serving(settings)
    host = args.host or settings.review.host
    port = args.port or settings.review.port
    busy = _port_taken(host, port)
    if busy is not None:
        # Checked here because the server's SO_REUSEPORT sockets would otherwise share the port with a
        # server already running there (another version, say) instead of failing.
        print(f"Lỗi: cổng {host}:{port} đang được dùng / port in use: {busy}", file=sys.stderr)
        return 1
    print(f"Giao diện biên tập: http://{host}:{port}/", file=sys.stderr)
    serve(settings, host=host, port=port)
    return 0


def _port_taken(host: str, port: int) -> OSError | None:
    """Why (host, port) cannot be listened on, or None when it is free."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # leftovers in TIME_WAIT are fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc
    return None


def serve(settings: Settings, *, host: str, port: int, factory: str = "toasoan.web:app_from_environment") -> None:
    """The review UI under uvicorn, in `[review] workers` processes: a Python process runs one thread
    at a time, so a second process is what lets pages use the second core.

    Each process builds its app from `factory` (an import string, read in each process; the benchmark
    names its own here), with the settings file passed on in $TOASOAN_CONFIG. The schema is brought
    up to date once, before the processes start, so they never race to migrate.

    Each process listens on its own SO_REUSEPORT socket, and the kernel spreads new connections over
    them. uvicorn's own `workers` share one socket, and whichever process wakes first accepts every
    waiting connection: 20 clients connecting at once all landed on one process in 2 runs of 6, which
    then served half as many pages while the other idled.
    """
    _engine(settings).dispose()  # runs the migrations
    os.environ["TOASOAN_CONFIG"] = str(settings.path)
    workers = max(1, settings.review.workers)
    if workers == 1:
        _serve_process(factory, host, port, reuse_port=False)
        return
    import multiprocessing
    import multiprocessing.connection
    import signal

    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_serve_process, args=(factory, host, port), kwargs={"reuse_port": True}, daemon=False)
        for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def stop(_signum: int, _frame: Any) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes the requests in flight

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        # One process gone means the service is not what it should be: stop the others too, so that
        # systemd (Restart=always) starts the whole service again.
        multiprocessing.connection.wait([p.sentinel for p in processes])
    finally:
        stop(signal.SIGTERM, None)
        for process in processes:
            process.join(timeout=30)


def _serve_process(factory: str, host: str, port: int, *, reuse_port: bool) -> None:
    """One server process (also run in a child process of `serve`: module level, importable)."""
    import gc
    import socket

    import uvicorn

    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        http="review.web.serving:HttpProtocol",  # TCP_NODELAY, whatever socket uvicorn is given
        log_level="warning",
        proxy_headers=True,
    )
    # The app now, rather than when uvicorn starts: what it loaded (FastAPI, SQLAlchemy, Jinja, the
    # settings) lives as long as the process, and frozen out of the cyclic collector's sight a full
    # collection took 3 ms instead of 105 ms, during which the process served nothing.
    config.load()
    gc.collect()
    gc.freeze()
    if not reuse_port:
        uvicorn.Server(config).run()
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    uvicorn.Server(config).run(sockets=[sock])


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """`make run`: demo accounts on a fresh database, and the address and logins printed."""
    from review.auth import add_user
    from review.models import User

    engine = _engine(settings)
    with reading(engine) as s:
        has_users = s.exec(select(User)).first() is not None
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


def _draft_source(settings: Settings, engine: Any, draft_id: int, output: Path | None) -> int:
    """Write the contributor's original file (the Word file, or the email for a body draft)."""
    from core.models import Draft
    from core.storage import Store
    from ingest import spool
    from ingest.models import InboundMessage

    store = Store(settings.storage_dir)
    with reading(engine) as s:
        d = s.get(Draft, draft_id)
        if d is None:
            raise CliError(f"Không có bài số {draft_id} / no draft {draft_id}")
        inbound = s.get(InboundMessage, d.inbound_id) if d.inbound_id else None
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


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    from core.models import OutboxMail
    from core.outbox import deliver_due
    from toasoan.views import outbox_json

    engine = _engine(settings)
    if args.outbox_cmd == "send":
        r = deliver_due(engine, settings)
        if settings.smtp is None:
            print("Chưa cấu hình [smtp]: thư vẫn chờ trong hàng đợi / no [smtp] section: mail stays queued")
        print(f"Đã gửi {r.sent}, chờ gửi lại {r.retrying}, thất bại {r.failed}.")
        return 0
    with reading(engine) as s:
        rows = s.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all()
    if args.json:
        _print_json([outbox_json(m, settings) for m in rows])
    else:
        for m in rows:
            print(f"{m.id:>5}  {m.status:<11} {m.kind:<18} {m.to_addr:<35} {m.subject}")
    return 0


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
    _engine(settings)
    print("Cơ sở dữ liệu đã cập nhật / database is up to date.")
    return 0


def _deliver_quietly(settings: Settings, engine: Any) -> None:
    from core.outbox import deliver_due

    try:
        deliver_due(engine, settings)
    except Exception as exc:  # sending is retried later; it never fails the command
        log.warning("outbox delivery failed: %s", exc)


# --------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="toasoan", description="Tòa soạn: tiếp nhận, biên tập, đăng bài cộng tác.")
    p.add_argument("--config", "-c", type=Path, default=None, help="settings.toml (default: $TOASOAN_CONFIG)")
    p.add_argument("--verbose", "-v", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="lấy thư từ hộp thư và tạo bài chờ biên tập")
    ing.add_argument("--once", action="store_true", help="một lượt rồi thoát")
    ing.set_defaults(func=cmd_ingest)

    sub.add_parser("worker", help="chạy liên tục: IDLE/quét định kỳ, gửi thư").set_defaults(func=cmd_worker)

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

    serve = sub.add_parser("serve", help="chạy giao diện biên tập")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("demo", help="tài khoản mẫu cho make run").set_defaults(func=cmd_demo)

    outbox = sub.add_parser("outbox", help="thư gửi đi")
    osub = outbox.add_subparsers(dest="outbox_cmd", required=True)
    ol = osub.add_parser("list")
    ol.add_argument("--json", action="store_true")
    osub.add_parser("send", help="gửi ngay các thư đến hạn")
    outbox.set_defaults(func=cmd_outbox)

    add_publish_commands(sub)
    add_status_command(sub)
    add_backup_commands(sub)

    seed = sub.add_parser("seed", help="đặt thư mẫu vào Maildir (make run)")
    seed.add_argument("--force", action="store_true")
    seed.set_defaults(func=cmd_seed)

    db = sub.add_parser("db", help="cơ sở dữ liệu")
    db.add_argument("db_cmd", choices=["upgrade"])
    db.set_defaults(func=cmd_db)

    add_site_parser(sub, _engine)  # toasoan site rebuild
    reports_cli.register(sub, _engine)
    return p


def _configure_logs(fmt: str, database_url: str) -> None:
    """The log format of the settings, with the ids of the work and without the database password.
    Only the stderr handler basicConfig made: a host's own handlers (pytest's capture) keep theirs."""
    from core.logs import configure

    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            configure(handler, fmt, database_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema checks run on every command
    func: Callable[[Settings, argparse.Namespace], int] = args.func
    database_url = ""
    try:
        settings = load_settings(args.config or default_config_path())
        database_url = settings.database_url
        _configure_logs(settings.logging.format, database_url)
        return func(settings, args)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except MailboxError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_MAILBOX
    except SQLAlchemyError as exc:
        print(f"Lỗi cơ sở dữ liệu / database error: {redact(str(exc), database_url)}", file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
