"""What a royalty month holds: the one place that reads the database for a report.

`load_month` is the seam the CLI, the period jobs, the reports page and the benchmark all use: it
reads the quarter's counted drafts and returns the period's quota rows and royalty lines (pure
computation in reports.quotas and reports.royalty). An item is dated by `[calendar] count_by`: when
it first went live on a portal (`Draft.published_at`, "published") or when it was approved
(`Draft.decided_at`, "approved").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.models import Draft, DraftImage, DraftStatus
from core.settings import Settings
from reports.models import PeriodStatus, ReportLine, ReportPeriod, RoyaltyShare
from reports.periods import Calendar, Period, bounds, local_date, period_finder
from reports.quotas import CountedItem, QuotaRow, Status, Targets, assign, placed_quota_rows
from reports.royalty import PHOTO_GENRE, Author, RoyaltyItem, RoyaltyLine, RoyaltyRules, compute_lines

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


def counted_drafts(
    session: Session, start: datetime, end: datetime, count_by: str, *, unfrozen: bool = False
) -> list[CountedDraft]:
    """Drafts that count for [start, end), by the date `count_by` names, oldest first. `unfrozen`:
    only those no closed period's stored lines hold (over closed months, that is the late items and
    the re-sent copies: a few rows, found by the database instead of reading years of drafts)."""
    when = col(Draft.published_at) if count_by == "published" else col(Draft.decided_at)
    q = (
        select(*REPORT_COLUMNS)  # type: ignore[call-overload]
        .where(col(Draft.status).in_([s.value for s in COUNTED_STATUSES]))
        .where(when.is_not(None))
        .where(when >= start.astimezone(UTC))
        .where(when < end.astimezone(UTC))
        .order_by(when, col(Draft.id))
    )
    if unfrozen:
        q = q.where(col(Draft.id).not_in(_frozen_lines()))
    return [CountedDraft(*row) for row in session.exec(q).all()]


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
) -> tuple[list[Any], list[Any]]:
    """Quota rows and royalty lines of `period` from the counted drafts (pure). `closed`: the frozen
    periods, whose late items count in the open one; `frozen`: draft id -> the closed period whose
    stored lines hold it (never counted again); `shares`: the editor's authors of an item;
    `photos`: kept images of an item (paid under the photo genre when [royalty.genres.anh] exists);
    `priced=False`: the quota rows only (no lines), for a page that shows no money."""
    frozen, shares, photos = frozen or {}, shares or {}, photos or {}
    cal = Calendar.from_settings(settings)
    q = settings.quota
    targets = Targets(q.tin_per_month, q.bai_per_quarter, q.review_days)
    count_by = settings.calendar.count_by
    counted = [_counted(d, count_by) for d in drafts]
    assigned = assign(counted, closed, frozen, now, cal)
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
    q = select(ReportPeriod.period).where(ReportPeriod.status == PeriodStatus.closed).order_by(col(ReportPeriod.period))
    return [Period.parse(p) for p in session.exec(q).all()]


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


def compute_month(
    settings: Settings, session: Session, period: Period, now: datetime, *, priced: bool = True
) -> tuple[list[CountedDraft], Month]:
    """The month computed from the drafts (never the frozen lines), and the drafts read."""
    cal = Calendar.from_settings(settings)
    count_by = settings.calendar.count_by
    closed = closed_list(session)
    end = bounds(period, cal).end
    quarter_start = bounds(period.quarter, cal).start
    drafts = counted_drafts(session, quarter_start, end, count_by)
    earlier = [p for p in closed if bounds(p, cal).start < quarter_start]
    late = (  # items counted late whose own closed period lies before this quarter
        counted_drafts(session, bounds(earlier[0], cal).start, quarter_start, count_by, unfrozen=True)
        if earlier
        else []
    )
    frozen = frozen_items(
        session, [d.id for d in drafts + late] + [d.duplicate_of for d in drafts + late if d.duplicate_of is not None]
    )
    if late:
        find = period_finder(cal)
        closed_set = set(closed)
        drafts = [
            d
            for d in late
            if (d.duplicate_of is None or d.duplicate_of not in frozen) and find(counted_at(d, count_by)) in closed_set  # type: ignore[arg-type]
        ] + drafts
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
