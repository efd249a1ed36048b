"""Royalty periods: tally-day boundaries, clamping, quarters, payment dates, late items."""

import calendar
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.periods import (
    OFFICE_TZ,
    Calendar,
    Period,
    PeriodError,
    Quarter,
    bounds,
    counting_period,
    days_left,
    payment_date,
    period_finder,
    period_of,
    quarter_of,
    reminder_date,
)

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

CAL = Calendar(tally_day=28, payment_day=5)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=OFFICE_TZ)


def test_the_december_period_runs_from_the_28th_of_november() -> None:
    b = bounds(Period(2026, 12), CAL)
    assert (b.start, b.end) == (local(2026, 11, 28), local(2026, 12, 28))
    assert period_of(local(2026, 12, 27, 23, 59, 59), CAL) == Period(2026, 12)
    assert period_of(local(2026, 12, 28), CAL) == Period(2027, 1)
    assert period_of(local(2026, 11, 28), CAL) == Period(2026, 12)
    # 17:00 UTC on the 27th is 00:00 on the 28th in the office: the next period already.
    assert period_of(datetime(2026, 12, 27, 17, 0, tzinfo=UTC), CAL) == Period(2027, 1)
    assert period_of(datetime(2026, 12, 27, 16, 59, tzinfo=UTC), CAL) == Period(2026, 12)
    assert period_of(date(2026, 12, 27), CAL) == Period(2026, 12)


def test_year_end_quarters_and_payment() -> None:
    assert bounds(Period(2027, 1), CAL).start == local(2026, 12, 28)
    assert quarter_of(Period(2026, 12)) == Quarter(2026, 4)
    assert Quarter(2026, 4).periods == (Period(2026, 10), Period(2026, 11), Period(2026, 12))
    q = bounds(Quarter(2026, 4), CAL)
    assert (q.start, q.end) == (local(2026, 9, 28), local(2026, 12, 28))
    assert quarter_of(Period(2026, 1)) == Quarter(2026, 1)
    assert bounds(Quarter(2026, 1), CAL).start == local(2025, 12, 28)
    assert payment_date(Period(2026, 12), CAL) == date(2027, 1, 5)
    assert payment_date(Period(2026, 1), Calendar(28, 31)) == date(2026, 2, 28)
    assert payment_date(Period(2028, 1), Calendar(28, 30)) == date(2028, 2, 29)
    assert (Period(2026, 12).next(), Period(2027, 1).previous()) == (Period(2027, 1), Period(2026, 12))


@pytest.mark.parametrize(
    ("tally", "year", "feb_end"),
    [(29, 2028, 29), (29, 2026, 28), (30, 2028, 29), (30, 2026, 28), (31, 2028, 29), (31, 2100, 28), (31, 2000, 29)],
)
def test_a_tally_day_february_lacks_clamps_to_its_last_day(tally: int, year: int, feb_end: int) -> None:
    cal = Calendar(tally_day=tally)
    feb, mar = bounds(Period(year, 2), cal), bounds(Period(year, 3), cal)
    assert feb.end == mar.start == local(year, 2, feb_end)
    assert feb.start == local(year, 1, min(tally, 31))
    assert mar.end == local(year, 3, tally)
    assert period_of(local(year, 2, feb_end) - timedelta(seconds=1), cal) == Period(year, 2)
    assert period_of(local(year, 2, feb_end), cal) == Period(year, 3)


def test_a_tally_day_of_31_in_30_day_months() -> None:
    cal = Calendar(tally_day=31)
    assert bounds(Period(2026, 4), cal).end == local(2026, 4, 30)
    assert bounds(Period(2026, 5), cal).start == local(2026, 4, 30)
    assert bounds(Period(2026, 5), cal).end == local(2026, 5, 31)
    assert period_of(local(2026, 4, 30, 12), cal) == Period(2026, 5)


@pytest.mark.parametrize(
    "text", ["2026-1", "2026-13", "2026-00", " 2026-12", "2026-12\n", "26-12", "२०२६-१२", "2026/12", ""]
)
def test_period_text_is_strictly_yyyy_mm(text: str) -> None:
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_period_text_round_trips() -> None:
    assert str(Period.parse("2026-12")) == "2026-12" and Period.parse("0999-01") == Period(999, 1)


periods = st.builds(Period, st.integers(1950, 2150), st.integers(1, 12))
tally_days = st.integers(28, 31) | st.integers(1, 27)
instants = st.datetimes(
    min_value=datetime(1950, 6, 1), max_value=datetime(2150, 6, 1), timezones=st.sampled_from([UTC, OFFICE_TZ])
)


@given(instants, tally_days)
def test_every_instant_is_inside_the_bounds_of_its_period(instant: datetime, tally: int) -> None:
    cal = Calendar(tally_day=tally)
    p = period_of(instant, cal)
    assert instant in bounds(p, cal)
    assert instant not in bounds(p.next(), cal) and instant not in bounds(p.previous(), cal)
    assert instant in bounds(quarter_of(p), cal)


@given(st.lists(instants, min_size=1, max_size=40), tally_days)
def test_the_finder_of_a_report_agrees_with_period_of(batch: list[datetime], tally: int) -> None:
    # One finder over many instants, in any order, with the bounds themselves among them: it remembers
    # the periods it met, and must never answer from a remembered one that does not hold the instant.
    cal = Calendar(tally_day=tally)
    edges = [e for i in batch[:3] for e in (bounds(period_of(i, cal), cal).start, bounds(period_of(i, cal), cal).end)]
    find = period_finder(cal)
    for instant in batch + edges + [e - timedelta(microseconds=1) for e in edges]:
        assert find(instant) == period_of(instant, cal)
    assert find(date(2026, 12, 27)) == period_of(date(2026, 12, 27), cal)


@given(periods, tally_days)
def test_periods_tile_the_time_line(p: Period, tally: int) -> None:
    cal = Calendar(tally_day=tally)
    b = bounds(p, cal)
    assert b.end == bounds(p.next(), cal).start and b.start == bounds(p.previous(), cal).end
    assert timedelta(days=28) <= b.end - b.start <= timedelta(days=31)
    assert period_of(b.start, cal) == p and period_of(b.end - timedelta(microseconds=1), cal) == p
    last_day = calendar.monthrange(p.year, p.month)[1]
    assert (b.end.year, b.end.month, b.end.day) == (p.year, p.month, min(tally, last_day))
    assert b.end.time() == time(0, 0) and b.end.tzinfo is OFFICE_TZ
    assert Period.parse(str(p)) == p and p.next().previous() == p


@given(periods)
def test_quarters_are_three_consecutive_periods_ending_in_a_quarter_month(p: Period) -> None:
    q = quarter_of(p)
    first, second, third = q.periods
    assert p in q.periods and third.month in (3, 6, 9, 12)
    assert (first.next(), second.next()) == (second, third)
    assert bounds(q, CAL).start == bounds(first, CAL).start and bounds(q, CAL).end == bounds(third, CAL).end
    assert quarter_of(third.next()) != q


@given(instants, st.sets(periods, max_size=6), instants)
def test_a_late_item_counts_in_the_open_period(item: datetime, closed: set[Period], now: datetime) -> None:
    p = counting_period(item, closed, now, CAL)
    assert p not in closed
    own = period_of(item, CAL)
    if own not in closed:
        assert p == own
    else:
        assert p >= own and p >= period_of(now, CAL)
        assert all(q in closed for q in _between(max(own, period_of(now, CAL)), p))


def _between(a: Period, b: Period) -> list[Period]:
    out = []
    while a < b:
        out.append(a)
        a = a.next()
    return out


def test_late_item_example() -> None:
    closed = {Period(2026, 11), Period(2026, 12)}
    now = local(2026, 12, 30, 9)  # in period 2027-01, which is open
    assert counting_period(local(2026, 11, 20), closed, now, CAL) == Period(2027, 1)
    assert counting_period(local(2026, 10, 2), closed, now, CAL) == Period(2026, 10)  # not closed
    assert counting_period(date(2026, 12, 1), closed, local(2026, 12, 1), CAL) == Period(2027, 1)


def test_days_left() -> None:
    assert days_left(Period(2026, 12), local(2026, 12, 25, 23), CAL) == 3
    assert days_left(Period(2026, 12), local(2026, 12, 28, 1), CAL) == 0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        period_of(datetime(2026, 12, 1), CAL)


def test_reminder_date_is_days_before_the_tally_day() -> None:
    assert reminder_date(Period(2026, 12), 5, CAL) == date(2026, 12, 23)
    assert reminder_date(Period(2027, 2), 5, Calendar(tally_day=31)) == date(2027, 2, 23)
