"""The real CLI in a child process whose stderr is a pseudo-terminal (python's pty) or a pipe: what a
person at a terminal sees, and what a script or a log gets (plain module; no pytest here)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path

CLI = [sys.executable, "-m", "toasoan.cli"]


@dataclass
class Run:
    out: str  # stdout (always a pipe)
    err: str  # what stderr received, terminal or pipe
    code: int


def run_cli(config: Path, *args: str, terminal: bool) -> Run:
    """The CLI with stdout on a pipe and stderr on a pseudo-terminal (terminal=True) or a pipe."""
    argv = [*CLI, "--config", str(config), *args]
    if not terminal:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        return Run(done.stdout, done.stderr, done.returncode)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal 120 wide
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = bytearray()
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal's last end
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=600)
    return Run(out, seen.decode(errors="replace"), code)
