"""Amount in words and money rounding.

The table is written by hand from the reading rules (core/money.py's docstring), not produced by the
function; the properties check the shape of every output and round-trip it through a small parser
written separately from the same grammar.
"""

import re
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.formats import format_money
from core.money import LIMIT, amount_in_words, number_in_words, round_money

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

TABLE = [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (4, "Bốn đồng"),
    (5, "Năm đồng"),
    (9, "Chín đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),
    (14, "Mười bốn đồng"),
    (15, "Mười lăm đồng"),
    (19, "Mười chín đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi tư đồng"),
    (25, "Hai mươi lăm đồng"),
    (27, "Hai mươi bảy đồng"),
    (30, "Ba mươi đồng"),
    (55, "Năm mươi lăm đồng"),
    (91, "Chín mươi mốt đồng"),
    (99, "Chín mươi chín đồng"),
    (100, "Một trăm đồng"),
    (101, "Một trăm lẻ một đồng"),
    (104, "Một trăm lẻ bốn đồng"),
    (105, "Một trăm lẻ năm đồng"),
    (110, "Một trăm mười đồng"),
    (111, "Một trăm mười một đồng"),
    (115, "Một trăm mười lăm đồng"),
    (120, "Một trăm hai mươi đồng"),
    (121, "Một trăm hai mươi mốt đồng"),
    (205, "Hai trăm lẻ năm đồng"),
    (999, "Chín trăm chín mươi chín đồng"),
    (1_000, "Một nghìn đồng"),
    (1_001, "Một nghìn không trăm lẻ một đồng"),
    (1_005, "Một nghìn không trăm lẻ năm đồng"),
    (1_010, "Một nghìn không trăm mười đồng"),
    (1_015, "Một nghìn không trăm mười lăm đồng"),
    (1_020, "Một nghìn không trăm hai mươi đồng"),
    (1_100, "Một nghìn một trăm đồng"),
    (2_026, "Hai nghìn không trăm hai mươi sáu đồng"),
    (10_000, "Mười nghìn đồng"),
    (15_000, "Mười lăm nghìn đồng"),
    (21_000, "Hai mươi mốt nghìn đồng"),
    (100_000, "Một trăm nghìn đồng"),
    (105_000, "Một trăm lẻ năm nghìn đồng"),
    (234_000, "Hai trăm ba mươi tư nghìn đồng"),
    (253_000, "Hai trăm năm mươi ba nghìn đồng"),
    (126_500, "Một trăm hai mươi sáu nghìn năm trăm đồng"),
    (1_000_000, "Một triệu đồng"),
    (1_000_005, "Một triệu không trăm lẻ năm đồng"),
    (1_000_100, "Một triệu một trăm đồng"),
    (1_001_000, "Một triệu không trăm lẻ một nghìn đồng"),
    (1_005_000, "Một triệu không trăm lẻ năm nghìn đồng"),
    (1_010_000, "Một triệu không trăm mười nghìn đồng"),
    (1_234_000, "Một triệu hai trăm ba mươi tư nghìn đồng"),
    (2_340_000, "Hai triệu ba trăm bốn mươi nghìn đồng"),
    (2_530_000, "Hai triệu năm trăm ba mươi nghìn đồng"),
    (4_014_000, "Bốn triệu không trăm mười bốn nghìn đồng"),
    (10_000_000, "Mười triệu đồng"),
    (15_015_015, "Mười lăm triệu không trăm mười lăm nghìn không trăm mười lăm đồng"),
    (21_021_021, "Hai mươi mốt triệu không trăm hai mươi mốt nghìn không trăm hai mươi mốt đồng"),
    (100_000_001, "Một trăm triệu không trăm lẻ một đồng"),
    (999_999_999, "Chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn chín trăm chín mươi chín đồng"),
    (1_000_000_000, "Một tỷ đồng"),
    (1_000_000_001, "Một tỷ không trăm lẻ một đồng"),
    (1_001_000_000, "Một tỷ không trăm lẻ một triệu đồng"),
    (2_500_000_000, "Hai tỷ năm trăm triệu đồng"),
    (10_000_000_000, "Mười tỷ đồng"),
    (105_000_000_000, "Một trăm lẻ năm tỷ đồng"),
    (1_000_000_000_000, "Một nghìn tỷ đồng"),
    (1_005_000_000_000, "Một nghìn không trăm lẻ năm tỷ đồng"),
    (1_000_500_000_000, "Một nghìn tỷ năm trăm triệu đồng"),
    (1_000_000_005_000, "Một nghìn tỷ không trăm lẻ năm nghìn đồng"),
    (25_000_000_000_000, "Hai mươi lăm nghìn tỷ đồng"),
]


@pytest.mark.parametrize(("amount", "words"), TABLE)
def test_amount_in_words_table(amount: int, words: str) -> None:
    assert amount_in_words(amount) == words
    assert amount_in_words(Decimal(amount)) == words


def test_the_table_is_big_enough_and_has_the_named_cases() -> None:
    amounts = {a for a, _ in TABLE}
    assert len(TABLE) >= 60
    assert {1_005_000, 1_020, 2_026, 10, 15, 21, 25, 101, 110, 1_000_000_000, 1_000_000_000_000} <= amounts


def test_regional_variants() -> None:
    assert amount_in_words(105, odd="linh") == "Một trăm linh năm đồng"
    assert amount_in_words(24, four="bốn") == "Hai mươi bốn đồng"


@pytest.mark.parametrize("bad", [-1, LIMIT, Decimal("1.5"), Decimal("NaN"), 1.0, True, "100"])
def test_refuses_what_is_not_whole_dong_in_range(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        amount_in_words(bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ an independent parser
VALUES = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5}
VALUES |= {"sáu": 6, "bảy": 7, "tám": 8, "chín": 9}


def parse_words(text: str) -> int:
    """Vietnamese number words back to an int: digits add; "mươi" makes the last digit tens, "trăm"
    hundreds; "mười" adds ten; "nghìn"/"triệu" close a group; "tỷ" multiplies everything so far."""
    billions = section = current = last = 0
    for word in text.split(" "):
        if word in VALUES:
            last = VALUES[word]
            current += last
        elif word == "mười":
            current += 10
        elif word == "mươi":
            current += last * 9
        elif word == "trăm":
            current += last * 99
        elif word == "lẻ":
            pass
        elif word == "nghìn":
            section += current * 1000
            current = 0
        elif word == "triệu":
            section += current * 1_000_000
            current = 0
        elif word == "tỷ":
            billions = (billions + section + current) * 1_000_000_000
            section = current = 0
        else:
            raise ValueError(word)
    return billions + section + current


GROUP = r"(?:(?:không|một|hai|ba|bốn|năm|sáu|bảy|tám|chín) trăm)"
TEEN = r"mười(?: (?:một|hai|ba|bốn|lăm|sáu|bảy|tám|chín))?"
TENS = rf"(?:{TEEN}|(?:hai|ba|bốn|năm|sáu|bảy|tám|chín) mươi(?: (?:mốt|hai|ba|tư|lăm|sáu|bảy|tám|chín))?)"
UNIT = r"(?:một|hai|ba|bốn|năm|sáu|bảy|tám|chín)"
# One group: hundreds, then tens or "lẻ" + unit; or a bare tens/unit (only the highest group).
WELL_FORMED_GROUP = re.compile(rf"(?:{GROUP}(?: {TENS}| lẻ {UNIT})?|{TENS}|{UNIT})")


@given(st.integers(min_value=0, max_value=LIMIT - 1))
@example(10**12)  # "một nghìn tỷ": the only place two scale words meet
@example(10**12 + 5 * 10**9 + 7)
def test_words_round_trip_and_are_well_formed(n: int) -> None:
    words = amount_in_words(n)
    assert words.endswith(" đồng") and words[0].isupper() and words[1:] == words[1:].lower()
    assert "  " not in words and words == words.strip()
    body = words[: -len(" đồng")].lower()
    assert parse_words(body) == n
    if n:
        for group in re.split(r" (?:nghìn tỷ|nghìn|triệu|tỷ)(?: |$)", body):
            assert group == "" or WELL_FORMED_GROUP.fullmatch(group), (n, group)
        # "không trăm" only after a higher group; "mốt"/"tư"/"lăm" only after tens.
        assert not body.startswith("không")
        assert not re.search(r"(?:^|trăm |lẻ |mười )(?:mốt|tư)\b", body)


@given(st.integers(min_value=1, max_value=10**12))
def test_the_number_words_match_the_amount_words(n: int) -> None:
    assert amount_in_words(n) == number_in_words(n).capitalize() + " đồng"


def test_round_money_modes_and_steps() -> None:
    assert round_money(Decimal("126500.5")) == Decimal(126501)
    assert round_money(Decimal("126500.5"), 1, "half_even") == Decimal(126500)
    assert round_money(Decimal("126499"), 1000) == Decimal(126000)
    assert round_money(Decimal("126500"), 1000) == Decimal(127000)
    assert round_money(Decimal("126500"), 1000, "half_even") == Decimal(126000)
    assert round_money(Decimal("126001"), 1000, "up") == Decimal(127000)
    assert round_money(Decimal("126999"), 1000, "down") == Decimal(126000)
    assert format_money(round_money(Decimal("1234000.4"))) == "1.234.000 đ"
    with pytest.raises(TypeError):
        round_money(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        round_money(Decimal(1), 0)
