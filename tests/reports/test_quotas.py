"""Quotas per unit: tin per month, bài per quarter, duplicates once, met / not met / at risk."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.settings import Unit
from reports.periods import OFFICE_TZ, Calendar, Period
from reports.quotas import CountedItem, Status, Targets, deduplicate, quota_rows, status

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

CAL = Calendar()
UNITS = [Unit("VP", "Chi bộ Văn phòng", ()), Unit("TC", "Chi bộ Ban Tổ chức", ()), Unit("CD", "Công đoàn", ())]
TARGETS = Targets(tin_per_month=1, bai_per_quarter=1, review_days=3)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=OFFICE_TZ)


def test_counts_and_statuses_after_the_tally() -> None:
    items = [
        CountedItem(1, "VP", "tin", at(2026, 12, 2, 9)),
        CountedItem(2, "VP", "tin", at(2026, 12, 3, 9), duplicate_of=1),  # re-sent: once
        CountedItem(3, "VP", "bai", at(2026, 10, 15)),  # period 2026-10, same quarter
        CountedItem(4, "TC", "tin", at(2026, 11, 27, 23)),  # period 2026-11: not this month
        CountedItem(5, "TC", "bai", at(2026, 12, 28, 0)),  # period 2027-01: next quarter
        CountedItem(6, "CD", "bai", at(2026, 12, 20)),
        CountedItem(7, "CD", "bai", at(2026, 12, 21), duplicate_of=6),
        CountedItem(8, None, "tin", at(2026, 12, 5)),  # no unit: not in any row
        CountedItem(9, "XX", "tin", at(2026, 12, 5)),  # a unit not in the settings
    ]
    rows = quota_rows(items, UNITS, Period(2026, 12), at(2026, 12, 28, 1), CAL, TARGETS)
    got = {r.code: (r.tin, r.bai, r.quarter_bai, r.tin_status, r.bai_status) for r in rows}
    assert got == {
        "VP": (1, 0, 1, Status.met, Status.met),
        "TC": (0, 0, 0, Status.not_met, Status.not_met),
        "CD": (0, 1, 1, Status.not_met, Status.met),
    }
    assert [r.code for r in rows] == ["VP", "TC", "CD"] and rows[0].tin_met and not rows[1].bai_met


def test_at_risk_while_open_with_less_time_than_a_review() -> None:
    rows = quota_rows([], UNITS[:1], Period(2026, 12), at(2026, 12, 26, 8), CAL, TARGETS)
    assert (rows[0].tin_status, rows[0].bai_status) == (Status.at_risk, Status.at_risk)
    rows = quota_rows([], UNITS[:1], Period(2026, 12), at(2026, 12, 20, 8), CAL, TARGETS)
    assert (rows[0].tin_status, rows[0].bai_status) == (Status.not_met, Status.not_met)
    # October: the month is at risk, the quarter still has two months to go.
    rows = quota_rows([], UNITS[:1], Period(2026, 10), date(2026, 10, 27), CAL, TARGETS)
    assert (rows[0].tin_status, rows[0].bai_status) == (Status.at_risk, Status.not_met)
    assert status(0, 0, date(2026, 12, 28), date(2026, 12, 27), 3) is Status.met


def test_a_late_item_counts_in_the_open_period() -> None:
    late = [CountedItem(1, "VP", "tin", at(2026, 11, 20))]  # its period 2026-11 is closed
    now = at(2026, 12, 10)
    rows = quota_rows(late, UNITS[:1], Period(2026, 12), now, CAL, TARGETS, closed={Period(2026, 11)})
    assert rows[0].tin == 1
    rows = quota_rows(late, UNITS[:1], Period(2026, 12), now, CAL, TARGETS)
    assert rows[0].tin == 0


@given(st.lists(st.tuples(st.integers(1, 30), st.none() | st.integers(1, 30), st.integers(1, 27)), max_size=30))
def test_each_duplicate_group_counts_once(raw: list[tuple[int, int | None, int]]) -> None:
    items = [CountedItem(i, "VP", "tin", date(2026, 12, day), dup) for i, dup, day in raw]
    groups = {dup if dup is not None else i for i, dup, _ in raw}
    assert len(deduplicate(items, CAL)) == len(groups)
    rows = quota_rows(items, UNITS[:1], Period(2026, 12), date(2026, 12, 28), CAL, TARGETS)
    assert rows[0].tin == len(groups)
