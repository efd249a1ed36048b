"""What confining LibreOffice costs: the same .doc -> .docx conversion, confined by bubblewrap and
not, alternating in one run with the same warm profile pool (so both get warm profiles).

    .venv/bin/python bench/run.py --only confinement [--quick]
    .venv/bin/python -m bench.libreoffice_confinement [--runs 10] [--quick] [--results DIR]

Prints JSON: per mode the median, min and max seconds of one `libreoffice.convert` call; writes it
with its headline row to bench/results/libreoffice_confinement.json.
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, load_before, parser, print_table, write_result
from bench.summary import headline

NAME = "libreoffice_confinement"


def _doc() -> bytes:
    import docx

    from ingest.word import libreoffice

    document = docx.Document()
    document.add_heading("Hội nghị tổng kết công tác năm 2026", level=1)
    for _ in range(6):
        document.add_paragraph("Sáng 18/11, Đảng bộ phường tổ chức hội nghị tổng kết công tác xây dựng Đảng năm 2026.")
    out = io.BytesIO()
    document.save(out)
    return libreoffice.convert(out.getvalue(), "doc:MS Word 97")


def measure(runs: int) -> dict[str, dict[str, float]]:
    from ingest.word import libreoffice

    doc = _doc()
    times: dict[str, list[float]] = {"required": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="toasoan-bench-confine-") as tmp:
        pool = libreoffice.ProfilePool(Path(tmp))
        for mode in times:  # warm-up: one profile initialised per mode's first run
            libreoffice.convert(doc, "docx", pool=pool, confinement=mode)
        for _ in range(runs):
            for mode, seconds in times.items():
                start = time.perf_counter()
                libreoffice.convert(doc, "docx", pool=pool, confinement=mode)
                seconds.append(time.perf_counter() - start)
    return {
        mode: {"median_s": statistics.median(s), "min_s": min(s), "max_s": max(s), "runs": len(s)}
        for mode, s in times.items()
    }


def run(*, quick: bool = False, results_dir: Path = RESULTS_DIR, runs: int | None = None) -> dict[str, Any]:
    load = load_before()
    runs = runs or (2 if quick else 10)
    modes = measure(runs)
    confined, off = modes["required"]["median_s"], modes["off"]["median_s"]
    print_table(
        f"libreoffice.convert .doc → .docx, {runs} runs each, taking turns (seconds)",
        ["mode", "median", "min", "max"],
        [[mode, m["median_s"], m["min_s"], m["max_s"]] for mode, m in modes.items()],
    )
    result: dict[str, Any] = {
        "quick": quick,
        "load_average_before": load,
        "runs": runs,
        "modes": modes,
        "ratio": confined / off,
        # No target in the brief: confinement is required; the figure says what it costs.
        "headline": [
            headline(NAME, "LibreOffice .doc → .docx, confined by bwrap, median", confined, "s", "—", None,
                     baseline="unconfined", baseline_value=off)
        ],
    }  # fmt: skip
    write_result(results_dir, NAME, result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="conversions per mode (default 10, quick 2)")
    args = p.parse_args(argv)
    result = run(quick=args.quick, results_dir=args.results, runs=args.runs)
    print(json.dumps(result["modes"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
