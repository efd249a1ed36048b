"""Reports speed (issue "Reports", "Speed"): five years of history — 60,000 counted items over 80 units,
every earlier period the base-salary rows can price closed (its lines frozen) — then (a) a month's
report: `reports.service.load_month` and the three documents (payment list XLSX, monthly report and
payment request DOCX), and (b) the quota dashboard page GET /bao-cao/{period}
through the product's app (TestClient, in process: the page's own work, routing, session, template).

    .venv/bin/python bench/run.py --only reports [--quick]
    .venv/bin/python -m bench.reports [--quick] [--items N] [--units N] [--database sqlite|postgresql]

Baseline, measured in the same run: one SQL aggregate over the same period's rows
(`SELECT unit_code, kind, count(*) ... GROUP BY unit_code, kind`), what a dashboard needs at the least.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import (
    BACKENDS,
    REPO,
    BenchError,
    database_url,
    load_before,
    median,
    parser,
    percentile,
    print_table,
    result_name,
    verdict,
    write_result,
)
from bench.summary import headline

NAME = "reports"
TARGET_MONTH_S = 1.0
TARGET_PAGE_MS = 50.0
PERIOD = "2026-11"
FIRST = datetime(2022, 1, 3, 2, tzinfo=UTC)
LAST = datetime(2026, 12, 20, 9, tzinfo=UTC)
PASSWORD = "mat-khau-bench-reports"


def office(root: Path, units: int, url: str | None = None) -> Path:
    """The repository's settings.toml with its units replaced by `units` bench units, on the database
    `url` (default: a SQLite file in `root`)."""
    text = (REPO / "settings.toml").read_text(encoding="utf-8")
    text = text[: text.index("# Units (chi bộ")]
    shipped = 'url = "sqlite:///var/toasoan.db"'
    if shipped not in text:
        raise BenchError("settings.toml changed: its [database] url is not found")
    url = url or f"sqlite:///{(root / 'toasoan.db').as_posix()}"
    text = text.replace(shipped, f'url = "{url}"', 1)
    for i in range(1, units + 1):
        text += f'[[units]]\ncode = "U{i:02d}"\nname = "Chi bộ đơn vị số {i}"\nsenders = ["@u{i}.example"]\n\n'
    path = root / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def fill(engine: Any, items: int, units: int, seed: int = 7) -> None:
    """`items` counted drafts spread evenly over five years, 70% tin, 30% bài (executemany)."""
    from sqlalchemy import insert

    from core.db import table_of
    from core.models import Draft

    rnd = random.Random(seed)
    span = (LAST - FIRST).total_seconds()
    rows = []
    for i in range(1, items + 1):
        at = FIRST + timedelta(seconds=span * i / items)
        kind = "tin" if rnd.random() < 0.7 else "bai"
        draft = Draft(
            id=i,
            tracking_code=f"B{i:06d}",
            status="published",
            kind=kind,
            unit_code=f"U{rnd.randint(1, units):02d}",
            coefficient=Decimal(1) if kind == "tin" else Decimal(2),
            decided_at=at - timedelta(hours=5),
            published_at=at,
            byline=f"Tác giả {rnd.randint(1, 400)}",
            sender=f"tacgia{i % 400}@u1.example",
            title=f"Tin bài số {i} về hoạt động của chi bộ",
        )
        rows.append(draft.model_dump())
    with engine.begin() as conn:
        conn.execute(insert(table_of(Draft)), rows)


def close_history(settings: Any, engine: Any, until: Any) -> int:
    """Close every period before `until` that the base-salary rows can price (the earlier ones stay
    open, as in an office that started using toasoan then): years of frozen lines, as an office
    has them, which the open month must not read."""
    from core.db import transaction, utcnow
    from reports.ledger import close_period
    from reports.periods import Calendar, bounds, period_of

    cal = Calendar.from_settings(settings)
    first = min(row.start for row in settings.royalty.base_salary)
    period = period_of(first, cal)
    if bounds(period, cal).start.date() < first:
        period = period.next()
    closed, now = 0, utcnow()
    while period < until:
        with transaction(engine) as s:
            close_period(s, settings, period, now, "bench")
        closed, period = closed + 1, period.next()
    return closed


def timed(fn: Callable[[], object], n: int, cpu: list[float] | None = None) -> list[float]:
    """Wall seconds of each of `n` calls; `cpu`, if given, gets this process's CPU seconds of each
    (the in-process app runs in a thread of it): on a loaded machine the wall time includes waiting
    for a core, the CPU time does not."""
    out = []
    for _ in range(n):
        c, t = time.process_time(), time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
    return out


def run(
    *,
    quick: bool = False,
    results_dir: Path | None = None,
    items: int | None = None,
    units: int = 80,
    database: str = "sqlite",
) -> dict[str, Any]:
    items = items or (3_000 if quick else 60_000)
    runs = 3 if quick else 7
    requests = 10 if quick else 60
    load = load_before()
    root = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        with database_url(database, root / "toasoan.db") as url:
            return _measure(root, url, database, quick, results_dir, items, units, runs, requests, load)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _measure(
    root: Path, url: str, database: str, quick: bool, results_dir: Path | None, items: int, units: int, runs: int,
    requests: int, load: float,
) -> dict[str, Any]:  # fmt: skip
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from core.db import reading, utcnow
    from core.settings import load_settings
    from reports.documents import report_data, write_monthly_report, write_payment_list, write_payment_request
    from reports.periods import Calendar, Period, bounds
    from reports.service import load_month
    from review.auth import add_user
    from review.web import create_app
    from toasoan.database import open_database

    settings = load_settings(office(root, units, url))
    engine = open_database(settings)
    t0 = time.perf_counter()
    fill(engine, items, units)
    fill_s = time.perf_counter() - t0
    period = Period.parse(PERIOD)
    t0 = time.perf_counter()
    closed = close_history(settings, engine, period)
    close_s = time.perf_counter() - t0
    cal = Calendar.from_settings(settings)
    b = bounds(period, cal)
    now = utcnow()

    def month() -> int:
        with reading(engine) as s:
            m = load_month(settings, s, period, now)
        data = report_data(settings, period, m.rows, m.lines, b.end.date())
        write_payment_list(data, root / "ds.xlsx")
        write_monthly_report(data, root / "bc.docx")
        write_payment_request(data, root / "tt.docx")
        return len(m.lines)

    def load_only() -> None:
        with reading(engine) as s:
            load_month(settings, s, period, now)

    aggregate_sql = text(
        "SELECT unit_code, kind, count(*) FROM draft WHERE status IN ('approved', 'published', 'withdrawn')"
        " AND published_at >= :start AND published_at < :end GROUP BY unit_code, kind"
    )
    # Bound as the ORM binds UTCDateTime: naive UTC for SQLite's text, aware for PostgreSQL's timestamptz
    # (a naive value there would be read in the server's time zone).
    start, end = b.start.astimezone(UTC), b.end.astimezone(UTC)
    if engine.dialect.name == "sqlite":
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)

    def aggregate() -> None:
        with engine.connect() as conn:
            conn.execute(aggregate_sql, {"start": start, "end": end}).all()

    lines = month()  # warm: templates, fonts, imports
    month_s = timed(month, runs)
    load_s = timed(load_only, runs)
    aggregate_s = timed(aggregate, max(runs, 20))

    add_user(engine, "xem", PASSWORD, role="viewer", full_name="Người xem")
    with TestClient(create_app(settings, engine), follow_redirects=False) as client:
        page = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text)
        assert token, "no sign-in form"
        r = client.post("/login", data={"username": "xem", "password": PASSWORD, "login_token": token.group(1)})
        assert r.status_code == 303, r.status_code

        def dashboard() -> None:
            r = client.get(f"/bao-cao/{PERIOD}")
            assert r.status_code == 200 and "don-vi-U01" in r.text, r.status_code

        dashboard()
        page_cpu: list[float] = []
        page_s = timed(dashboard, requests, page_cpu)

    month_median, agg_median = median(month_s), median(aggregate_s)
    page_median, page_p95 = median(page_s) * 1000, percentile(page_s, 95) * 1000
    result: dict[str, Any] = {
        "items": items,
        "units": units,
        "period": PERIOD,
        "lines": lines,
        "fill_seconds": fill_s,
        "closed_periods": closed,
        "close_history_seconds": close_s,
        "month_median_s": month_median,
        "load_month_median_s": median(load_s),
        "aggregate_median_ms": agg_median * 1000,
        "month_ratio": month_median / agg_median,
        "page_median_ms": page_median,
        "page_p95_ms": page_p95,
        "page_cpu_median_ms": median(page_cpu) * 1000,
        "page_ratio": median(page_s) / agg_median,
        "month_met": month_median <= TARGET_MONTH_S,
        "page_met": page_p95 <= TARGET_PAGE_MS,
        "load_before": load,
        "backend": database,
        "headline": [
            headline(NAME, "reports: a month's report (load + XLSX + 2 DOCX), median", month_median, "s",
                     f"≤ {TARGET_MONTH_S:g} s", month_median <= TARGET_MONTH_S, baseline="SQL aggregate",
                     baseline_value=agg_median, backend=database),
            headline(NAME, "reports: dashboard GET /bao-cao/{period}, p95", page_p95, "ms", f"≤ {TARGET_PAGE_MS:g} ms",
                     page_p95 <= TARGET_PAGE_MS, baseline="SQL aggregate", baseline_value=agg_median * 1000,
                     backend=database),
        ],
    }  # fmt: skip
    print_table(
        f"Reports on {database}, {items:,} items over {units} units, period {PERIOD} ({lines} royalty lines; {closed}"
        f" earlier periods closed; load {load:.2f})",
        ["what", "median", "p95", "baseline (SQL aggregate)", "ratio", "target"],
        [
            ["month: load_month + XLSX + 2 DOCX", f"{month_median:.3f} s", "", f"{agg_median * 1000:.2f} ms",
             f"{result['month_ratio']:.0f}x", f"≤ {TARGET_MONTH_S} s {verdict(result['month_met'])}"],
            ["  of which load_month", f"{median(load_s):.3f} s", "", "", "", ""],
            ["dashboard GET /bao-cao/{period}", f"{page_median:.1f} ms", f"{page_p95:.1f} ms",
             f"{agg_median * 1000:.2f} ms", f"{result['page_ratio']:.0f}x",
             f"≤ {TARGET_PAGE_MS:.0f} ms {verdict(result['page_met'])}"],
            ["  its CPU time (median)", f"{result['page_cpu_median_ms']:.1f} ms", "", "", "", ""],
        ],
    )  # fmt: skip
    write_result(results_dir or RESULTS_DIR_DEFAULT(), result_name(NAME, database), {**result, "quick": quick})
    engine.dispose()
    return result


def RESULTS_DIR_DEFAULT() -> Path:
    from bench import RESULTS_DIR

    return RESULTS_DIR


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=None)
    p.add_argument("--units", type=int, default=80)
    p.add_argument("--database", choices=BACKENDS, default="sqlite", help="PostgreSQL: a throwaway server")
    args = p.parse_args(argv)
    run(quick=args.quick, results_dir=args.results, items=args.items, units=args.units, database=args.database)
    return 0  # a missed target is printed, not an error (bench/run.py)


if __name__ == "__main__":
    sys.exit(main())
