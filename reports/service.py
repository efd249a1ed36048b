"""What a royalty month holds: the one place that reads the database for a report.

`load_month` is the seam the CLI, the period jobs, the reports page and the benchmark all use: it
reads the quarter's counted drafts and returns the period's quota rows and royalty lines (pure
computation in reports.quotas and reports.royalty). An item is dated by `[calendar] count_by`: when
it first went live on a portal (`Draft.published_at`, "published") or when it was approved
(`Draft.decided_at`, "approved").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, literal_column, union_all
from sqlmodel import Session, col, select, update

from core.models import Draft, DraftImage, DraftStatus
from core.settings import Settings
from reports.models import PeriodStatus, ReportLine, ReportPeriod, RoyaltyShare
from reports.periods import Calendar, Period, bounds, local_date
from reports.quotas import CountedItem, QuotaRow, Status, Targets, assign, placed_quota_rows
from reports.royalty import PHOTO_GENRE, Author, RoyaltyItem, RoyaltyLine, RoyaltyRules, compute_lines

Row = TypeVar("Row")

# Approved items count, and stay counted once live or taken down again (the work was done and paid).
COUNTED_STATUSES = (DraftStatus.approved, DraftStatus.published, DraftStatus.withdrawn)


class CountedDraft(NamedTuple):
    """What a report reads of a draft (body_html and search_text, most of a row's bytes, are not
    read: a quarter holds thousands of rows, and a plain tuple costs a fraction of an ORM object)."""

    id: int
    status: str
    kind: str
    title: str
    byline: str | None
    unit_code: str | None
    sender: str
    sender_name: str
    coefficient: Decimal | None
    duplicate_of: int | None
    decided_at: datetime | None
    published_at: datetime | None


# The columns of CountedDraft, in its order.
REPORT_COLUMNS = (
    Draft.id, Draft.status, Draft.kind, Draft.title, Draft.byline, Draft.unit_code, Draft.sender,
    Draft.sender_name, Draft.coefficient, Draft.duplicate_of, Draft.decided_at, Draft.published_at,
)  # fmt: skip


def counted_at(d: CountedDraft, count_by: str) -> datetime | None:
    """The instant that puts the item in a period: first live, or approved ([calendar] count_by)."""
    return d.published_at if count_by == "published" else d.decided_at


def _when(count_by: str) -> Any:
    return col(Draft.published_at) if count_by == "published" else col(Draft.decided_at)


def _counted_query(columns: Sequence[Any], start: datetime, end: datetime, count_by: str) -> Any:
    when = _when(count_by)
    return (
        select(*columns)
        .where(col(Draft.status).in_([s.value for s in COUNTED_STATUSES]))
        .where(when.is_not(None))
        .where(when >= start.astimezone(UTC))
        .where(when < end.astimezone(UTC))
    )


def _in_closed_period() -> Any:
    """The line's period is closed. An uncorrelated IN, which both databases read once per query:
    as a join inside the correlated subqueries below, PostgreSQL scanned report_period again for
    every draft (28 ms of a 2,000-item month)."""
    return col(ReportLine.period).in_(select(ReportPeriod.period).where(ReportPeriod.status == PeriodStatus.closed))


def _held_by_closed_line() -> Any:
    """A closed period's stored line holds this draft (correlated: one index probe a draft)."""
    return select(ReportLine.id).where(col(ReportLine.draft_id) == col(Draft.id), _in_closed_period()).exists()


def _closed_line_period() -> Any:
    """The closed period whose stored lines hold this draft, or NULL (correlated scalar subquery)."""
    return (
        select(func.min(ReportLine.period))
        .where(col(ReportLine.draft_id) == col(Draft.id), _in_closed_period())
        .scalar_subquery()
    )


def counted_drafts(
    session: Session, start: datetime, end: datetime, count_by: str, *, unfrozen: bool = False
) -> list[CountedDraft]:
    """Drafts that count for [start, end), by the date `count_by` names, oldest first. `unfrozen`:
    only those no closed period's stored lines hold (over closed months, that is the late items and
    the re-sent copies: a few rows, found by the database instead of reading years of drafts)."""
    q = _counted_query(REPORT_COLUMNS, start, end, count_by).order_by(_when(count_by), col(Draft.id))
    if unfrozen:
        q = q.where(~_held_by_closed_line())
    return [CountedDraft(*row) for row in session.exec(q).all()]


def _rows_held(
    session: Session, columns: Sequence[Any], make: Callable[..., Row], start: datetime, end: datetime, count_by: str
) -> tuple[list[Row], dict[int, Period]]:
    """The counted drafts' `columns` (the draft id first), each row made by `make`, and which of them
    closed periods' stored lines hold (draft id -> period), in one query; a period's name is parsed
    once however many drafts it holds."""
    q = _counted_query((*columns, _closed_line_period()), start, end, count_by)
    rows: list[Row] = []
    held: dict[int, Period] = {}
    parsed: dict[str, Period] = {}
    for *values, period in session.exec(q.order_by(_when(count_by), col(Draft.id))).all():
        rows.append(make(*values))
        if period is not None:
            held[values[0]] = parsed.get(period) or parsed.setdefault(period, Period.parse(period))
    return rows, held


def counted_drafts_held(
    session: Session, start: datetime, end: datetime, count_by: str
) -> tuple[list[CountedDraft], dict[int, Period]]:
    """`counted_drafts`, and which of them closed periods' stored lines hold (draft id -> period), in
    one query."""
    return _rows_held(session, REPORT_COLUMNS, CountedDraft, start, end, count_by)


def counted_items_held(
    session: Session, start: datetime, end: datetime, count_by: str
) -> tuple[list[CountedItem], dict[int, Period]]:
    """What the quotas read of `counted_drafts_held` (five columns, no titles or names): the quota
    dashboard of someone who sees no money."""
    columns = (Draft.id, Draft.unit_code, Draft.kind, _when(count_by), Draft.duplicate_of)
    return _rows_held(session, columns, CountedItem, start, end, count_by)


def counted_fingerprints(
    session: Session, ranges: Sequence[tuple[datetime, datetime]], count_by: str
) -> list[tuple[int, int]]:
    """(how many, sum of ids) of the counted drafts in each range, in one round trip: a range query
    each, on the (status, counting date) index."""
    if not ranges:
        return []
    sums = (func.count(), func.coalesce(func.sum(Draft.id), 0))
    parts = [
        _counted_query((literal_column(str(i)).label("k"), *sums), start, end, count_by)
        for i, (start, end) in enumerate(ranges)
    ]
    out = [(0, 0)] * len(ranges)
    # Any: the union of selects crashes mypy's overload inference on session.exec (mypy 1.x-2.x).
    q: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    for k, n, ids in session.exec(q).all():
        out[int(k)] = (int(n), int(ids))
    return out


def _counted(d: CountedDraft, count_by: str) -> CountedItem:
    at = counted_at(d, count_by)
    assert d.id is not None and at is not None
    return CountedItem(d.id, d.unit_code, d.kind, at, d.duplicate_of)


def _royalty_item(
    d: CountedDraft, cal: Calendar, count_by: str, authors: Sequence[Author] = (), photos: int = 0
) -> RoyaltyItem:
    at = counted_at(d, count_by)
    assert d.id is not None and at is not None
    day = local_date(at, cal)
    author = (d.byline or d.sender_name or d.sender or "").strip()
    return RoyaltyItem(
        item_id=d.id,
        title=d.title,
        unit=d.unit_code,
        kind=d.kind,
        coefficient=d.coefficient,
        counted_on=day,
        authors=tuple(authors) or (Author(author),),
        photos=photos,
        published_on=local_date(d.published_at, cal) if d.published_at else None,
    )


def month_report(
    settings: Settings,
    drafts: Sequence[CountedDraft],
    period: Period,
    now: datetime,
    closed: Sequence[Period] = (),
    *,
    frozen: Mapping[int, Period] | None = None,
    shares: Mapping[int, Sequence[Author]] | None = None,
    photos: Mapping[int, int] | None = None,
    priced: bool = True,
    counted: Sequence[CountedItem] = (),
) -> tuple[list[Any], list[Any]]:
    """Quota rows and royalty lines of `period` from the counted drafts (pure). `counted`: more items
    for the quotas only (read without what pricing needs: with `priced=False`). `closed`: the frozen
    periods, whose late items count in the open one; `frozen`: draft id -> the closed period whose
    stored lines hold it (never counted again); `shares`: the editor's authors of an item;
    `photos`: kept images of an item (paid under the photo genre when [royalty.genres.anh] exists);
    `priced=False`: the quota rows only (no lines), for a page that shows no money."""
    frozen, shares, photos = frozen or {}, shares or {}, photos or {}
    cal = Calendar.from_settings(settings)
    q = settings.quota
    targets = Targets(q.tin_per_month, q.bai_per_quarter, q.review_days)
    count_by = settings.calendar.count_by
    assigned = assign([*(_counted(d, count_by) for d in drafts), *counted], closed, frozen, now, cal)
    rows = placed_quota_rows(assigned, list(settings.units), period, now, cal, targets)
    if not priced:
        return rows, []
    here = {c.item_id for c, p in assigned if p == period}
    pay_photos = PHOTO_GENRE in settings.royalty_genres
    paid = [
        _royalty_item(d, cal, count_by, shares.get(d.id, ()), photos.get(d.id, 0) if pay_photos else 0)
        for d in drafts
        if d.id in here
    ]
    lines = compute_lines(paid, RoyaltyRules.from_settings(settings))
    return rows, lines


@dataclass(frozen=True)
class Month:
    """A period's report: the per-unit quota rows and the royalty lines. A closed period's are the
    frozen ones stored at closing (`closed`), with each line's payment date (`paid_on`, by index)."""

    period: Period
    rows: list[QuotaRow]
    lines: list[RoyaltyLine]
    closed: bool = False
    closed_at: datetime | None = None
    paid_on: list[date | None] = field(default_factory=list)


def _frozen_lines() -> Any:
    """The draft ids held by closed periods' stored lines (a subquery)."""
    return (
        select(ReportLine.draft_id)
        .join(ReportPeriod, col(ReportPeriod.period) == col(ReportLine.period))
        .where(ReportPeriod.status == PeriodStatus.closed)
    )


def frozen_items(session: Session, draft_ids: Iterable[int]) -> dict[int, Period]:
    """Draft id -> the closed period whose stored lines hold it, for the given drafts (a report needs
    its own drafts and their originals, not the years of closed lines)."""
    wanted = sorted(set(draft_ids))
    out: dict[int, Period] = {}
    for i in range(0, len(wanted), 5000):  # well under any database's limit of bound parameters
        q = (
            select(ReportLine.draft_id, ReportLine.period)
            .join(ReportPeriod, col(ReportPeriod.period) == col(ReportLine.period))
            .where(ReportPeriod.status == PeriodStatus.closed, col(ReportLine.draft_id).in_(wanted[i : i + 5000]))
        )
        out.update((draft_id, Period.parse(p)) for draft_id, p in session.exec(q).all())
    return out


def closed_list(session: Session) -> list[Period]:
    return [c.period for c in closed_periods(session)]


def shares_by_draft(session: Session, draft_ids: Sequence[int]) -> dict[int, list[Author]]:
    out: dict[int, list[Author]] = {}
    if not draft_ids:
        return out
    q = (
        select(RoyaltyShare)
        .where(col(RoyaltyShare.draft_id).in_(list(draft_ids)))
        .order_by(col(RoyaltyShare.draft_id), col(RoyaltyShare.position))
    )
    for row in session.exec(q).all():
        out.setdefault(row.draft_id, []).append(Author(row.author, Decimal(row.share)))
    return out


def photo_counts(session: Session, draft_ids: Sequence[int]) -> dict[int, int]:
    """Kept images per draft (an image the editor drops is deleted from draft_image)."""
    if not draft_ids:
        return {}
    q = (
        select(DraftImage.draft_id, func.count())
        .where(col(DraftImage.draft_id).in_(list(draft_ids)))
        .group_by(col(DraftImage.draft_id))
    )
    return {draft_id: int(n) for draft_id, n in session.exec(q).all()}


@dataclass(frozen=True)
class ClosedPeriod:
    """A closed period and the fingerprint of its counted items when none was late (None: unknown)."""

    period: Period
    counted_by: str | None
    counted: tuple[int, int] | None


def closed_periods(session: Session) -> list[ClosedPeriod]:
    q = (
        select(ReportPeriod.period, ReportPeriod.counted_by, ReportPeriod.counted_n, ReportPeriod.counted_ids)
        .where(ReportPeriod.status == PeriodStatus.closed)
        .order_by(col(ReportPeriod.period))
    )
    return [
        ClosedPeriod(Period.parse(p), by, None if n is None or ids is None else (int(n), int(ids)))
        for p, by, n, ids in session.exec(q).all()
    ]


def unsettled(
    session: Session, periods: Sequence[ClosedPeriod], count_by: str, cal: Calendar
) -> list[tuple[ClosedPeriod, tuple[int, int]]]:
    """The closed periods that may hold an item counted late (their counted items are no longer the
    ones fingerprinted when none was), each with its current fingerprint. Consecutive periods are
    first checked together (one range query: fingerprints add up), one by one only when they differ."""
    out: list[tuple[ClosedPeriod, tuple[int, int]]] = []
    for run in _consecutive(periods, cal):
        known = [p.counted for p in run if p.counted_by == count_by and p.counted is not None]
        if len(known) == len(run):
            total = (sum(n for n, _ in known), sum(ids for _, ids in known))
            span = (bounds(run[0].period, cal).start, bounds(run[-1].period, cal).end)
            if counted_fingerprints(session, [span], count_by)[0] == total:
                continue
        ranges = [(b.start, b.end) for b in (bounds(p.period, cal) for p in run)]
        current = counted_fingerprints(session, ranges, count_by)
        out += [(p, fp) for p, fp in zip(run, current, strict=True) if p.counted_by != count_by or p.counted != fp]
    return out


def _consecutive(periods: Sequence[ClosedPeriod], cal: Calendar) -> list[list[ClosedPeriod]]:
    """`periods` (in order) cut into runs with no gap between them."""
    runs: list[list[ClosedPeriod]] = []
    for p in periods:
        if runs and bounds(runs[-1][-1].period, cal).end == bounds(p.period, cal).start:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def late_items(
    session: Session, periods: Iterable[Period], count_by: str, cal: Calendar
) -> tuple[list[CountedDraft], dict[int, Period]]:
    """The items of closed `periods` that count late (no closed line holds them, nor their original),
    and the closed periods holding the originals of the re-sent copies among the candidates."""
    candidates: list[CountedDraft] = []
    for p in periods:
        b = bounds(p, cal)
        candidates += counted_drafts(session, b.start, b.end, count_by, unfrozen=True)
    held = frozen_items(session, [d.duplicate_of for d in candidates if d.duplicate_of is not None])
    return [d for d in candidates if d.duplicate_of is None or d.duplicate_of not in held], held


def settle_closed(session: Session, settings: Settings) -> None:
    """Store the fingerprint of every closed period in which nothing is left to count late (after a
    period closes: the late items it took are frozen in its lines now)."""
    cal = Calendar.from_settings(settings)
    count_by = settings.calendar.count_by
    for p, fp in unsettled(session, closed_periods(session), count_by, cal):
        if not late_items(session, [p.period], count_by, cal)[0]:
            session.execute(
                update(ReportPeriod)
                .where(col(ReportPeriod.period) == str(p.period))
                .values(counted_by=count_by, counted_n=fp[0], counted_ids=fp[1])
            )


def compute_month(
    settings: Settings, session: Session, period: Period, now: datetime, *, priced: bool = True
) -> tuple[list[CountedDraft], Month]:
    """The month computed from the drafts (never the frozen lines), and the drafts read: the quarter's
    counted drafts so far, and the items counted late in the closed periods before the quarter (read
    only from the periods whose counted items changed since none was late)."""
    cal = Calendar.from_settings(settings)
    count_by = settings.calendar.count_by
    closed_rows = closed_periods(session)
    closed = [c.period for c in closed_rows]
    end = bounds(period, cal).end
    quarter_start = bounds(period.quarter, cal).start
    if priced:
        drafts, frozen = counted_drafts_held(session, quarter_start, end, count_by)
        items: list[CountedItem] = []
    else:
        drafts = []
        items, frozen = counted_items_held(session, quarter_start, end, count_by)
    earlier = [c for c in closed_rows if bounds(c.period, cal).start < quarter_start]
    changed = [c.period for c, _ in unsettled(session, earlier, count_by, cal)]
    late, originals = late_items(session, changed, count_by, cal)
    frozen.update(originals)
    loaded = {d.id for d in drafts} | {c.item_id for c in items}
    dups = [d.duplicate_of for d in drafts] + [c.duplicate_of for c in items]
    frozen.update(frozen_items(session, {x for x in dups if x is not None and x not in loaded}))
    drafts = late + drafts
    ids = [d.id for d in drafts] if priced else []
    rows, lines = month_report(
        settings,
        drafts,
        period,
        now,
        closed,
        frozen=frozen,
        shares=shares_by_draft(session, ids),
        photos=photo_counts(session, ids),
        priced=priced,
        counted=items,
    )
    return drafts, Month(period, rows, lines, paid_on=[None] * len(lines))


def frozen_month(session: Session, row: ReportPeriod, period: Period) -> Month:
    """A closed period as it was stored at closing."""
    snap = row.snapshot or {}
    rows = [
        QuotaRow(
            code=u["code"],
            name=u["name"],
            tin=u["tin"],
            bai=u["bai"],
            quarter_bai=u["quarter_bai"],
            tin_target=u["tin_target"],
            bai_target=u["bai_target"],
            tin_status=Status(u["tin_status"]),
            bai_status=Status(u["bai_status"]),
        )
        for u in snap.get("units", [])
    ]
    stored = session.exec(
        select(ReportLine).where(ReportLine.period == str(period)).order_by(col(ReportLine.seq))
    ).all()
    lines = [
        RoyaltyLine(
            item_id=ln.draft_id,
            title=ln.title,
            author=ln.author,
            unit=ln.unit,
            kind=ln.kind,
            genre_label=ln.genre_label,
            coefficient=Decimal(ln.coefficient),
            quantity=ln.quantity,
            unit_value=Decimal(ln.unit_value),
            amount=Decimal(ln.amount),
            published_on=ln.published_on or ln.counted_on or date.min,
            share=Decimal(ln.share),
            pit=Decimal(ln.pit),
            net=Decimal(ln.net),
        )
        for ln in stored
    ]
    return Month(period, rows, lines, True, row.closed_at, [ln.paid_on for ln in stored])


def load_month(settings: Settings, session: Session, period: Period, now: datetime, *, priced: bool = True) -> Month:
    """The month: the frozen rows and lines once the period is closed; otherwise computed from the
    counted drafts, late items of closed periods included (raises reports.royalty.RoyaltyError when
    an item cannot be priced). `priced=False` skips the royalty lines (none in the result): the
    quota dashboard of someone who sees no money."""
    row = session.get(ReportPeriod, str(period))
    if row is not None and row.status == PeriodStatus.closed:
        return frozen_month(session, row, period)
    return compute_month(settings, session, period, now, priced=priced)[1]
