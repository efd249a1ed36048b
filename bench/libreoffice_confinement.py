"""What confining LibreOffice costs: the same .doc -> .docx conversion, confined by bubblewrap and
not, alternating in one run with the same warm profile pool (so both get warm profiles).

    .venv/bin/python -m bench.libreoffice_confinement [--runs 10]

Prints JSON: per mode the median, min and max seconds of one `libreoffice.convert` call.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    print(json.dumps(measure(parser.parse_args().runs), indent=2))


if __name__ == "__main__":
    main()
