"""Royalty periods: months that close on the tally day, quarters of three of them. Pure functions.

A royalty month is named by the month it closes in. With the tally day 28, period "2026-12" runs from
28/11/2026 00:00 to 28/12/2026 00:00 in the office's time zone, half-open: an item published at
27/12/2026 23:59 counts in "2026-12", one at 28/12/2026 00:00 in "2027-01".

A tally day of 29, 30 or 31 that a month does not have clamps to that month's last day: with the
tally day 31, "2026-03" runs from 28/02/2026 00:00 (29/02 in a leap year) to 31/03/2026 00:00, and
"2026-02" from 31/01/2026 to 28/02/2026. Each boundary is one month's (clamped) tally date, so the
periods always tile the time line with no gap and no overlap, whatever the day.

Quarters are three royalty months: Q1 = "01".."03", ..., Q4 = "10".."12" (ending in March, June,
September and December). Royalties of a period are paid on the payment day of the next month
(clamped the same way): "2026-12" is paid on 05/01/2027.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.errors import Bilingual

if TYPE_CHECKING:
    from core.settings import Settings

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")
OFFICE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class PeriodError(Bilingual, ValueError):
    """A period text that is not "YYYY-MM"."""


@dataclass(frozen=True)
class Calendar:
    """The office's calendar rules (from [calendar] and [organization] timezone)."""

    tally_day: int = 28
    payment_day: int = 5
    tz: ZoneInfo = OFFICE_TZ

    def __post_init__(self) -> None:
        for name in ("tally_day", "payment_day"):
            if not 1 <= getattr(self, name) <= 31:
                raise ValueError(f"{name} must be 1..31")

    @classmethod
    def from_settings(cls, settings: Settings) -> Calendar:
        return cls(settings.calendar.tally_day, settings.calendar.payment_day, settings.tz)


def _cal(rules: Calendar | Settings) -> Calendar:
    return rules if isinstance(rules, Calendar) else Calendar.from_settings(rules)


@lru_cache(maxsize=4096)
def clamped(year: int, month: int, day: int) -> date:
    """`day` of the month, or the month's last day when it is shorter (cached: a report dates tens of
    thousands of items against a few dozen months)."""
    return date(year, month, min(day, _calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, order=True)
class Period:
    """A royalty month, named by the month it closes in."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9998):
            raise PeriodError("kỳ không hợp lệ", f"invalid period {self.year}-{self.month}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, text: str) -> Period:
        """Strictly "YYYY-MM" (ASCII digits, month 01..12): "2026-1", "2026-13", " 2026-12" are errors."""
        m = _PERIOD.fullmatch(text) if isinstance(text, str) else None
        if not m:
            raise PeriodError("kỳ phải có dạng YYYY-MM", f"a period is YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def quarter(self) -> Quarter:
        return Quarter(self.year, (self.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"tháng {self.month:02d}/{self.year}"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    def __str__(self) -> str:
        return f"{self.year:04d}-Q{self.number}"

    @property
    def periods(self) -> tuple[Period, Period, Period]:
        first = 3 * self.number - 2
        return (Period(self.year, first), Period(self.year, first + 1), Period(self.year, first + 2))

    @property
    def label(self) -> str:
        return f"quý {('I', 'II', 'III', 'IV')[self.number - 1]}/{self.year}"


@dataclass(frozen=True)
class Bounds:
    """[start, end): aware datetimes in the office's zone."""

    start: datetime
    end: datetime

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def parse_period(text: str) -> Period:
    return Period.parse(text)


def next_period(period: Period) -> Period:
    return period.next()


def previous_period(period: Period) -> Period:
    return period.previous()


def quarter_of(period: Period) -> Quarter:
    return period.quarter


def tally_date(period: Period, rules: Calendar | Settings) -> date:
    """The day the period closes (at 00:00): its end."""
    return clamped(period.year, period.month, _cal(rules).tally_day)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def bounds(period: Period | Quarter, rules: Calendar | Settings) -> Bounds:
    """Start (inclusive) and end (exclusive) of a royalty month or quarter, at 00:00 office time."""
    cal = _cal(rules)
    if isinstance(period, Quarter):
        first, _, last = period.periods
        return Bounds(bounds(first, cal).start, bounds(last, cal).end)
    return Bounds(
        _midnight(tally_date(period.previous(), cal), cal.tz),
        _midnight(tally_date(period, cal), cal.tz),
    )


def local_date(instant: datetime | date, rules: Calendar | Settings) -> date:
    """The office-local day of an instant. A plain `date` is already an office day."""
    if isinstance(instant, datetime):
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("instant must be timezone-aware")
        return instant.astimezone(_cal(rules).tz).date()
    return instant


def period_of(instant: datetime | date, rules: Calendar | Settings) -> Period:
    """The royalty month an instant (aware datetime) or an office-local day falls in."""
    cal = _cal(rules)
    day = local_date(instant, cal)
    here = Period(day.year, day.month)
    return here.next() if day >= tally_date(here, cal) else here


PeriodFinder = Callable[[datetime | date], Period]


def period_finder(rules: Calendar | Settings) -> PeriodFinder:
    """`period_of` for the thousands of items of one report: each period met is remembered by its
    bounds as POSIX timestamps, so an aware instant costs a few float comparisons, not a time-zone
    conversion and two date computations. Same answers as `period_of`."""
    cal = _cal(rules)
    spans: list[tuple[float, float, Period]] = []

    def find(instant: datetime | date) -> Period:
        if not isinstance(instant, datetime) or instant.utcoffset() is None:
            return period_of(instant, cal)  # an office day (or a naive instant: period_of's error)
        ts = instant.timestamp()
        for start, end, known in spans:
            if start <= ts < end:
                return known
        found = period_of(instant, cal)
        b = bounds(found, cal)
        spans.append((b.start.timestamp(), b.end.timestamp(), found))
        return found

    return find


def payment_date(period: Period, rules: Calendar | Settings) -> date:
    """The payment day of the month after the period's month (clamped to a short month's last day)."""
    after = period.next()
    return clamped(after.year, after.month, _cal(rules).payment_day)


def days_left(period: Period, now: datetime, rules: Calendar | Settings) -> int:
    """Whole office days from `now`'s day until the period closes (0 once it has closed)."""
    return max(0, (tally_date(period, rules) - local_date(now, rules)).days)


def reminder_date(period: Period, days_before: int, rules: Calendar | Settings) -> date:
    return tally_date(period, rules) - timedelta(days=days_before)


def counting_period(
    item_date: datetime | date,
    closed_periods: Iterable[Period],
    now: datetime | date,
    rules: Calendar | Settings,
    *,
    find: PeriodFinder | None = None,
) -> Period:
    """The period an item counts in. Its own period, unless that one is already closed (the item was
    counted late): then the open period, i.e. the period of `now` or, if that is closed as well,
    the first one after it that is not. Closed periods are never reopened. `find`: a
    `period_finder` of the same rules, when many items are placed at once."""
    closed = closed_periods if isinstance(closed_periods, set | frozenset) else set(closed_periods)
    own = find(item_date) if find else period_of(item_date, rules)
    if own not in closed:
        return own
    candidate = max(own, find(now) if find else period_of(now, rules))
    while candidate in closed:
        candidate = candidate.next()
    return candidate
