"""`toasoan ingest [--once]`, `toasoan worker` and `toasoan serve [--host H] [--port N]`: the
long-running processes (the mail worker, the review UI), and one round of intake for scripts."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from core.settings import Settings, check_serving
from toasoan.cli_common import open_engine


def add_ingest_commands(sub: Any) -> None:
    """`ingest` and `worker`."""
    ing = sub.add_parser(
        "ingest",
        help="lấy thư từ hộp thư và tạo bài chờ biên tập",
        epilog="Mã thoát / exit codes: 0 xong / done; 2 cài đặt / settings; 3 không tới được hộp thư / mailbox"
        " unreachable; 4 cơ sở dữ liệu / database; 7 thư mục bị máy chủ từ chối / a folder refused"
        " (processed_folder).",
    )
    ing.add_argument("--once", action="store_true", help="một lượt rồi thoát")
    ing.set_defaults(func=cmd_ingest)

    sub.add_parser("worker", help="chạy liên tục: IDLE/quét định kỳ, gửi thư").set_defaults(func=cmd_worker)


def add_serve_command(sub: Any) -> None:
    serve = sub.add_parser("serve", help="chạy giao diện biên tập")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from toasoan.worker import run_once, run_worker

    if not args.once:
        return run_worker(settings, open_engine(settings))
    report = run_once(settings, open_engine(settings))
    print(
        f"Đã kiểm tra {report.listed} thư, lưu mới {report.stored}, trùng {report.duplicates}, "
        f"xử lý {report.processed}, chuyển thư mục {report.acked}.",
        file=sys.stderr,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from toasoan.worker import run_worker

    return run_worker(settings, open_engine(settings))


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
    open_engine(settings).dispose()  # runs the migrations
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
    # settings) lives as long as the process: frozen out of the cyclic collector's sight, a full
    # collection (during which the process serves nothing) no longer walks it (bench/README.md).
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
