"""Latency: from a contributor's SMTP hand-off to a draft the editors can see.

The worker (`toasoan --config ... worker`, a subprocess as in production) idles on a real Dovecot user.
N times, one submission goes through the SMTP->LMTP bridge (smtplib's send returning is the hand-off)
and the database is polled until the draft is there. The baseline, measured on the same deliveries,
is a bare imapclient IDLE connection on the same mailbox: the moment Dovecot wakes it (Dovecot waits
0.5 s before it notifies, so nothing IDLE-driven can be faster). Printed: median and p90 of both, and
the ratio of the medians. Target (issue #2): median ≤ 1.5 s.

    .venv/bin/python -m bench.ingest_latency [--n 20] [--quick]
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import (
    RESULTS_DIR,
    BenchError,
    Submissions,
    load_before,
    median,
    parser,
    percentile,
    print_table,
    verdict,
    write_result,
)
from bench.summary import headline

NAME = "ingest_latency"
TARGET_MEDIAN = 1.5  # seconds
DRAFT_TIMEOUT = 120.0  # only catches a hang: the figures are the measured latencies
POLL = 0.005  # database poll interval (s): small against the figures measured


class IdleWatch:
    """A bare IDLE connection that stamps (time.perf_counter) every EXISTS Dovecot sends it."""

    def __init__(self, user: Any) -> None:
        self._client = user.imap()
        self._client.select_folder("INBOX", readonly=True)
        self._stamps: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="idle-watch", daemon=True)
        self._thread.start()
        if not self._ready.wait(120):
            raise BenchError("the IDLE baseline connection did not start")

    def _loop(self) -> None:
        c = self._client
        c.idle()
        self._ready.set()
        try:
            while not self._stop.is_set():
                responses = c.idle_check(timeout=0.05)
                now = time.perf_counter()
                if any(len(r) >= 2 and r[1] == b"EXISTS" for r in responses):
                    with self._lock:
                        self._stamps.append(now)
        finally:
            c.idle_done()

    def first_after(self, t: float, timeout: float = 120.0) -> float | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                later = [s for s in self._stamps if s >= t]
            if later:
                return later[0]
            time.sleep(0.005)
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self._client.logout()
        except Exception:  # a last goodbye to a throwaway server
            self._client.shutdown()


def start_worker(config: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`toasoan --config FILE worker` as in production (its own interpreter, its own GIL)."""
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "toasoan.cli", "--config", str(config), "worker"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    finally:
        log.close()


def wait_for_draft(engine: Any, message_id: str, proc: subprocess.Popen[bytes], log_path: Path) -> float:
    """Poll the database until a draft of this Message-ID is visible; its perf_counter time."""
    from sqlmodel import select

    from core.db import reading
    from core.models import Draft
    from ingest.models import InboundMessage

    end = time.monotonic() + DRAFT_TIMEOUT
    while time.monotonic() < end:
        with reading(engine) as s:
            found = s.exec(select(Draft.id).where(Draft.message_id == message_id)).first()
            if found is None:
                row = s.exec(select(InboundMessage).where(InboundMessage.message_id == message_id)).first()
                if row is not None and row.status not in ("received", "accepted"):
                    raise BenchError(f"{message_id} ended {row.status}/{row.reason}: {row.detail}")
        if found is not None:
            return time.perf_counter()
        if proc.poll() is not None:
            raise BenchError(f"the worker exited with code {proc.returncode}:\n{_tail(log_path)}")
        time.sleep(POLL)
    raise BenchError(f"no draft for {message_id} after {DRAFT_TIMEOUT:g} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run(*, n: int | None = None, quick: bool = False, results_dir: Path = RESULTS_DIR) -> dict[str, Any]:
    from tests import servers
    from tests.appkit import open_app, write_settings

    n = n or (3 if quick else 20)
    load = load_before()
    warmup = 1 if quick else 2  # starts the conversion workers; not counted
    messages = Submissions()
    rnd = random.Random(7)
    samples: list[dict[str, float]] = []
    print(f"{NAME}: {n} deliveries (+{warmup} warm-up) through SMTP -> LMTP -> Dovecot -> worker")
    with (
        servers.dovecot() as server,
        servers.lmtp_bridge(server) as bridge,
        tempfile.TemporaryDirectory(prefix="toasoan-bench-") as tmp,
    ):
        user = servers.new_mail_user(server, bridge)
        workdir = Path(tmp)
        env_name = f"TOASOAN_BENCH_IMAP_{secrets.token_hex(4).upper()}"
        config = write_settings(
            workdir,
            mailbox=user.mailbox_settings(env_name, folder="INBOX"),
            database_url=f"sqlite:///{workdir / 'toasoan.db'}",
        )
        _settings, engine = open_app(config)  # migrates before the worker starts
        log_path = workdir / "worker.log"
        proc = start_worker(config, {**os.environ, env_name: user.password}, log_path)
        # The baseline idles on a twin mailbox that gets the same message the same way: in the worker's
        # own INBOX a message the worker moves out quickly may never be announced to a third connection
        # (Dovecot batches its notifications), and the baseline would wait forever.
        twin = servers.new_mail_user(server, bridge)
        watch: IdleWatch | None = None
        try:
            watch = IdleWatch(twin)
            for i in range(warmup + n):
                raw = messages.make(i)
                mid = messages.message_id(i)
                sent = time.perf_counter()
                user.deliver(raw)
                handoff = time.perf_counter()
                twin_sent = time.perf_counter()
                twin.deliver(raw)
                drafted = wait_for_draft(engine, mid, proc, log_path)
                woke = watch.first_after(twin_sent)
                if woke is None:
                    raise BenchError(f"the IDLE baseline was never woken for delivery {i}")
                if i >= warmup:
                    # The baseline counts from the start of its send: Dovecot may announce the message
                    # before smtplib returns, so from the hand-off it could come out at or below zero.
                    samples.append({"send": handoff - sent, "draft": drafted - handoff, "idle": woke - twin_sent})
                # Let the worker finish (MOVE) and go back to IDLE; jitter so no phase locks in.
                time.sleep(0.8 + rnd.random() * 0.4)
        finally:
            if watch is not None:
                watch.close()
            servers.stop_child(proc, timeout=20)
            engine.dispose()
    draft = [s["draft"] for s in samples]
    idle = [s["idle"] for s in samples]
    figures = {
        "draft_median": median(draft),
        "draft_p90": percentile(draft, 90),
        "draft_max": max(draft),
        "idle_median": median(idle),
        "idle_p90": percentile(idle, 90),
        "send_median": median([s["send"] for s in samples]),
    }
    ratio = figures["draft_median"] / figures["idle_median"]
    met = figures["draft_median"] <= TARGET_MEDIAN
    print_table(
        f"Hand-off -> visible, {n} deliveries (seconds)",
        ["what", "median", "p90", "max"],
        [
            ["toasoan worker: draft in the database", figures["draft_median"], figures["draft_p90"], max(draft)],
            ["baseline: bare IDLE connection woken", figures["idle_median"], figures["idle_p90"], max(idle)],
        ],
    )
    print_table(
        "Targets",
        ["figure", "measured", "target", "verdict"],
        [
            ["median hand-off -> draft (s)", figures["draft_median"], f"≤ {TARGET_MEDIAN:g}", verdict(met)],
            ["draft median / IDLE median", ratio, "-", "(for reading)"],
        ],
    )
    print(f"  SMTP send itself: median {figures['send_median'] * 1000:.0f} ms (before the hand-off)")
    result = {
        "quick": quick,
        "load_average_before": load,
        "n": n,
        "warmup": warmup,
        "samples": samples,
        **figures,
        "ratio": ratio,
        "targets": {"draft_median": TARGET_MEDIAN},
        "met": {"draft_median": met},
        "headline": [
            headline(
                NAME,
                "hand-off → draft, median",
                figures["draft_median"],
                "s",
                f"≤ {TARGET_MEDIAN:g} s",
                met,
                baseline="bare IDLE",
                baseline_value=figures["idle_median"],
                backend="sqlite",
            ),
        ],
    }
    write_result(results_dir, NAME, result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=None, help="timed deliveries (default 20, quick 3)")
    args = p.parse_args(argv)
    try:
        run(n=args.n, quick=args.quick, results_dir=args.results)
    except BenchError as exc:
        print(f"\n{NAME}: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
