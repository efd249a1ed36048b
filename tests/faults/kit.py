"""What the fault tests share (plain module, no pytest here): a real `toasoan worker` process that can
be killed, the waits, and the figures each test prints for the README's table."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import func, select

from core.db import reading
from core.models import Draft, OutboxMail, OutboxStatus
from ingest.models import InboundMessage
from tests.servers import Message, SmtpSink, _foreground_cmd

T = TypeVar("T")

# Waits end on the event; the deadline only turns a hang into a failure (far beyond a loaded machine).
HANG_SECONDS = 600.0


def wait_until(check: Callable[[], T], what: str, timeout: float = HANG_SECONDS, every: float = 0.1) -> T:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"{what}: not after {timeout:g} s (a hang)")
        time.sleep(every)


class WorkerProcess:
    """`toasoan worker` as its own process, as systemd runs it; its log goes to a file."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.env = {**os.environ, **(env or {})}
        self.log = config.parent / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        cmd = [sys.executable, "-m", "toasoan.cli", "--config", str(self.config), "worker"]
        with self.log.open("ab") as out:
            out.write(f"---- start {self.starts + 1}\n".encode())
            out.flush()
            # pdeathsig: a worker never outlives a test process that was killed itself
            self.proc = subprocess.Popen(
                _foreground_cmd(cmd), cwd=self.config.parent, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> float:
        """SIGKILL: no handler runs, nothing is released or flushed (a power cut, the OOM killer).
        Returns the moment (time.monotonic) the process was gone."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        return time.monotonic()

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM, the clean stop; SIGKILL if it does not end. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def this_run_log(self) -> str:
        """The log of the current (last) start."""
        return self.log_text().rsplit(f"---- start {self.starts}\n", 1)[-1]

    def wait_for_log(self, needle: str, timeout: float = HANG_SECONDS) -> float:
        """Wait until this start's log has `needle` (the worker must stay alive); returns the seconds waited."""
        began = time.monotonic()

        def seen() -> bool:
            if not self.alive():
                raise AssertionError(
                    f"the worker ended (code {self.proc and self.proc.returncode}):\n" + self.this_run_log()[-3000:]
                )
            return needle in self.this_run_log()

        wait_until(seen, f"worker log line {needle!r}", timeout)
        return time.monotonic() - began

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def counts(engine: Engine) -> dict[str, int]:
    """Rows that matter to the fault tests: inbound messages, drafts, mail queued and sent."""
    with reading(engine) as s:
        return {
            "inbound": s.exec(select(func.count()).select_from(InboundMessage)).one(),
            "drafts": s.exec(select(func.count()).select_from(Draft)).one(),
            "outbox": s.exec(select(func.count()).select_from(OutboxMail)).one(),
            "sent": s.exec(
                select(func.count()).select_from(OutboxMail).where(OutboxMail.status == OutboxStatus.succeeded)
            ).one(),
        }


def receipts_by_reply(sink: SmtpSink) -> dict[str, int]:
    """Emails the SMTP server received, counted per message they answer (In-Reply-To)."""
    return dict(Counter(_answers(m) for m in list(sink.messages)))


# A doubled mail is put down to a kill only if that kill came this soon after the server took the
# first copy (the sender writes its mark microseconds after the "250"; seconds allow for a loaded machine).
KILL_AFTER_ACCEPT_SECONDS = 2.0


def doubles_not_explained_by_a_kill(messages: list[Message], deaths: list[float]) -> list[str]:
    """The mails the server received more than once for another reason than the one SMTP itself
    leaves open (RFC 1047): the sender killed after the server accepted a mail and before the sender
    could note it. Such a double is the same mail again (same Message-ID and body), its first copy is
    the last mail the server took before a kill, that kill came within KILL_AFTER_ACCEPT_SECONDS, and
    one kill explains at most one double. Returns one line per double that is not so explained."""
    received = sorted(messages, key=lambda m: m.received_at)
    copies: dict[str, list[Message]] = {}
    for m in received:
        copies.setdefault(_answers(m), []).append(m)
    unexplained: list[str] = []
    used: set[float] = set()
    for key, same in copies.items():
        if len(same) > 1:
            death, why = _why_doubled(same, received, deaths, used)
            if why:
                unexplained.append(f"{key}: {why}")
            else:
                used.add(death)
    return unexplained


def _parsed(m: Message) -> EmailMessage:
    return email.message_from_bytes(m.raw, _class=EmailMessage, policy=default)


def _text(m: EmailMessage) -> str:
    body = m.get_body(("plain",))
    return "" if body is None else str(body.get_content())


def _answers(m: Message) -> str:
    """The message a mail answers (In-Reply-To), else its own Message-ID."""
    parsed = _parsed(m)
    return str(parsed.get("In-Reply-To") or parsed.get("Message-ID"))


def _why_doubled(
    same: list[Message], received: list[Message], deaths: list[float], used: set[float]
) -> tuple[float, str]:
    """(the kill that explains these copies, "") or (0, why none does)."""
    if len(same) != 2:
        return 0.0, f"{len(same)} copies"
    first, second = (_parsed(m) for m in same)
    if first["Message-ID"] != second["Message-ID"] or _text(first) != _text(second):
        return 0.0, "not the same mail twice"
    taken = same[0].received_at
    death = next((d for d in deaths if d >= taken), None)
    if death is None:
        return 0.0, "no kill after its first copy"
    if death - taken > KILL_AFTER_ACCEPT_SECONDS:
        return 0.0, f"the next kill came {death - taken:.2f} s after the first copy"
    if any(taken < m.received_at <= death for m in received):
        return 0.0, "another mail went between its first copy and the kill"
    if death in used:
        return 0.0, "that kill already explains another double"
    return death, ""


def smtp_options(sink: SmtpSink) -> dict[str, Any]:
    return {"host": sink.host, "port": sink.port, "security": sink.security, "ca_file": sink.cert}


def append_settings(config: Path, text: str) -> None:
    with config.open("a", encoding="utf-8") as f:
        f.write("\n" + text.strip() + "\n")


def figures(name: str, **values: Any) -> None:
    """Print a test's measured figures (and add them to $TOASOAN_FAULT_FIGURES, a JSON-lines file, if
    set): the README's table is made from these."""
    line = json.dumps({"scenario": name, **values}, ensure_ascii=False)
    print(f"FIGURES {line}")
    target = os.environ.get("TOASOAN_FAULT_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(line + "\n")
