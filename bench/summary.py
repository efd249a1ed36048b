"""The headline figures of every benchmark in one table (`make bench` prints it; the README shows it).

Each benchmark adds to its JSON a `headline` list: one row per figure that has a goal, in the shape
below. bench/run.py gathers the rows of the benchmarks it ran and prints them as one table, SQLite and
PostgreSQL side by side where a figure was measured on both, and writes the same table as Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

BACKENDS = ("sqlite", "postgresql")
COLUMNS = ("figure", "goal", "SQLite", "PostgreSQL", "baseline", "ratio", "verdict")


class Headline(TypedDict):
    """One figure against its goal (JSON-ready)."""

    benchmark: str  # the JSON's name, e.g. "review_pages"
    figure: str  # what was measured, e.g. "queue page p95"
    value: float
    unit: str  # "ms", "s", "MB", "msg/s", "%", "x"
    goal: str  # as people read it: "≤ 60 ms"
    baseline: str | None  # what the figure is compared with, measured in the same run
    baseline_value: float | None  # in `unit`
    ratio: float | None  # value / baseline_value unless the benchmark defines its own
    met: bool | None  # None: no goal, for reading
    backend: str | None  # "sqlite" / "postgresql"; None: the figure does not touch the database


def headline(
    benchmark: str,
    figure: str,
    value: float,
    unit: str,
    goal: str,
    met: bool | None,
    *,
    baseline: str | None = None,
    baseline_value: float | None = None,
    ratio: float | None = None,
    backend: str | None = None,
) -> Headline:
    if ratio is None and baseline_value:
        ratio = value / baseline_value
    return Headline(
        benchmark=benchmark,
        figure=figure,
        value=float(value),
        unit=unit,
        goal=goal,
        baseline=baseline,
        baseline_value=None if baseline_value is None else float(baseline_value),
        ratio=ratio,
        met=met,
        backend=backend,
    )


def number(value: float, unit: str = "") -> str:
    """3 significant figures or so: the table is read, the JSON keeps the exact value."""
    if unit == "%":
        text = f"{value * 100:.1f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif 0 < abs(value) < 0.01:  # a baseline of a fraction of a millisecond, written in seconds
        text = f"{value:.2g}"
    else:
        text = f"{value:.2f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "x") else f"{text} {unit}"


def _verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "MISSED")


def _baseline(legs: Sequence[Headline]) -> str:
    """ "bare handler 2.10 ms · 2.40 ms": the baseline's name once, its value on each database."""
    names = {r["baseline"] for r in legs}
    if names == {None}:
        return "—"
    values = ["—" if r["baseline_value"] is None else number(r["baseline_value"], r["unit"]) for r in legs]
    if len(names) > 1:
        return " · ".join(f"{r['baseline'] or '—'} {v}" for r, v in zip(legs, values, strict=True))
    name = legs[0]["baseline"] or "—"
    return name if set(values) == {"—"} else f"{name} {' · '.join(values)}"


def table_rows(rows: Sequence[Headline]) -> list[list[str]]:
    """One line per (benchmark, figure): the SQLite and PostgreSQL measurements of a figure merge into
    one line; its baseline, ratio and verdict cells then read "SQLite · PostgreSQL" when they differ.
    A figure without a database shows its value in the SQLite column and "—" under PostgreSQL."""
    merged: dict[tuple[str, str], dict[str, Headline]] = {}
    for row in rows:
        merged.setdefault((row["benchmark"], row["figure"]), {})[row["backend"] or "sqlite"] = row
    out = []
    for (_, figure), by_backend in merged.items():
        legs = [by_backend[b] for b in BACKENDS if b in by_backend]
        first = legs[0]

        def joined(cells: list[str]) -> str:
            return cells[0] if len(set(cells)) == 1 else " · ".join(cells)

        out.append(
            [
                figure,
                first["goal"],
                *(number(by_backend[b]["value"], first["unit"]) if b in by_backend else "—" for b in BACKENDS),
                _baseline(legs),
                joined(["—" if r["ratio"] is None else number(r["ratio"], "x") for r in legs]),
                joined([_verdict(r["met"]) for r in legs]),
            ]
        )
    return out


def text_table(rows: Sequence[Headline]) -> str:
    cells = table_rows(rows)
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(COLUMNS)] if cells else []
    lines = ["  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def markdown_table(rows: Sequence[Headline]) -> str:
    def escape(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(escape(c) for c in r) + " |" for r in table_rows(rows)]
    return "\n".join(lines)


def legend() -> str:
    return (
        "ratio = figure / baseline (the benchmark's own definition where it says so); "
        "“—” under PostgreSQL: the figure does not touch the database (its value is in the SQLite column) "
        "or the PostgreSQL leg was not run; verdict “—”: no goal, for reading."
    )
