"""How numbers and dates are shown to Vietnamese readers: 05/01/2026, 1.234.000 đ."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo


def format_date(value: date | datetime, tz: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value: datetime, tz: ZoneInfo | None = None) -> str:
    if tz is not None:
        value = value.astimezone(tz)
    return f"{value.hour:02d}:{value.minute:02d} {format_date(value)}"


_LOCAL_DATETIME = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:h](\d{2}))?\s*")


def parse_local_datetime(text: str, tz: ZoneInfo) -> datetime:
    """'dd/mm/yyyy HH:MM' (or 'dd/mm/yyyy', midnight) in the office's time zone -> aware UTC.
    Also the 'yyyy-mm-ddTHH:MM' a browser's datetime-local field sends. ValueError otherwise."""
    match = _LOCAL_DATETIME.fullmatch(text)
    if match:
        day, month, year, hour, minute = (int(x) if x else 0 for x in match.groups())
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    else:
        try:
            local = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(f"không đúng dạng dd/mm/yyyy HH:MM: {text[:40]!r}") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


def parse_day(text: str) -> date:
    """A day as people type it (dd/mm/yyyy) or as forms and scripts send it (YYYY-MM-DD)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"Ngày không hợp lệ: {text[:40]!r} (dd/mm/yyyy hoặc YYYY-MM-DD).")


def format_money(amount: Decimal | int) -> str:
    """Whole đồng with dot thousands separators: 1234000 -> '1.234.000 đ'."""
    value = Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    digits = f"{abs(int(value)):,}".replace(",", ".")
    return f"{sign}{digits} đ"


def format_size(n: int) -> str:
    """File sizes in the decimal style Vietnamese users read: '2,5 MB'."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".", ",")
    return f"{n} B"


def json_text(data: Any) -> str:
    """What the `--json` commands print: UTF-8 Vietnamese as is (not \\u escapes), indented, one newline."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
