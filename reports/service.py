"""What a royalty month holds: the one place that reads the database for a report.

`load_month` is the seam the CLI, the period jobs, the reports page and the benchmark all use: it
reads the quarter's counted drafts and returns the period's quota rows and royalty lines (pure
computation in reports.quotas and reports.royalty). An item is dated by `[calendar] count_by`: when
it first went live on a portal (`Draft.published_at`, "published") or when it was approved
(`Draft.decided_at`, "approved").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from core.models import Draft, DraftStatus
from core.settings import Settings
from reports.periods import Calendar, Period, bounds, counting_period, local_date
from reports.quotas import CountedItem, QuotaRow, Targets, deduplicate, quota_rows
from reports.royalty import Author, RoyaltyItem, RoyaltyLine, RoyaltyRules, compute_lines

# Approved items count, and stay counted once live or taken down again (the work was done and paid).
COUNTED_STATUSES = (DraftStatus.approved, DraftStatus.published, DraftStatus.withdrawn)


def counted_at(d: Draft, count_by: str) -> datetime | None:
    """The instant that puts the item in a period: first live, or approved ([calendar] count_by)."""
    return d.published_at if count_by == "published" else d.decided_at


# What month_report reads of a draft: load_month selects only these (body_html and search_text are
# most of a row's bytes, and a quarter holds thousands of rows).
REPORT_COLUMNS = (
    Draft.id, Draft.status, Draft.kind, Draft.title, Draft.byline, Draft.unit_code, Draft.sender,
    Draft.sender_name, Draft.coefficient, Draft.duplicate_of, Draft.decided_at, Draft.published_at,
)  # fmt: skip


def counted_drafts(
    session: Session, start: datetime, end: datetime, count_by: str, *, narrow: bool = False
) -> list[Draft]:
    """Drafts that count for [start, end), by the date `count_by` names (`narrow`: only the columns
    a report reads are loaded; another one is read on access, while the session is open)."""
    when = col(Draft.published_at) if count_by == "published" else col(Draft.decided_at)
    q = (
        (select(Draft).options(load_only(*REPORT_COLUMNS)) if narrow else select(Draft))  # type: ignore[arg-type]
        .where(col(Draft.status).in_([s.value for s in COUNTED_STATUSES]))
        .where(when.is_not(None))
        .where(when >= start.astimezone(UTC))
        .where(when < end.astimezone(UTC))
        .order_by(when, col(Draft.id))
    )
    return list(session.exec(q).all())


def _counted(d: Draft, count_by: str) -> CountedItem:
    at = counted_at(d, count_by)
    assert d.id is not None and at is not None
    return CountedItem(d.id, d.unit_code, d.kind, at, d.duplicate_of)


def _royalty_item(d: Draft, cal: Calendar, count_by: str) -> RoyaltyItem:
    at = counted_at(d, count_by)
    assert d.id is not None and at is not None
    day = local_date(at, cal)
    author = (d.byline or d.sender_name or d.sender or "").strip()
    return RoyaltyItem(
        item_id=d.id,
        title=d.title,
        unit=d.unit_code,
        kind=d.kind,
        coefficient=d.coefficient,
        counted_on=day,
        authors=(Author(author),),
        published_on=local_date(d.published_at, cal) if d.published_at else None,
    )


def month_report(
    settings: Settings, drafts: Sequence[Draft], period: Period, now: datetime, closed: Sequence[Period] = ()
) -> tuple[list[Any], list[Any]]:
    """Quota rows and royalty lines of `period` from the quarter's counted drafts (pure). `closed`: the
    periods already frozen (none until the DB keeps them), whose late items count in the open one."""
    cal = Calendar.from_settings(settings)
    q = settings.quota
    targets = Targets(q.tin_per_month, q.bai_per_quarter, q.review_days)
    count_by = settings.calendar.count_by
    counted = [_counted(d, count_by) for d in drafts]
    units = list(settings.units)
    rows = quota_rows(counted, units, period, now, cal, targets, closed)
    once = {c.item_id for c in deduplicate(counted, cal)}
    paid = [
        _royalty_item(d, cal, count_by)
        for d in drafts
        if d.id in once and counting_period(counted_at(d, count_by), closed, now, cal) == period  # type: ignore[arg-type]
    ]
    lines = compute_lines(paid, RoyaltyRules.from_settings(settings))
    return rows, lines


@dataclass(frozen=True)
class Month:
    """A period's report: the per-unit quota rows and the royalty lines."""

    period: Period
    rows: list[QuotaRow]
    lines: list[RoyaltyLine]


def load_month(settings: Settings, session: Session, period: Period, now: datetime) -> Month:
    """Reads the quarter's counted drafts up to the period's end and computes the month (raises
    reports.royalty.RoyaltyError when an item cannot be priced)."""
    cal = Calendar.from_settings(settings)
    quarter = bounds(period.quarter, cal)
    drafts = counted_drafts(session, quarter.start, bounds(period, cal).end, settings.calendar.count_by, narrow=True)
    rows, lines = month_report(settings, drafts, period, now)
    return Month(period, rows, lines)
