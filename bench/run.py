"""Run every benchmark (`make bench`): intake backlog, latency and memory; Word conversion; LibreOffice
confinement; review pages; reports; WordPress publishing; the static site; mail-parser diagnostics.

    .venv/bin/python bench/run.py [--quick] [--results DIR] [--nice -10] [--databases sqlite,postgresql]
        [--only backlog,latency,memory,word,confinement,review,reports,wordpress,site,diagnostics]
        [--markdown FILE] [--table-only] [--readme]

Each prints its figures beside a baseline measured in the same run and writes bench/results/<name>.json;
the database-bound ones (review, reports) run once per database, PostgreSQL on a throwaway server
(<name>_postgresql.json). At the end one table gathers every benchmark's headline rows (bench/summary.py),
SQLite and PostgreSQL side by side, also written as Markdown (bench/results/summary.md); --readme puts it
into README.md between its bench-summary markers.
Exit status 1 if a benchmark could not measure what it promises (e.g. a message did not become a
draft); a missed target is printed, not an error: targets are read by people, not by CI.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # run as a script, `bench` is importable only once main() has set sys.path
    from bench.summary import Headline

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = {
    "backlog": "bench.ingest_backlog",
    "latency": "bench.ingest_latency",
    "memory": "bench.ingest_memory",
    "word": "bench.word_convert",
    "confinement": "bench.libreoffice_confinement",
    "review": "bench.review_pages",
    "reports": "bench.reports",
    "wordpress": "bench.wordpress_publish",
    "site": "bench.site_build",
    "diagnostics": "bench.diagnostics",
}
# Benchmarks whose figures are the database's work: run on each of --databases.
DATABASE_BOUND = ("review", "reports")
DATABASES = ("sqlite", "postgresql")
README = REPO / "README.md"
SUMMARY_START = "<!-- bench-summary: start (bench/run.py --readme) -->"
SUMMARY_END = "<!-- bench-summary: end -->"


def main(argv: list[str] | None = None) -> int:
    if str(REPO) not in sys.path:  # run as a script: make `bench` and `tests` importable
        sys.path.insert(0, str(REPO))
    from bench import BenchError

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a few seconds each: proves the code works")
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    p.add_argument(
        "--databases",
        default=",".join(DATABASES),
        help=f"comma-separated, for {', '.join(DATABASE_BOUND)}: {', '.join(DATABASES)} (default both)",
    )
    p.add_argument("--results", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--markdown", type=Path, help="the summary table as Markdown (default <results>/summary.md)")
    p.add_argument("--readme", action="store_true", help="also put the table into README.md (between its markers)")
    p.add_argument(
        "--table-only",
        action="store_true",
        help="run nothing: print the summary of the <name>.json already in --results (those of --only)",
    )
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
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if not databases or any(name not in DATABASES for name in databases):
        p.error(f"--databases: one or more of {', '.join(DATABASES)}")
    markdown = args.markdown or args.results / "summary.md"
    if args.table_only:
        saved, quick, finished = saved_headlines(args.results, chosen)
        return report(saved, markdown, quick=quick, readme=README if args.readme else None, finished=finished)
    if args.nice:
        # Children (Dovecot, the worker, conversion processes) inherit it: the figures then measure
        # toasoan rather than whatever else shares the 2 cores.
        os.nice(args.nice)
    failed: list[str] = []
    rows: list[Headline] = []
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: load average {load:.2f} before the run; other work on this machine skews the timings")
    for name in chosen:
        module = importlib.import_module(BENCHMARKS[name])
        for database in databases if name in DATABASE_BOUND else [None]:
            label = f"{name} ({database})" if database else name
            print(f"\n==================== {label} ====================", flush=True)
            started = time.perf_counter()
            options: dict[str, Any] = {"database": database} if database else {}
            try:
                result = module.run(quick=args.quick, results_dir=args.results, **options)
                rows += result.get("headline", [])
            except BenchError as exc:
                print(f"{label}: FAILED: {exc}", file=sys.stderr)
                failed.append(label)
            except Exception:
                traceback.print_exc()
                failed.append(label)
            print(f"({label}: {time.perf_counter() - started:.0f} s)", flush=True)
    report(rows, markdown, quick=args.quick, load=load, failed=failed, readme=README if args.readme else None)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def saved_headlines(results: Path, chosen: list[str]) -> tuple[list[Headline], bool, datetime | None]:
    """The headline rows of the results already written (both databases), in --only's order; whether
    any was a quick run; when the last of them finished."""
    rows: list[Headline] = []
    quick = False
    finished: datetime | None = None
    for name in chosen:
        stem = importlib.import_module(BENCHMARKS[name]).NAME
        for path in [results / f"{stem}.json", *sorted(results.glob(f"{stem}_*.json"))]:
            if path.exists():
                data = json.loads(path.read_text(encoding="utf-8"))
                rows += data.get("headline", [])
                quick = quick or bool(data.get("quick"))
                if "finished_at" in data:
                    at = datetime.fromisoformat(data["finished_at"])
                    finished = at if finished is None else max(finished, at)
    return rows, quick, finished


def report(
    rows: list[Headline],
    markdown: Path,
    *,
    quick: bool,
    load: float | None = None,
    failed: list[str] | None = None,
    readme: Path | None = None,
    finished: datetime | None = None,
) -> int:
    """Prints the summary table and writes it as Markdown, with when, where and how it was measured."""
    from bench.summary import legend, markdown_table, text_table

    if not rows:
        print("\nno headline figures to summarise")
        return 0
    when = (finished or datetime.now(UTC)).astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
    how = (
        f"{when}, {os.cpu_count()} cores, Python {platform.python_version()}"
        + (f", load average {load:.1f} at the start" if load is not None else "")
        + (", **quick mode** (small sizes: proves the code works; not the figures)" if quick else "")
    )
    print(f"\n==================== summary ====================\n{how}\n")
    print(text_table(rows))
    print(f"\n{legend()}")
    if failed:
        print(f"not in the table (failed): {', '.join(failed)}")
    markdown.parent.mkdir(parents=True, exist_ok=True)
    text = f"{markdown_table(rows)}\n\n{how}. {legend()}\n"
    if failed:
        text += f"Not in the table (failed): {', '.join(failed)}.\n"
    markdown.write_text(text, encoding="utf-8")
    print(f"\n→ {markdown}")
    if readme is not None:
        put_into_readme(readme, text)
        print(f"→ {readme}")
    return 0


def put_into_readme(readme: Path, table: str) -> None:
    """Replaces what stands between the README's two markers with the table (the rest is left alone)."""
    content = readme.read_text(encoding="utf-8")
    start, end = content.find(SUMMARY_START), content.find(SUMMARY_END)
    if start < 0 or end < start:
        raise SystemExit(f"{readme}: no {SUMMARY_START} … {SUMMARY_END} block to put the table into")
    readme.write_text(f"{content[: start + len(SUMMARY_START)]}\n{table}{content[end:]}", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
