from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.formats import format_date, format_datetime, format_money, format_size

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out


def test_dates_are_dd_mm_yyyy_in_the_office_zone() -> None:
    assert format_date(date(2026, 1, 5)) == "05/01/2026"
    # 20:30 UTC on 31/12 is already 01/01 in Hà Nội (UTC+7).
    dt = datetime(2025, 12, 31, 20, 30, tzinfo=UTC)
    assert format_date(dt, ZoneInfo("Asia/Ho_Chi_Minh")) == "01/01/2026"
    assert format_datetime(dt, ZoneInfo("Asia/Ho_Chi_Minh")) == "03:30 01/01/2026"


def test_money_uses_dots_and_dong() -> None:
    assert format_money(Decimal("1234000")) == "1.234.000 đ"
    assert format_money(253000) == "253.000 đ"
    assert format_money(Decimal("999.5")) == "1.000 đ"
    assert format_money(0) == "0 đ"


def test_sizes() -> None:
    assert format_size(25 * 2**20) == "25,0 MB"
    assert format_size(512) == "512 B"
