"""Royalty money: base salary by date, rounding, photos, shared items, tax withholding."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import round_money
from core.settings import load_settings
from reports.royalty import (
    Author,
    RoyaltyError,
    RoyaltyItem,
    RoyaltyRules,
    base_salary_on,
    compute_lines,
    line_amount,
    split,
    totals,
    unit_value,
    withhold,
)

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(REPO / "settings.toml")
RULES = RoyaltyRules.from_settings(SETTINGS)
D = Decimal


def rules(**changes: Any) -> RoyaltyRules:
    from dataclasses import replace

    return replace(RULES, **changes)


def test_base_salary_changes_on_the_first_of_july_2026() -> None:
    assert base_salary_on(date(2026, 6, 30), RULES.base_salary) == D(2_340_000)
    assert base_salary_on(date(2026, 7, 1), RULES.base_salary) == D(2_530_000)
    assert unit_value(date(2026, 6, 30), RULES) == D(234_000)
    assert unit_value(date(2026, 7, 1), RULES) == D(253_000)
    with pytest.raises(RoyaltyError):
        base_salary_on(date(2024, 6, 30), RULES.base_salary)


@given(st.dates(min_value=date(2024, 7, 1), max_value=date(2030, 12, 31)))
def test_the_row_in_force_on_the_counting_date_applies(day: date) -> None:
    expected = D(2_530_000) if day >= date(2026, 7, 1) else D(2_340_000)
    assert base_salary_on(day, RULES.base_salary) == expected
    assert line_amount(D("1.5"), day, RULES) == expected * D("0.15")


def test_amounts_round_with_the_configured_step_and_mode() -> None:
    day = date(2026, 12, 1)
    assert line_amount(D(1), day, RULES) == D(253_000)
    assert line_amount(D("2.25"), day, RULES) == D(569_250)
    assert line_amount(D("0.33"), day, RULES) == D(83_490)
    assert line_amount(D("2.25"), day, rules(rounding=D(1000))) == D(569_000)
    assert line_amount(D("2.25"), day, rules(rounding=D(1000), rounding_mode="up")) == D(570_000)
    assert line_amount(D("0.5"), day, RULES, quantity=3) == D(379_500)  # three photos at 0,5
    # 12,5 % of 2.530.000 = 316.250 per unit; 1,01 x = 319.412,5 -> half-up 319.413
    assert line_amount(D("1.01"), day, rules(unit_value_percent=D("12.5"))) == D(319_413)


def test_an_item_with_photos_and_two_authors() -> None:
    item = RoyaltyItem(
        item_id=7,
        title="Hội nghị sơ kết",
        unit="VP",
        kind="tin",
        coefficient=D("1.5"),
        counted_on=date(2026, 12, 10),
        authors=(Author("Trần Thị B", D(2)), Author("Lê Văn C", D(1))),
        photos=2,
    )
    lines = compute_lines([item], RULES)
    assert [(ln.kind, ln.author, ln.quantity, ln.amount) for ln in lines] == [
        ("tin", "Trần Thị B", 1, D(253_000)),  # 379.500 x 2/3
        ("tin", "Lê Văn C", 1, D(126_500)),
        ("anh", "Trần Thị B", 2, D(168_667)),  # 253.000 x 2/3 = 168.666,67: the odd đồng goes here
        ("anh", "Lê Văn C", 2, D(84_333)),
    ]
    assert totals(lines).amount == D(379_500) + D(253_000)
    assert lines[2].genre_label == "Ảnh" and lines[0].published_on == date(2026, 12, 10)
    # No coefficient chosen: the genre's default (bài 3,0 in the shipped settings).
    bai = RoyaltyItem(8, "Bài", "TC", "bai", None, date(2026, 6, 1))
    assert compute_lines([bai], RULES)[0].amount == D(702_000)
    with pytest.raises(RoyaltyError):
        compute_lines([RoyaltyItem(9, "x", None, "video", D(1), date(2026, 6, 1))], RULES)


def test_split_examples() -> None:
    assert split(D(100), [D(1), D(1), D(1)]) == [D(34), D(33), D(33)]
    assert split(D(3000), [D(1), D(1), D(1)], D(1000)) == [D(1000)] * 3
    assert split(D(2000), [D(1), D(1), D(1)], D(1000)) == [D(1000), D(1000), D(0)]
    assert split(D(1001), [D(1), D(1)], D(1000)) == [D(1000), D(1)]
    assert split(D(10), [D("0.6"), D("0.4")]) == [D(6), D(4)]
    assert split(D(-100), [D(1), D(2)]) == [D(-33), D(-67)]
    for bad in ([], [D(0)], [D(-1), D(2)]):
        with pytest.raises(RoyaltyError):
            split(D(100), bad)
    with pytest.raises(TypeError):
        split(D(100), [0.5, 0.5])  # type: ignore[list-item]


amounts = st.integers(0, 10**10).map(D)
shares = st.lists(st.decimals(min_value=D("0.01"), max_value=D(100), places=2), min_size=1, max_size=8)
steps = st.sampled_from([D(1), D(100), D(1000)])


@given(amounts, shares, steps)
def test_split_adds_up_exactly_and_is_fair_within_a_step(
    amount: Decimal, weights: list[Decimal], step: Decimal
) -> None:
    parts = split(amount, weights, step)
    assert sum(parts) == amount and len(parts) == len(weights)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part >= 0 and abs(part - amount * weight / total) < step
        if amount % step == 0:
            assert part % step == 0
    assert split(amount, weights, step) == parts  # deterministic


def test_tax_is_off_by_default_and_withholds_the_whole_payment_past_the_threshold() -> None:
    day = date(2026, 12, 1)
    items = [
        RoyaltyItem(1, "Bài 1", "VP", "bai", D(5), day, (Author("Nguyễn Văn A"),)),  # 1.265.000
        RoyaltyItem(2, "Bài 2", "VP", "bai", D(3), day, (Author("nguyễn văn  a"),)),  # 759.000, same person
        RoyaltyItem(3, "Tin 3", "TC", "tin", D(1), day, (Author("Lê B"),)),  # 253.000
    ]
    off = compute_lines(items, RULES)
    assert all(ln.pit == 0 and ln.net == ln.amount for ln in off)
    on = withhold(off, rules(pit_enabled=True))
    # A: 2.024.000 >= 2.000.000 -> 10 % = 202.400, spread 1.265.000 : 759.000
    assert [(ln.pit, ln.net) for ln in on] == [
        (D(126_500), D(1_138_500)),
        (D(75_900), D(683_100)),
        (D(0), D(253_000)),
    ]
    t = totals(on)
    assert (t.amount, t.pit, t.net) == (D(2_277_000), D(202_400), D(2_074_600))
    # Exactly the threshold is withheld; one đồng under is not.
    at = RoyaltyItem(4, "x", None, "tin", D(1), day, (Author("X"),))
    r = rules(pit_enabled=True, pit_threshold=D(253_000))
    assert withhold(compute_lines([at], r), r)[0].pit == D(25_300)
    r = rules(pit_enabled=True, pit_threshold=D(253_001))
    assert withhold(compute_lines([at], r), r)[0].pit == 0


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 50).map(lambda n: D(n) / 4)), max_size=12))
def test_tax_parts_add_up_per_person(rows: list[tuple[str, Decimal]]) -> None:
    day = date(2026, 7, 1) + timedelta(days=3)
    items = [RoyaltyItem(i, "t", None, "tin", coef, day, (Author(name),)) for i, (name, coef) in enumerate(rows)]
    r = rules(pit_enabled=True, pit_threshold=D(1_000_000))
    lines = compute_lines(items, r)
    for name in "ABC":
        mine = [ln for ln in lines if ln.author == name]
        total = sum((ln.amount for ln in mine), D(0))
        tax = sum((ln.pit for ln in mine), D(0))
        assert tax == (round_money(total / 10) if total >= 1_000_000 else 0)
        assert all(ln.net == ln.amount - ln.pit and ln.pit >= 0 for ln in mine)
