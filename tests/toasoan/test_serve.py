"""`toasoan serve`: the review UI in its server processes, as `make run` and production start it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.appkit import write_settings
from tests.servers import HOST, free_port, pid_alive, wait_port
from toasoan.cli import main


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(c) for c in task.read_text().split()]
    return out


def _listening(port: int) -> int:
    """Sockets in LISTEN state on 127.0.0.1:port (/proc/net/tcp: address 0100007F, state 0A)."""
    local = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == local and row.split()[3] == "0A")


def test_serve_runs_the_ui_in_its_worker_processes_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = write_settings(tmp_path)  # [review] workers defaults to 2
    port = free_port()
    cmd = [sys.executable, "-m", "toasoan.cli", "--config", str(config), "serve", "--host", HOST, "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_port(port, timeout=60, proc=proc)
        deadline = time.monotonic() + 120  # only catches a hang
        while _listening(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listening(port) == 2  # one socket per server process; the kernel spreads connections
        workers = _children(proc.pid)
        for _ in range(20):
            r = httpx.get(f"http://{HOST}:{port}/login", timeout=10)
            assert r.status_code == 200 and "Đăng nhập" in r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert f"http://{HOST}:{port}/" in err.decode()
    deadline = time.monotonic() + 120  # ends when they are gone; the deadline only catches a hang
    while any(pid_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in workers)  # no server process left behind


def test_serve_refuses_a_port_another_server_listens_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings(tmp_path)
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a running `toasoan serve` would
        other.bind((HOST, 0))
        other.listen()
        port = other.getsockname()[1]
        assert main(["--config", str(config), "serve", "--host", HOST, "--port", str(port)]) == 1
    assert f"cổng {HOST}:{port} đang được dùng / port in use" in capsys.readouterr().err
