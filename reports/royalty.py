"""Royalty money (nhuận bút): pure functions over plain rows, all `Decimal`, never a float.

- Unit value = unit_value_percent % of the base salary in force on the counting date
  (NĐ 18/2014/NĐ-CP Điều 7.2: 10 %; 2.340.000 đ from 01/07/2024, 2.530.000 đ from 01/07/2026).
- Amount of a tin/bài = coefficient x unit value; photos (genre "anh") = count x coefficient x unit
  value, as a line of their own. Each line is rounded once to [royalty] rounding with its mode.
- Several authors may share an item: the editor enters shares (any positive weights: 1/1, 60/40);
  the parts add up to the line's amount exactly. Each part is a multiple of the rounding step when
  the amount is; the steps left after flooring go one each to the largest remainders, ties to the
  author entered first (deterministic: the same input always gives the same split).
- Personal income tax (thuế TNCN), when enabled: a person whose payment in the period (one payment,
  one "lần") reaches pit_threshold has pit_rate % of the whole payment withheld (TT 111/2013/TT-BTC
  Điều 25.1.i), rounded half-up to the đồng and spread over that person's lines by the same split.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from core.errors import Bilingual
from core.formats import format_date
from core.money import round_money
from core.text import clean_line, fold

if TYPE_CHECKING:
    from core.settings import Genre, SalaryRow, Settings

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class RoyaltyError(Bilingual, ValueError):
    """Input the rules cannot price (no base salary yet, a bad share, an unknown genre)."""


@dataclass(frozen=True)
class RoyaltyRules:
    unit_value_percent: Decimal
    base_salary: tuple[SalaryRow, ...]
    genres: Mapping[str, Genre]
    rounding: Decimal = Decimal(1)
    rounding_mode: str = "half_up"
    pit_enabled: bool = False
    pit_rate: Decimal = Decimal(10)
    pit_threshold: Decimal = Decimal(2_000_000)

    @classmethod
    def from_settings(cls, settings: Settings) -> RoyaltyRules:
        r = settings.royalty
        return cls(
            unit_value_percent=r.unit_value_percent,
            base_salary=r.base_salary,
            genres=settings.royalty_genres,
            rounding=Decimal(r.rounding),
            rounding_mode=r.rounding_mode,
            pit_enabled=r.pit_enabled,
            pit_rate=r.pit_rate,
            pit_threshold=Decimal(r.pit_threshold),
        )

    def round(self, amount: Decimal) -> Decimal:
        return round_money(amount, self.rounding, self.rounding_mode)


def base_salary_on(day: date, rows: Sequence[SalaryRow]) -> Decimal:
    """The base salary of the row in force on `day` (the latest row starting on or before it)."""
    in_force = [row for row in rows if row.start <= day]
    if not in_force:
        first = min((row.start for row in rows), default=None)
        raise RoyaltyError(
            f"chưa có mức lương cơ sở cho ngày {format_date(day)}",
            f"no base salary in force on {day}" + (f" (the first row starts {first})" if first else ""),
        )
    return max(in_force, key=lambda row: row.start).amount


def unit_value(day: date, rules: RoyaltyRules) -> Decimal:
    """Value of one coefficient unit on `day`, exact (234000 for 10 % of 2.340.000)."""
    return base_salary_on(day, rules.base_salary) * rules.unit_value_percent / HUNDRED


def line_amount(coefficient: Decimal, day: date, rules: RoyaltyRules, quantity: int = 1) -> Decimal:
    """quantity x coefficient x unit value, rounded once with the configured step and mode."""
    _check_decimal("coefficient", coefficient)
    if coefficient < 0 or quantity < 0:
        raise RoyaltyError("hệ số và số lượng không được âm", f"negative coefficient or quantity: {coefficient}")
    return rules.round(quantity * coefficient * unit_value(day, rules))


def split(amount: Decimal, shares: Sequence[Decimal], step: Decimal = Decimal(1)) -> list[Decimal]:
    """Parts of `amount` in proportion to `shares`, adding up to `amount` exactly.

    Each part is floored to a multiple of `step`; the steps left over (and a last piece smaller than
    a step, when `amount` is not a multiple of it) go to the largest remainders, ties in entry order.
    """
    _check_decimal("amount", amount)
    if not shares:
        raise RoyaltyError("cần ít nhất một phần chia", "at least one share is needed")
    for share in shares:
        _check_decimal("share", share)
        if share <= 0:
            raise RoyaltyError("phần chia phải dương", f"shares must be positive, got {share}")
    if amount < 0:
        return [-part for part in split(-amount, shares, step)]
    total = sum(shares, ZERO)
    exact = [amount * share / total for share in shares]
    parts = [(value / step).to_integral_value(rounding=ROUND_FLOOR) * step for value in exact]
    left = amount - sum(parts, ZERO)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - parts[i]), i))
    k = 0
    while left > 0:
        piece = min(step, left)
        parts[order[k % len(order)]] += piece
        left -= piece
        k += 1
    return parts


def _check_decimal(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be Decimal or int, got {type(value).__name__}")


# ------------------------------------------------------------------------------------ rows
@dataclass(frozen=True)
class Author:
    name: str
    share: Decimal = Decimal(1)


@dataclass(frozen=True)
class RoyaltyItem:
    """One counted item as the database layer hands it over (later: a Publication row)."""

    item_id: int
    title: str
    unit: str | None
    kind: str  # genre code: tin, bai (anh for a photo-only item)
    coefficient: Decimal | None  # None: the genre's default
    counted_on: date  # office-local counting date: picks the base salary
    authors: tuple[Author, ...] = ()
    photos: int = 0  # published photos paid under the per-photo genre
    published_on: date | None = None  # shown in the payment list (defaults to counted_on)


@dataclass(frozen=True)
class RoyaltyLine:
    item_id: int
    title: str
    author: str
    unit: str | None
    kind: str
    genre_label: str
    coefficient: Decimal
    quantity: int
    unit_value: Decimal
    amount: Decimal
    published_on: date
    share: Decimal = Decimal(1)  # this author's fraction of the item's line (1 = sole author)
    pit: Decimal = ZERO
    net: Decimal = field(default=ZERO)


@dataclass(frozen=True)
class Totals:
    amount: Decimal
    pit: Decimal
    net: Decimal


PHOTO_GENRE = "anh"


def _genre(rules: RoyaltyRules, kind: str) -> Genre:
    try:
        return rules.genres[kind]
    except KeyError:
        raise RoyaltyError("thể loại không có trong [royalty.genres]", f"unknown genre {kind!r}") from None


def item_lines(item: RoyaltyItem, rules: RoyaltyRules) -> list[RoyaltyLine]:
    """The item's lines: its text (tin/bài) and its photos, each split among its authors."""
    authors = item.authors or (Author(""),)
    shares = [Decimal(a.share) for a in authors]
    total_share = sum(shares, ZERO)
    uv = unit_value(item.counted_on, rules)
    out: list[RoyaltyLine] = []
    pieces: list[tuple[str, Decimal, int]] = []
    genre = _genre(rules, item.kind)
    coefficient = genre.coefficient if item.coefficient is None else Decimal(item.coefficient)
    if genre.per_photo:
        pieces.append((item.kind, coefficient, item.photos))
    else:
        pieces.append((item.kind, coefficient, 1))
        if item.photos:
            pieces.append((PHOTO_GENRE, _genre(rules, PHOTO_GENRE).coefficient, item.photos))
    for kind, coef, quantity in pieces:
        amount = line_amount(coef, item.counted_on, rules, quantity)
        parts = split(amount, shares, rules.rounding if amount % rules.rounding == 0 else Decimal(1))
        for author, share, part in zip(authors, shares, parts, strict=True):
            out.append(
                RoyaltyLine(
                    item_id=item.item_id,
                    title=item.title,
                    author=clean_line(author.name),
                    unit=item.unit,
                    kind=kind,
                    genre_label=_genre(rules, kind).label,
                    coefficient=coef,
                    quantity=quantity,
                    unit_value=uv,
                    amount=part,
                    published_on=item.published_on or item.counted_on,
                    share=share / total_share,
                    net=part,
                )
            )
    return out


def person_key(name: str) -> str:
    """Lines of one person are grouped by the folded name (NFC, case, tone placement)."""
    return " ".join(fold(name).split())


def withhold(lines: Sequence[RoyaltyLine], rules: RoyaltyRules) -> list[RoyaltyLine]:
    """Lines with pit and net filled in: per person, the whole payment is taxed once it reaches the
    threshold; the tax is spread over the person's lines in proportion to their amounts."""
    lines = [replace(line, pit=ZERO, net=line.amount) for line in lines]
    if not rules.pit_enabled:
        return lines
    people: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        people.setdefault(person_key(line.author), []).append(i)
    for indexes in people.values():
        total = sum((lines[i].amount for i in indexes), ZERO)
        if total <= 0 or total < rules.pit_threshold:
            continue
        tax = round_money(total * rules.pit_rate / HUNDRED)
        weights = [lines[i].amount for i in indexes]
        if any(w <= 0 for w in weights):
            weights = [Decimal(1) if w <= 0 else w for w in weights]
        for i, part in zip(indexes, split(tax, weights), strict=True):
            lines[i] = replace(lines[i], pit=part, net=lines[i].amount - part)
    return lines


def compute_lines(items: Iterable[RoyaltyItem], rules: RoyaltyRules) -> list[RoyaltyLine]:
    """Every item's lines, in the items' order, with the tax withheld."""
    lines = [line for item in items for line in item_lines(item, rules)]
    return withhold(lines, rules)


def totals(lines: Iterable[RoyaltyLine]) -> Totals:
    lines = list(lines)
    return Totals(
        amount=sum((line.amount for line in lines), ZERO),
        pit=sum((line.pit for line in lines), ZERO),
        net=sum((line.net for line in lines), ZERO),
    )
