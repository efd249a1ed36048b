"""bench/summary.py: the one table of headline figures that `make bench` prints and the README shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.run import BENCHMARKS, REPO, SUMMARY_END, SUMMARY_START, put_into_readme
from bench.summary import headline, markdown_table, number, text_table

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out


def test_a_figure_measured_on_both_databases_is_one_line_with_each_value_in_its_column() -> None:
    rows = [
        headline("reports", "dashboard p95", 31.5, "ms", "≤ 50 ms", True, baseline="SQL", baseline_value=0.7,
                 backend="sqlite"),
        headline("reports", "dashboard p95", 64.0, "ms", "≤ 50 ms", False, baseline="SQL", baseline_value=2.0,
                 backend="postgresql"),
        headline("diagnostics", "slowest email", 0.142, "s", "≤ 1 s", True, baseline="mail-parser",
                 baseline_value=4.2),
    ]  # fmt: skip

    lines = markdown_table(rows).splitlines()

    assert lines[0] == "| figure | goal | SQLite | PostgreSQL | baseline | ratio | verdict |"
    assert len(lines) == 4  # header, rule, two figures
    assert (
        lines[2]
        == "| dashboard p95 | ≤ 50 ms | 31.5 ms | 64.0 ms | SQL 0.70 ms · 2.00 ms | 45.0x · 32.0x | met · MISSED |"
    )
    assert lines[3] == "| slowest email | ≤ 1 s | 0.14 s | — | mail-parser 4.20 s | 0.03x | met |"
    assert "dashboard p95" in text_table(rows) and "MISSED" in text_table(rows)


def test_the_ratio_is_the_figure_over_its_baseline_unless_the_benchmark_gives_its_own() -> None:
    assert headline("b", "f", 3.0, "s", "≤ 1 s", False, baseline="x", baseline_value=1.5)["ratio"] == 2.0
    assert headline("b", "f", 3.0, "s", "≤ 1 s", False, baseline="x", baseline_value=1.5, ratio=9.0)["ratio"] == 9.0
    assert headline("b", "f", 3.0, "s", "—", None)["ratio"] is None


def test_numbers_are_rounded_for_reading_and_a_pipe_cannot_break_the_markdown() -> None:
    assert (number(1234.5, "ms"), number(12.34, "ms"), number(0.1234, "s"), number(0.125, "%")) == (
        "1,234 ms",
        "12.3 ms",
        "0.12 s",
        "12.5%",
    )
    assert (number(0.000213, "s"), number(0.0041, "x"), number(0.0, "s")) == ("0.00021 s", "0.0041x", "0.00 s")
    row = headline("b", "a | b", 1.0, "x", "≤ 2x", True)
    assert "a \\| b" in markdown_table([row])


def test_the_readme_block_between_the_markers_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# toasoan\n\nbefore\n\n{SUMMARY_START}\nold table\n{SUMMARY_END}\n\nafter\n", encoding="utf-8")

    put_into_readme(readme, "| new | table |\n")

    assert readme.read_text(encoding="utf-8") == (
        f"# toasoan\n\nbefore\n\n{SUMMARY_START}\n| new | table |\n{SUMMARY_END}\n\nafter\n"
    )


def test_the_repository_readme_has_the_block_make_bench_fills() -> None:
    content = (REPO / "README.md").read_text(encoding="utf-8")
    assert content.count(SUMMARY_START) == 1 and content.index(SUMMARY_START) < content.index(SUMMARY_END)


def test_make_bench_runs_every_benchmark_file() -> None:
    not_benchmarks = {"__init__", "run", "summary"}  # the shared pieces
    files = {f"bench.{p.stem}" for p in (REPO / "bench").glob("*.py") if p.stem not in not_benchmarks}
    assert set(BENCHMARKS.values()) == files
