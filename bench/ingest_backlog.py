"""Backlog: a full Dovecot mailbox of ordinary submissions, ingested in one sweep.

1,000 submissions (each a one-page .docx with one 1600x1200 photo, ~150 KB) wait in a real Dovecot
INBOX. Two legs read the same messages:

- floor: fetch in batches with imapclient (BODY.PEEK[]), parse with the stdlib email parser, parse
  word/document.xml with lxml, make the photo's 1200 px web rendition with Pillow; one process, no
  database, no spool. What the work costs with nothing around it.
- toasoan: a fresh SQLite database and storage, `Ingestor(settings, engine).sweep(mailbox, full=True)`
  (what `toasoan ingest --once` runs), until every message is a draft.

Both legs run after one untimed warm-up fetch, so Dovecot's index cache and the page cache are in the
same state for both. Printed: messages/s of each and toasoan_time / floor_time, plus CPU ms per
message of each leg (toasoan: main process + conversion workers) and the sweep's phases, which say
where the time went even on a busy machine. Targets (issue #2): ≥ 25 messages/s and a ratio ≤ 1.5
on the 2-core machine. The run fails (no figures) unless every message became a draft.

    .venv/bin/python -m bench.ingest_backlog [--n 1000] [--quick] [--profile] [--ingest-workers N]
"""

from __future__ import annotations

import cProfile
import email
import email.policy
import io
import os
import pstats
import resource
import secrets
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    RESULTS_DIR,
    BenchError,
    Stopwatch,
    Submissions,
    check_all_drafts,
    draft_counts,
    load_before,
    parser,
    print_table,
    verdict,
    write_result,
)
from bench.summary import headline

NAME = "ingest_backlog"
TARGET_RATE = 25.0  # messages/s
TARGET_RATIO = 1.5
FETCH_BATCH = 25  # the intake's default [mailbox] fetch_batch: both legs fetch alike
WEB_WIDTH = 1200
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# ------------------------------------------------------------------------------------- mailbox
def fill_mailbox(user: Any, messages: Submissions, n: int) -> float:
    """APPEND n messages over one IMAP connection (MULTIAPPEND, 50 a command). Returns seconds."""
    from tests.servers import crlf

    watch = Stopwatch()
    client = user.imap()
    try:
        chunk: list[bytes] = []
        for i in range(n):
            chunk.append(crlf(messages.make(i)))
            if len(chunk) == 50 or i == n - 1:
                client.multiappend("INBOX", chunk)
                chunk = []
    finally:
        client.logout()
    return watch.seconds


def fetch_all(user: Any, handle: Callable[[bytes], object], batch: int = FETCH_BATCH) -> int:
    """Fetch every message of INBOX in batches (read-only, BODY.PEEK[]) and hand each to `handle`."""
    client = user.imap()
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        for i in range(0, len(uids), batch):
            resp = client.fetch(uids[i : i + batch], ["BODY.PEEK[]"])
            for uid in sorted(resp):
                handle(resp[uid][b"BODY[]"])
    finally:
        client.logout()
    return len(uids)


# --------------------------------------------------------------------------------------- floor
def floor_one(raw: bytes) -> tuple[int, int]:
    """The irreducible work of one submission: (paragraphs read, photos rendered)."""
    from lxml import etree

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    paragraphs = photos = 0
    for part in msg.iter_attachments():
        if not (part.get_filename() or "").lower().endswith(".docx"):
            continue
        data = part.get_content()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml_parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            root = etree.fromstring(z.read("word/document.xml"), xml_parser)
            paragraphs += sum(1 for p in root.iter(f"{_W}p") if "".join(p.itertext()))
            for name in z.namelist():
                if name.startswith("word/media/"):
                    web_rendition(z.read(name))
                    photos += 1
    return paragraphs, photos


def web_rendition(data: bytes, width: int = WEB_WIDTH) -> bytes:
    """At most `width` wide, JPEG quality 85, bicubic: what the intake makes for the portal."""
    from PIL import Image

    im: Image.Image = Image.open(io.BytesIO(data))
    if im.width > width:
        target = (width, max(1, round(im.height * width / im.width)))
        im.draft("RGB", target)  # libjpeg scaling where it helps (not for 1600 -> 1200)
        im = im.resize(target, Image.Resampling.BICUBIC)
    if im.mode != "RGB":
        im = im.convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def run_floor(user: Any) -> dict[str, Any]:
    seen = {"messages": 0, "paragraphs": 0, "photos": 0}

    def handle(raw: bytes) -> None:
        paragraphs, photos = floor_one(raw)
        seen["messages"] += 1
        seen["paragraphs"] += paragraphs
        seen["photos"] += photos

    cpu = CpuClock()
    watch = Stopwatch()
    fetch_all(user, handle)
    return {"seconds": watch.seconds, "cpu_seconds": cpu.seconds(), **seen}


class CpuClock:
    """CPU seconds (user + system) of this process, and of the children it waited for, since creation."""

    def __init__(self) -> None:
        self._self = _cpu(resource.RUSAGE_SELF)
        self._children = _cpu(resource.RUSAGE_CHILDREN)

    def seconds(self) -> float:
        return _cpu(resource.RUSAGE_SELF) - self._self

    def children_seconds(self) -> float:
        return _cpu(resource.RUSAGE_CHILDREN) - self._children


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _timed(method: Callable[..., Any], into: dict[str, float], key: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        watch = Stopwatch()
        try:
            return method(*args, **kwargs)
        finally:
            into[key] += watch.seconds

    return wrapper


# ------------------------------------------------------------------------------------- toasoan
def run_toasoan(
    user: Any, workdir: Path, n: int, profile_to: Path | None = None, ingest: dict[str, Any] | None = None
) -> dict[str, Any]:
    from ingest.mailbox import open_mailbox
    from ingest.service import Ingestor
    from ingest.word.pool import shutdown_pool
    from tests.appkit import open_app, write_settings

    env_name = f"TOASOAN_BENCH_IMAP_{secrets.token_hex(4).upper()}"
    os.environ[env_name] = user.password
    config = write_settings(
        workdir,
        mailbox=user.mailbox_settings(env_name, folder="INBOX"),
        database_url=f"sqlite:///{workdir / 'toasoan.db'}",
        ingest=ingest,
    )
    try:
        settings, engine = open_app(config)  # migrations: not part of the timing
        ingestor = Ingestor(settings, engine)
        # Phase clocks around the sweep's two later steps (fetch+spool+commit is the rest).
        phases = {"process": 0.0, "acknowledge": 0.0}
        ingestor.process_pending = _timed(ingestor.process_pending, phases, "process")  # type: ignore[method-assign]
        ingestor.transport._acknowledge = _timed(ingestor.transport._acknowledge, phases, "acknowledge")  # type: ignore[method-assign]
        profiler = cProfile.Profile() if profile_to else None
        cpu = CpuClock()
        watch = Stopwatch()
        if profiler:
            profiler.enable()
        try:
            mbox = open_mailbox(settings)
            try:
                report = ingestor.sweep(mbox, full=True)
            finally:
                mbox.close()
        finally:
            seconds = watch.seconds
            if profiler:
                profiler.disable()
            shutdown_pool()  # waits for the workers, so their CPU time is counted below
        cpu_main, cpu_workers = cpu.seconds(), cpu.children_seconds()
        if profiler and profile_to:
            profiler.dump_stats(profile_to)
            print(f"\ncProfile of the main process (workers are separate processes) → {profile_to}")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        counts = draft_counts(engine)
        engine.dispose()
    finally:
        os.environ.pop(env_name, None)
    check_all_drafts(counts, n, "toasoan leg")
    phases["fetch_spool_commit"] = seconds - phases["process"] - phases["acknowledge"]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_main + cpu_workers,
        "cpu_seconds_main": cpu_main,
        "cpu_seconds_workers": cpu_workers,
        "phases": phases,
        "listed": report.listed,
        "stored": report.stored,
        "processed": report.processed,
        "acked": report.acked,
        **counts,
    }


# ----------------------------------------------------------------------------------------- run
def run(
    *,
    n: int | None = None,
    quick: bool = False,
    results_dir: Path = RESULTS_DIR,
    profile: bool = False,
    ingest_workers: int | None = None,
) -> dict[str, Any]:
    from tests import servers

    n = n or (10 if quick else 1000)
    load = load_before()
    build = Stopwatch()
    messages = Submissions()
    sample = messages.make(0)
    print(f"{NAME}: {n} submissions of {len(sample) / 1000:.0f} KB (.docx with a 1600x1200 photo)")
    with servers.dovecot() as server, tempfile.TemporaryDirectory(prefix="toasoan-bench-") as tmp:
        user = servers.new_mail_user(server)
        append_seconds = fill_mailbox(user, messages, n)
        build_seconds = build.seconds
        print(f"  built and appended in {build_seconds:.1f} s (APPEND {append_seconds:.1f} s)")
        status = user.status()
        if status["messages"] != n:
            raise BenchError(f"the mailbox holds {status['messages']} messages, expected {n}")
        fetch_all(user, lambda raw: None)  # warm-up: same cache state for both legs
        print("  floor ...", flush=True)
        floor = run_floor(user)
        if floor["messages"] != n or floor["photos"] != n:
            raise BenchError(f"floor read {floor['messages']} messages and {floor['photos']} photos, expected {n}")
        print("  toasoan ...", flush=True)
        prof = results_dir / f"{NAME}.prof" if profile else None
        if prof:
            results_dir.mkdir(parents=True, exist_ok=True)
        ingest = {"workers": ingest_workers} if ingest_workers else None  # a what-if knob; default: the app's
        toasoan = run_toasoan(user, Path(tmp), n, prof, ingest)
        left = user.status()["messages"]
    ratio = toasoan["seconds"] / floor["seconds"]
    rate = n / toasoan["seconds"]
    floor_rate = n / floor["seconds"]
    met = {"rate": rate >= TARGET_RATE, "ratio": ratio <= TARGET_RATIO}
    print_table(
        f"Backlog of {n} submissions in Dovecot ({os.cpu_count()} cores)",
        ["leg", "seconds", "messages/s", "ms/message", "CPU ms/message"],
        [
            [
                "floor (imapclient + email + lxml + Pillow)",
                floor["seconds"],
                floor_rate,
                1000 / floor_rate,
                1000 * floor["cpu_seconds"] / n,
            ],
            [
                "toasoan sweep (spool + SQLite + drafts)",
                toasoan["seconds"],
                rate,
                1000 / rate,
                1000 * toasoan["cpu_seconds"] / n,
            ],
        ],
    )
    ph = toasoan["phases"]
    print(
        f"  toasoan phases: fetch+spool+commit {ph['fetch_spool_commit']:.1f} s, process {ph['process']:.1f} s, "
        f"acknowledge {ph['acknowledge']:.1f} s; CPU main {toasoan['cpu_seconds_main']:.1f} s, "
        f"conversion workers {toasoan['cpu_seconds_workers']:.1f} s"
    )
    cores = os.cpu_count() or 1
    cores_used = toasoan["cpu_seconds"] / toasoan["seconds"]
    ceiling = cores * n / toasoan["cpu_seconds"]
    cpu_ratio = toasoan["cpu_seconds"] / floor["cpu_seconds"]
    print(
        f"  toasoan kept {cores_used:.2f} of {cores} cores busy; at full use its CPU per message would allow "
        f"{ceiling:.1f} messages/s (the floor's CPU: {cores * n / floor['cpu_seconds']:.1f}); "
        f"CPU time toasoan/floor {cpu_ratio:.2f} (less sensitive to other load than wall time)"
    )
    print_table(
        "Targets",
        ["figure", "measured", "target", "verdict"],
        [
            ["toasoan messages/s", rate, f"≥ {TARGET_RATE:g}", verdict(met["rate"])],
            ["toasoan_time / floor_time", ratio, f"≤ {TARGET_RATIO:g}", verdict(met["ratio"])],
        ],
    )
    print(f"  drafts {toasoan['drafts']} / {n}; inbound {toasoan['inbound']}; left in INBOX {left}")
    result = {
        "quick": quick,
        "load_average_before": load,
        "n": n,
        "ingest_workers": ingest_workers,
        "cores_used": cores_used,
        "cpu_bound_messages_per_second": ceiling,
        "cpu_ratio": cpu_ratio,
        "message_bytes": len(sample),
        "build_seconds": build_seconds,
        "floor": floor,
        "toasoan": toasoan,
        "messages_per_second": rate,
        "floor_messages_per_second": floor_rate,
        "ratio": ratio,
        "left_in_inbox": left,
        "targets": {"messages_per_second": TARGET_RATE, "ratio": TARGET_RATIO},
        "met": met,
        "headline": [
            headline(
                NAME,
                "backlog: messages/s",
                rate,
                "msg/s",
                f"≥ {TARGET_RATE:g} msg/s",
                met["rate"],
                baseline="floor",
                baseline_value=floor_rate,
                backend="sqlite",
            ),
            headline(
                NAME,
                "backlog: time ÷ floor's time",
                ratio,
                "x",
                f"≤ {TARGET_RATIO:g}x",
                met["ratio"],
                baseline="floor",
                ratio=ratio,
                backend="sqlite",
            ),
        ],
    }
    write_result(results_dir, NAME, result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=None, help="submissions in the mailbox (default 1000, quick 10)")
    p.add_argument("--profile", action="store_true", help="cProfile the toasoan leg's main process")
    p.add_argument("--ingest-workers", type=int, default=None, help="what-if: [ingest] workers (threads = N + 1)")
    args = p.parse_args(argv)
    try:
        run(
            n=args.n,
            quick=args.quick,
            results_dir=args.results,
            profile=args.profile,
            ingest_workers=args.ingest_workers,
        )
    except BenchError as exc:
        print(f"\n{NAME}: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
