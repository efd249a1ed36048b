"""mail-parser diagnostics (`ingest.diagnostics.diagnose`, shown on `inbox show` and /inbox/ID): the time
to read one email, bounded, on large and hostile messages.

    .venv/bin/python bench/run.py --only diagnostics [--quick]
    .venv/bin/python -m bench.diagnostics [--quick]

Baseline, measured in the same run: mail-parser alone (`mailparser.parse_from_bytes`) on the same bytes,
what an unbounded diagnostic would cost. Cases: an ordinary submission, one with a 4 MB photo (read
whole), one of 25 MB (read from its header block), and three shapes built to be slow (an encoded-word
filename, a Subject of encoded words, thousands of MIME parts).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import BenchError, load_before, median, parser, print_table, verdict, write_result
from bench.summary import headline

NAME = "diagnostics"
TARGET_S = 1.0  # the problem-email page must not hang on any email

_MULTIPART = b'From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BB"\r\n\r\n'


def cases(quick: bool) -> dict[str, bytes]:
    from tests.fixtures.intake.build import submission

    hostile = (128 if quick else 512) * 1024
    photo_4mb = bytes(range(256)) * (3 * 2**20 // 256)
    photo_25mb = bytes(range(256)) * (19 * 2**20 // 256)
    return {
        "submission (one-page .docx)": submission(1),
        "submission + 4 MB photo (read whole)": submission(2, attach_photo=photo_4mb),
        "submission + 25 MB photo (header block)": submission(3, attach_photo=photo_25mb),
        "encoded-word filename": _MULTIPART
        + b'--BB\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="'
        + b"=?utf-8?q?a?= " * (hostile // 14)
        + b'"\r\n\r\nAAAA\r\n--BB--\r\n',
        "Subject of encoded words": b"Subject: " + b"=?utf-8?q?a?= " * (hostile // 14) + b"\r\n\r\nx\r\n",
        "thousands of parts": _MULTIPART
        + b"--BB\r\nContent-Type: text/plain\r\n\r\nx\r\n" * (hostile // 35)
        + b"--BB--\r\n",
    }


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def run(*, quick: bool = False, results_dir: Path | None = None) -> dict[str, Any]:
    import mailparser

    from ingest.diagnostics import diagnose

    load = load_before()
    diagnose(b"Subject: warm-up\r\n\r\nx\r\n")  # imports
    repeat = 3 if quick else 5
    rows: dict[str, dict[str, Any]] = {}
    for name, raw in cases(quick).items():
        found = diagnose(raw)
        if found.error is not None:
            raise BenchError(f"{name}: diagnose failed: {found.error}")
        ours = median(timed(functools.partial(diagnose, raw), repeat))
        # Once: on the hostile shapes mail-parser alone takes seconds to minutes.
        alone = timed(functools.partial(mailparser.parse_from_bytes, raw), 1)[0]
        rows[name] = {"bytes": len(raw), "scope": found.scope, "diagnose_s": ours, "mail_parser_alone_s": alone}
    worst = max(r["diagnose_s"] for r in rows.values())
    worst_case = max(rows, key=lambda name: rows[name]["diagnose_s"])
    result = {
        "cases": rows,
        "worst_diagnose_s": worst,
        "met": worst <= TARGET_S,
        "load_before": load,
        "headline": [
            headline(NAME, "diagnostics: slowest email", worst, "s", f"≤ {TARGET_S:g} s", worst <= TARGET_S,
                     baseline="mail-parser alone", baseline_value=rows[worst_case]["mail_parser_alone_s"])
        ],
    }  # fmt: skip
    print_table(
        f"mail-parser diagnostics, median of {repeat} (load {load:.2f})",
        ["email", "size", "read", "diagnose", "mail-parser alone", "target"],
        [
            [name, f"{r['bytes'] / 2**20:.2f} MB", r["scope"], f"{r['diagnose_s'] * 1000:.1f} ms",
             f"{r['mail_parser_alone_s'] * 1000:.0f} ms", f"≤ {TARGET_S:.0f} s {verdict(r['diagnose_s'] <= TARGET_S)}"]
            for name, r in rows.items()
        ],
    )  # fmt: skip
    write_result(results_dir or RESULTS_DIR_DEFAULT(), NAME, {**result, "quick": quick})
    return result


def RESULTS_DIR_DEFAULT() -> Path:
    from bench import RESULTS_DIR

    return RESULTS_DIR


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    run(quick=args.quick, results_dir=args.results)
    return 0  # a missed target is printed, not an error (bench/run.py)


if __name__ == "__main__":
    sys.exit(main())
