"""Money: whole-đồng rounding and the amount in words ("Số tiền bằng chữ") of payment documents.

Everything is `Decimal` or `int`; no float ever touches an amount. The display form "1.234.000 đ" is
`core.formats.format_money`.

How an amount is read (the accounting convention, e.g. "Một triệu không trăm lẻ năm nghìn đồng"):
- digits are grouped by three from the right: đơn vị, nghìn, triệu, tỷ; the part above a tỷ is read
  as a number of its own followed by "tỷ" ("một nghìn tỷ" = 10^12, "một nghìn không trăm lẻ năm tỷ");
- a group that is all zeros is left out (1.000.005 = "một triệu không trăm lẻ năm");
- the highest group is read as it is ("năm nghìn", "mười lăm nghìn"); every later group is read with
  its three digits ("không trăm lẻ năm", "không trăm mười", "không trăm hai mươi");
- tens: 10-19 are "mười", "mười một", ..., "mười lăm"; 20-99 are "<digit> mươi" ("hai mươi");
- units after "mươi": 1 = "mốt", 4 = "tư", 5 = "lăm"; after "mười": 5 = "lăm" ("mười một", "mười bốn");
- a zero tens digit between hundreds and a non-zero unit is "lẻ" ("một trăm lẻ năm"; "linh" optional);
- the first letter is a capital and the words end in " đồng"; 0 is "Không đồng".
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUPS = ("", "nghìn", "triệu")  # below a tỷ; above it the count of tỷ is read on its own
BILLION = 10**9
LIMIT = 10**15  # up to 999.999 tỷ (999 nghìn tỷ ...)

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN, "up": ROUND_UP}


def round_money(amount: Decimal, step: Decimal | int | str = 1, mode: str = "half_up") -> Decimal:
    """Round to a multiple of `step` đồng (1, 100, 1000 ...) with the named mode; the result is whole đồng."""
    step = Decimal(step)
    if step <= 0 or step != step.to_integral_value():
        raise ValueError(f"rounding step must be a positive whole number of đồng, got {step}")
    if not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be Decimal or int, got {type(amount).__name__}")
    units = (Decimal(amount) / step).quantize(Decimal(1), rounding=ROUNDING_MODES[mode])
    return (units * step).quantize(Decimal(1))


def _three(group: int, full: bool, odd: str, four: str) -> list[str]:
    """Words of 0 < group < 1000. `full` reads the hundreds even when zero ("không trăm ...")."""
    hundreds, rest = divmod(group, 100)
    tens, unit = divmod(rest, 10)
    words: list[str] = []
    if full or hundreds:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if unit:
            if words:
                words.append(odd)
            words.append(DIGITS[unit])
    elif tens == 1:
        words.append("mười")
        if unit:
            words.append("lăm" if unit == 5 else DIGITS[unit])
    else:
        words += [DIGITS[tens], "mươi"]
        if unit:
            words.append({1: "mốt", 4: four, 5: "lăm"}.get(unit, DIGITS[unit]))
    return words


def _words(n: int, full: bool, odd: str, four: str) -> list[str]:
    """Words of 0 < n < LIMIT; `full`: n follows a higher group, so its first group is read in full."""
    if n >= BILLION:
        high, low = divmod(n, BILLION)
        words = [*_words(high, full, odd, four), "tỷ"]
        return words + _words(low, True, odd, four) if low else words
    words = []
    for power in (2, 1, 0):
        group = n // 1000**power % 1000
        if group:
            words += _three(group, full or bool(words), odd, four)
            if GROUPS[power]:
                words.append(GROUPS[power])
    return words


def number_in_words(n: int, *, odd: str = "lẻ", four: str = "tư") -> str:
    """Lower-case Vietnamese words of a whole number 0 <= n < 10^15."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a whole number is needed, got {n!r}")
    if not 0 <= n < LIMIT:
        raise ValueError(f"out of range 0..{LIMIT - 1}: {n}")
    if odd not in ("lẻ", "linh") or four not in ("tư", "bốn"):
        raise ValueError("odd is 'lẻ' or 'linh'; four is 'tư' or 'bốn'")
    return "không" if n == 0 else " ".join(_words(n, False, odd, four))


def amount_in_words(amount: Decimal | int, *, odd: str = "lẻ", four: str = "tư") -> str:
    """'Một triệu không trăm lẻ năm nghìn đồng' for 1005000. The amount must be whole đồng (round first)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be Decimal or int, got {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"amount in words needs whole đồng, got {amount}")
    words = number_in_words(int(value), odd=odd, four=four)
    return words[0].upper() + words[1:] + " đồng"
