"""Run every benchmark (`make bench`): intake backlog, latency and memory; Word conversion; review pages;
WordPress publishing; the static site; mail-parser diagnostics.

    .venv/bin/python bench/run.py [--quick] [--results DIR] [--nice -10]
        [--only backlog,latency,memory,word,review,reports,wordpress,site,diagnostics]

Each prints its figures beside a baseline measured in the same run and writes bench/results/<name>.json.
Exit status 1 if a benchmark could not measure what it promises (e.g. a message did not become a
draft); a missed target is printed, not an error: targets are read by people, not by CI.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = {
    "backlog": "bench.ingest_backlog",
    "latency": "bench.ingest_latency",
    "memory": "bench.ingest_memory",
    "word": "bench.word_convert",
    "review": "bench.review_pages",
    "reports": "bench.reports",
    "wordpress": "bench.wordpress_publish",
    "site": "bench.site_build",
    "diagnostics": "bench.diagnostics",
}


def main(argv: list[str] | None = None) -> int:
    if str(REPO) not in sys.path:  # run as a script: make `bench` and `tests` importable
        sys.path.insert(0, str(REPO))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a few seconds each: proves the code works")
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    p.add_argument("--results", type=Path, default=REPO / "bench" / "results")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority change for this run and its servers (e.g. -10 as root on a shared machine)",
    )
    args = p.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if args.nice:
        # Children (Dovecot, the worker, conversion processes) inherit it: the figures then measure
        # toasoan rather than whatever else shares the 2 cores.
        os.nice(args.nice)
    failed: list[str] = []
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: load average {load:.2f} before the run; other work on this machine skews the timings")
    for name in chosen:
        module = importlib.import_module(BENCHMARKS[name])
        bench_error = importlib.import_module("bench").BenchError
        print(f"\n==================== {name} ====================", flush=True)
        started = time.perf_counter()
        try:
            module.run(quick=args.quick, results_dir=args.results)
        except bench_error as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed.append(name)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
