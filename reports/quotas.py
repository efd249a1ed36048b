"""Writing quotas per unit: tin this royalty month, bài this quarter. Pure functions over plain rows.

- An item counts in the period of its counting date (publication or approval, per [calendar]
  count_by); one counted late, after its period closed, counts in the open period
  (`periods.counting_period`).
- A re-sent duplicate counts once: items are grouped by `duplicate_of or item_id` and each group
  counts once, at its earliest date. (The caller passes every item of the quarter so far, so two
  copies of one article never count twice in it.)
- Status: `met` once the count reaches the target (a target of 0 is always met); otherwise
  `not_met`, or `at_risk` while the period is still open but fewer days are left than a typical
  review takes (a contribution sent now would likely be published too late).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from core.settings import Unit
from reports.periods import Calendar, Period, PeriodFinder, Quarter, bounds, counting_period, local_date, period_finder


class Status(StrEnum):
    met = "met"
    not_met = "not_met"
    at_risk = "at_risk"


STATUS_LABELS = {Status.met: "Đạt", Status.not_met: "Chưa đạt", Status.at_risk: "Có nguy cơ không đạt"}


@dataclass(frozen=True)
class CountedItem:
    item_id: int
    unit: str | None
    kind: str  # tin, bai
    counted_at: datetime | date  # aware datetime, or an office-local day
    duplicate_of: int | None = None


@dataclass(frozen=True)
class Targets:
    tin_per_month: int = 1
    bai_per_quarter: int = 1
    review_days: int = 3


@dataclass(frozen=True)
class QuotaRow:
    code: str
    name: str
    tin: int  # tin counted in the period
    bai: int  # bài counted in the period
    quarter_bai: int  # bài counted in the quarter up to and including the period
    tin_target: int
    bai_target: int
    tin_status: Status
    bai_status: Status

    @property
    def tin_met(self) -> bool:
        return self.tin_status is Status.met

    @property
    def bai_met(self) -> bool:
        return self.bai_status is Status.met


def status(count: int, target: int, end: date, today: date, review_days: int) -> Status:
    """`end` is the first day no longer in the period (its tally date)."""
    if count >= target:
        return Status.met
    if today < end and (end - today).days < review_days:
        return Status.at_risk
    return Status.not_met


def deduplicate(items: Iterable[CountedItem], cal: Calendar) -> list[CountedItem]:
    """One item per duplicate group (the key is `duplicate_of or item_id`): the earliest one."""
    first: dict[int, CountedItem] = {}
    for item in items:
        key = item.duplicate_of if item.duplicate_of is not None else item.item_id
        seen = first.get(key)
        if seen is None or (local_date(item.counted_at, cal), item.item_id) < (
            local_date(seen.counted_at, cal),
            seen.item_id,
        ):
            first[key] = item
    return sorted(first.values(), key=lambda i: i.item_id)


def assign(
    counted: Sequence[CountedItem],
    closed: Iterable[Period],
    frozen: Mapping[int, Period],
    now: datetime | date,
    cal: Calendar,
    find: PeriodFinder | None = None,
) -> list[tuple[CountedItem, Period]]:
    """One item per duplicate group and the period it counts in: the closed period whose frozen
    lines hold the group (`frozen`: draft id -> that period), else its own period, or the open one
    when its own is closed (late)."""
    find = find or period_finder(cal)
    closed_set = set(closed)
    groups: dict[int, list[CountedItem]] = {}
    for c in counted:
        groups.setdefault(c.duplicate_of if c.duplicate_of is not None else c.item_id, []).append(c)
    out: list[tuple[CountedItem, Period]] = []
    for key, members in groups.items():
        held = [c for c in members if c.item_id in frozen]
        if held:
            rep = min(held, key=lambda c: (frozen[c.item_id], c.item_id))
            out.append((rep, frozen[rep.item_id]))
            continue
        rep = members[0] if len(members) == 1 else deduplicate(members, cal)[0]
        if key in frozen:  # the original is frozen in a closed period (not loaded): the copy never counts again
            out.append((rep, frozen[key]))
        else:
            out.append((rep, counting_period(rep.counted_at, closed_set, now, cal, find=find)))
    return sorted(out, key=lambda pair: pair[0].item_id)


def quota_rows(
    items: Iterable[CountedItem],
    units: Sequence[Unit],
    period: Period,
    now: datetime | date,
    cal: Calendar,
    targets: Targets,
    closed: Iterable[Period] = (),
) -> list[QuotaRow]:
    """Per unit (in the order given): this period's tin and bài, the quarter's bài, and their status."""
    return placed_quota_rows(assign(list(items), closed, {}, now, cal), units, period, now, cal, targets)


def placed_quota_rows(
    placed: Iterable[tuple[CountedItem, Period]],
    units: Sequence[Unit],
    period: Period,
    now: datetime | date,
    cal: Calendar,
    targets: Targets,
) -> list[QuotaRow]:
    """`quota_rows` of items already deduplicated and placed in the period each counts in."""
    quarter: Quarter = period.quarter
    in_quarter = set(quarter.periods[: quarter.periods.index(period) + 1])
    tin: dict[str, int] = {}
    bai: dict[str, int] = {}
    quarter_bai: dict[str, int] = {}
    for item, p in placed:
        if item.unit is None:
            continue
        if item.kind == "tin" and p == period:
            tin[item.unit] = tin.get(item.unit, 0) + 1
        elif item.kind == "bai":
            if p == period:
                bai[item.unit] = bai.get(item.unit, 0) + 1
            if p in in_quarter:
                quarter_bai[item.unit] = quarter_bai.get(item.unit, 0) + 1
    today = local_date(now, cal)
    month_end = bounds(period, cal).end.date()
    quarter_end = bounds(quarter, cal).end.date()
    rows = []
    for unit in units:
        t, q = tin.get(unit.code, 0), quarter_bai.get(unit.code, 0)
        rows.append(
            QuotaRow(
                code=unit.code,
                name=unit.name,
                tin=t,
                bai=bai.get(unit.code, 0),
                quarter_bai=q,
                tin_target=targets.tin_per_month,
                bai_target=targets.bai_per_quarter,
                tin_status=status(t, targets.tin_per_month, month_end, today, targets.review_days),
                bai_status=status(q, targets.bai_per_quarter, quarter_end, today, targets.review_days),
            )
        )
    return rows
