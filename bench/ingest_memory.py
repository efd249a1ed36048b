"""Memory: peak RSS of an ingest run for a 25 MB attachment and for zip bombs.

Each case is one `toasoan --config FILE ingest --once` in a fresh subprocess against a Maildir holding
one message. While it runs, the process tree (the main process, the conversion workers and anything
they start) is sampled from /proc every few ms: VmHWM, each process's own lifetime peak (so any sample
taken before the process exits is exact), and the sum of VmRSS (what the tree holds at once).
Not ru_maxrss: on Linux a fork+exec'd child's ru_maxrss (RUSAGE_SELF in it, RUSAGE_CHILDREN or wait4
in its parent) starts at the parent's RSS at fork time, so it reports the spawner's size, not its own.

Cases: `tiny` (a one-page .docx, no photo: the baseline of the same command), `attachment_25mb`
(a ~25 MB .docx of big photos, just under the 25 MiB document limit so it is really converted),
`zip_bomb_1gb` (document.xml declared 1 GiB), and `xml_within_limits` (extra: a ~190 MiB
document.xml that compresses under the ratio guard and under the 200 MiB total, so the guards let it
through to the parser). Target (issue #2): peak < 300 MB for the 25 MB attachment and the zip bomb.

    .venv/bin/python -m bench.ingest_memory [--quick] [--keep]
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import (
    RESULTS_DIR,
    BenchError,
    draft_counts,
    jpeg_with_comment,
    load_before,
    parser,
    print_table,
    tiny_submission,
    verdict,
    write_result,
)
from bench.summary import headline

NAME = "ingest_memory"
TARGET_MB = 300.0
SAMPLE_SECONDS = 0.002
TREE_SECONDS = 0.02
RUN_TIMEOUT = 300.0
_MB = 1024 * 1024


# ------------------------------------------------------------------------------------- messages
def big_docx(target_bytes: int, *, photo_side: tuple[int, int] = (4000, 3000)) -> bytes:
    """A one-page article with big phone photos (each its own sha256) up to about target_bytes:
    as many full-size ones as fit, then quarter-size ones to fill the rest."""
    from docx import Document
    from docx.shared import Cm

    from tests.fixtures.intake.build import BODY, BYLINE, LEAD, docx, photo

    doc = Document(io.BytesIO(docx("Hội nghị tổng kết công tác năm 2026", BODY, lead=LEAD, byline=BYLINE)))
    size, count = 40_000, 0
    for width, height in (photo_side, (photo_side[0] // 2, photo_side[1] // 2)):
        base = photo(width, height, seed=5, quality=95)
        while size + len(base) + 64 <= target_bytes:
            doc.add_picture(io.BytesIO(jpeg_with_comment(base, f"photo {count}".encode())), width=Cm(14))
            size += len(base) + 64
            count += 1
    if count == 0:
        raise BenchError(f"no {photo_side} photo fits in {target_bytes} bytes")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def bomb_docx(declared: int, *, level: int = 9) -> bytes:
    """A .docx whose document.xml inflates to `declared` bytes (declared in the zip directory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(_DOC_HEAD)
            chunk = b"A" * _MB
            left = declared - len(_DOC_HEAD) - len(_DOC_TAIL)
            while left > 0:
                fh.write(chunk[: min(left, _MB)])
                left -= _MB
            fh.write(_DOC_TAIL)
    return out.getvalue()


def dense_xml_docx(declared: int, *, entropy_bytes: int = 11_000) -> bytes:
    """A .docx with a huge but honest-looking document.xml that deflates ~80x: under the per-member
    ratio guard (100x) and, for declared < 200 MiB, under the total-size guard. Random hex in each
    MiB keeps the ratio down; the rest is ordinary repeated paragraphs."""
    para = (
        "<w:p><w:r><w:t>Các đảng viên đã thảo luận sôi nổi, đóng góp nhiều ý kiến thiết thực về việc "
        "nâng cao chất lượng tham mưu.</w:t></w:r></w:p>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(_DOC_HEAD)
            written = len(_DOC_HEAD) + len(_DOC_TAIL)
            while written < declared:
                noise = b"<w:p><w:r><w:t>" + os.urandom(entropy_bytes // 2).hex().encode() + b"</w:t></w:r></w:p>"
                block = noise + para * ((_MB - len(noise)) // len(para))
                block = block[: declared - written]
                fh.write(block)
                written += len(block)
            fh.write(_DOC_TAIL)
    return out.getvalue()


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOC_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}"><w:body>'.encode()
_DOC_TAIL = b"</w:body></w:document>"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)


def message_with(docx_data: bytes, name: str, n: int) -> bytes:
    from tests.fixtures.intake.build import DOCX_TYPE, VP, email_message

    return email_message(
        subject=f"[BÀI CỘNG TÁC] Tin hội nghị tổng kết ({name})",
        sender=VP,
        body="Kính gửi Ban Biên tập,\nChi bộ gửi tin kèm ảnh.\nTrân trọng.",
        attachments=[(f"tin-{name}.docx", DOCX_TYPE, docx_data)],
        message_id=f"memory-{name}-{n}@vanphong.tinhuy.example",
    )


# ------------------------------------------------------------------------------------- sampling
def _proc_table() -> dict[int, int]:
    """pid -> ppid for every live process."""
    table: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        table[int(entry.name)] = int(fields[1])
    return table


def _descendants(root: int) -> list[int]:
    table = _proc_table()
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in table.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


def _status_kb(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) in kB, or None once the process is gone (or a zombie, which has no memory)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0])
    if "VmHWM" not in values:
        return None
    return values["VmHWM"], values["VmRSS"]


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def _label(cmdline: str) -> str:
    if "worker_main" in cmdline:
        return "conversion worker"
    return Path(cmdline.split(" ", 1)[0]).name or "?"


@dataclass
class TreeSampler:
    """Samples a process tree's memory in a thread until stopped."""

    root: int
    peaks_kb: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM
    labels: dict[int, str] = field(default_factory=dict)
    total_rss_peak_kb: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        # Reading a few status files takes ~0.1 ms, walking /proc for the tree a few ms: re-walk less
        # often, so a process that peaks and exits quickly (a worker out of memory) is still seen.
        pids: list[int] = [self.root]
        walked = 0.0
        root_cmdline = _cmdline(self.root)
        while not self._stop.is_set():
            if time.monotonic() - walked >= TREE_SECONDS:
                pids = _descendants(self.root)
                walked = time.monotonic()
            total = 0
            for pid in pids:
                if pid not in self.labels:
                    cmdline = _cmdline(pid)
                    if cmdline is None or (pid != self.root and cmdline == root_cmdline):
                        continue  # forked, not yet exec'd: the main's pages, shared copy-on-write
                    self.labels[pid] = "main" if pid == self.root else _label(cmdline)
                status = _status_kb(pid)
                if status is None:
                    continue
                hwm, rss = status
                self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), hwm)
                total += rss
            self.total_rss_peak_kb = max(self.total_rss_peak_kb, total)
            self.samples += 1
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def peak_mb(self, label: str) -> float:
        kb = [v for pid, v in self.peaks_kb.items() if self.labels.get(pid) == label]
        return max(kb, default=0) / 1024

    def count(self, label: str) -> int:
        return sum(1 for v in self.labels.values() if v == label)


# ----------------------------------------------------------------------------------------- run
def ingest_once(message: bytes, workdir: Path) -> dict[str, Any]:
    """One `toasoan ingest --once` on a Maildir holding `message`, in a fresh subprocess, measured."""
    from tests.appkit import open_app, write_settings

    maildir = workdir / "maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / f"{time.time_ns()}.bench.eml").write_bytes(message)
    config = write_settings(workdir, database_url=f"sqlite:///{workdir / 'toasoan.db'}")
    log_path = workdir / "ingest.log"
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "toasoan.cli", "--config", str(config), "ingest", "--once"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    try:
        code = proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise BenchError(f"ingest --once ran past {RUN_TIMEOUT:g} s") from None
    finally:
        sampler.stop()
    seconds = time.perf_counter() - started
    if code != 0:
        raise BenchError(f"ingest --once exited {code}:\n{log_path.read_text(errors='replace')[-2000:]}")
    _settings, engine = open_app(config)
    counts = draft_counts(engine)
    engine.dispose()
    main_mb = sampler.peak_mb("main")
    worker_mb = sampler.peak_mb("conversion worker")
    own = ("main", "conversion worker")
    others = [v / 1024 for pid, v in sampler.peaks_kb.items() if sampler.labels[pid] not in own]
    return {
        "seconds": seconds,
        "main_peak_mb": main_mb,
        "worker_peak_mb": worker_mb,
        "workers_seen": sampler.count("conversion worker"),
        "other_peak_mb": max(others, default=0.0),
        "others": sorted({label for label in sampler.labels.values() if label not in own}),
        "max_process_mb": max([main_mb, worker_mb, *others]),
        "tree_rss_peak_mb": sampler.total_rss_peak_kb / 1024,
        "samples": sampler.samples,
        **counts,
    }


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    expect: str  # "draft" or a quarantine reason
    target: bool  # the issue's < 300 MB applies


def build_cases(quick: bool) -> list[tuple[Case, bytes]]:
    big_target = 2_500_000 if quick else 25_800_000  # ~25 MB, under the 25 MiB max_document_bytes
    side = (2000, 1500) if quick else (4000, 3000)
    bomb = 256 * _MB if quick else 1024 * _MB
    dense = 24 * _MB if quick else 190 * _MB
    big = big_docx(big_target, photo_side=side)
    return [
        (Case("tiny", "one-page .docx, no photo (baseline)", "draft", False), tiny_submission(1)),
        (
            Case("attachment_25mb", f".docx of big photos, {len(big) / 1e6:.1f} MB", "draft", True),
            message_with(big, "anh-lon", 2),
        ),
        (
            Case("zip_bomb_1gb", f"document.xml declared {bomb // _MB} MiB", "too_large", True),
            message_with(bomb_docx(bomb, level=1 if quick else 9), "bom", 3),
        ),
        (
            Case("xml_within_limits", f"document.xml {dense // _MB} MiB, passes the zip guards", "any", False),
            message_with(dense_xml_docx(dense), "xml-lon", 4),
        ),
    ]


def _outcome(counts: dict[str, Any]) -> str:
    if counts["drafts"]:
        return f"{counts['drafts']} draft"
    return ", ".join(counts["inbound"]) or "nothing stored"


def run(*, quick: bool = False, results_dir: Path = RESULTS_DIR, keep: bool = False) -> dict[str, Any]:
    print(f"{NAME}: building messages ...", flush=True)
    load = load_before()
    cases = build_cases(quick)
    measured: dict[str, dict[str, Any]] = {}
    for case, message in cases:
        print(f"  {case.name}: {len(message) / 1e6:.1f} MB message ...", flush=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"toasoan-bench-{case.name}-"))
        try:
            m = ingest_once(message, workdir)
        finally:
            if not keep:
                shutil.rmtree(workdir, ignore_errors=True)
        m["message_bytes"] = len(message)
        m["outcome"] = _outcome(m)
        if case.expect == "draft" and m["drafts"] != 1:
            raise BenchError(f"{case.name}: expected one draft, got {m['inbound']} {m['examples']}")
        if case.expect not in ("draft", "any") and f"quarantined/{case.expect}" not in m["inbound"]:
            raise BenchError(f"{case.name}: expected quarantined/{case.expect}, got {m['inbound']} {m['examples']}")
        measured[case.name] = m
    base = measured["tiny"]
    rows = []
    met: dict[str, bool] = {}
    for case, _ in cases:
        m = measured[case.name]
        ok = m["max_process_mb"] < TARGET_MB
        if case.target:
            met[case.name] = ok
        rows.append(
            [
                case.name,
                m["outcome"],
                m["main_peak_mb"],
                m["worker_peak_mb"],
                m["max_process_mb"],
                f"{m['max_process_mb'] / base['max_process_mb']:.2f}x",
                m["tree_rss_peak_mb"],
                verdict(ok) if case.target else ("(baseline)" if case.name == "tiny" else "(extra)"),
            ]
        )
    print_table(
        "Peak RSS of `toasoan ingest --once` (MB; ratio = largest process vs the tiny baseline)",
        ["case", "outcome", "main", "worker", "largest", "ratio", "tree sum", f"< {TARGET_MB:g} MB"],
        rows,
    )
    for case, _ in cases:
        print(f"  {case.name}: {case.what}; {measured[case.name]['seconds']:.1f} s")
    result = {
        "quick": quick,
        "load_average_before": load,
        "cases": {c.name: {"what": c.what, **measured[c.name]} for c, _ in cases},
        "ratios": {c.name: measured[c.name]["max_process_mb"] / base["max_process_mb"] for c, _ in cases},
        "targets": {"peak_mb": TARGET_MB},
        "met": met,
        "headline": [
            headline(
                NAME,
                f"peak memory: {c.name}",
                measured[c.name]["max_process_mb"],
                "MB",
                f"< {TARGET_MB:g} MB",
                met[c.name],
                baseline="tiny message",
                baseline_value=base["max_process_mb"],
            )
            for c, _ in cases
            if c.target
        ],
    }
    write_result(results_dir, NAME, result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--keep", action="store_true", help="keep each case's folder (logs, database) in /tmp")
    args = p.parse_args(argv)
    try:
        run(quick=args.quick, results_dir=args.results, keep=args.keep)
    except BenchError as exc:
        print(f"\n{NAME}: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
