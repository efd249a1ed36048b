"""The royalty ledger: closing, reopening and paying a period; the authors' shares of an item.

Small functions over a Session; call them inside `core.db.transaction(engine)` (its BEGIN IMMEDIATE
on SQLite, and `lock_name` on PostgreSQL, make two concurrent closings of one period serialize: the
second sees the period closed and does nothing). Refusals raise `LedgerError` (core.errors.Bilingual:
the page shows `vi`, the CLI prints both halves).

- `close_period(session, settings, period, now, actor, *, force=False) -> bool`: computes the month
  exactly as `reports.service.load_month` does for an open period, stores its lines (ReportLine,
  seq = STT from 1) and its quota rows and totals (ReportPeriod.snapshot), marks it closed and logs a
  "close" event. False, and nothing changed, when it is already closed. Refused while the period's
  end (the tally day, 00:00 office time) is still ahead, unless `force` (closing early makes the
  items counted between now and the end late: they count in the next open period).
- `reopen_period(session, period, actor, reason, now)`: an admin's act (the caller checks the role;
  CLI users are the server's operators). Needs a non-empty reason; refused for a period with paid
  lines (money paid is corrected in a later period, not by rewriting this one). The frozen lines are
  deleted (the reopen event keeps the old totals and snapshot); the next close recomputes them.
- `mark_paid(session, period, paid_on, actor, seqs=None, *, now=None) -> int`: marks the closed
  period's unpaid lines (all, or the given seqs) paid on `paid_on`; returns how many were marked.
  Already paid lines keep their date. A date before the period's tally day is refused.
- `set_shares(session, draft_id, [(author, weight), ...], actor, now)`: the editor's split of an
  item among its authors (weights > 0, names non-empty, NFC, distinct); an empty list clears it (the
  byline is then the sole author). A closed period's lines are not touched by later changes.
- `shares_of(session, draft_ids)`, `period_state(session, period)`, `closed_periods(session)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, delete, select

from core.db import lock_name, utcnow
from core.errors import Bilingual
from core.formats import format_date
from core.models import Draft
from core.settings import Settings
from core.text import clean_line, fold
from reports.models import PeriodStatus, ReportEvent, ReportLine, ReportPeriod, RoyaltyShare
from reports.periods import Calendar, Period, bounds, local_date, tally_date
from reports.royalty import Author, RoyaltyError, totals
from reports.service import closed_list, compute_month, counted_at, settle_closed, shares_by_draft


class LedgerError(Bilingual, ValueError):
    """An action the ledger refuses: `vi` for the page, `str()` ("vi / en") for the CLI and the logs."""


@dataclass(frozen=True)
class PeriodState:
    period: Period
    status: str  # "open" or "closed"
    closed_at: datetime | None
    closed_by: str | None
    reopened_at: datetime | None
    reopened_by: str | None
    reopen_reason: str | None
    lines: int  # frozen lines (0 while open)
    paid_lines: int

    @property
    def closed(self) -> bool:
        return self.status == PeriodStatus.closed


def _row(session: Session, period: Period) -> ReportPeriod | None:
    return session.get(ReportPeriod, str(period))


def closed_periods(session: Session) -> list[Period]:
    return closed_list(session)


def period_state(session: Session, period: Period) -> PeriodState:
    row = _row(session, period)
    lines = session.exec(select(col(ReportLine.paid_on)).where(ReportLine.period == str(period))).all()
    if row is None:
        return PeriodState(period, PeriodStatus.open, None, None, None, None, None, 0, 0)
    return PeriodState(
        period,
        row.status,
        row.closed_at,
        row.closed_by,
        row.reopened_at,
        row.reopened_by,
        row.reopen_reason,
        len(lines),
        sum(1 for p in lines if p is not None),
    )


def _snapshot(
    settings: Settings, period: Period, rows: Sequence[Any], lines: Sequence[Any], now: datetime
) -> dict[str, Any]:
    cal = Calendar.from_settings(settings)
    b = bounds(period, cal)
    t = totals(lines)
    return {
        "period": {"name": str(period), "start": b.start.isoformat(), "end": b.end.isoformat()},
        "tally_date": tally_date(period, cal).isoformat(),
        "computed_at": now.isoformat(),
        "units": [
            {
                "code": r.code,
                "name": r.name,
                "tin": r.tin,
                "bai": r.bai,
                "quarter_bai": r.quarter_bai,
                "tin_target": r.tin_target,
                "bai_target": r.bai_target,
                "tin_status": str(r.tin_status),
                "bai_status": str(r.bai_status),
            }
            for r in rows
        ],
        "lines": len(lines),
        "total": str(t.amount),
        "pit": str(t.pit),
        "net": str(t.net),
    }


def close_period(
    session: Session, settings: Settings, period: Period, now: datetime, actor: str, *, force: bool = False
) -> bool:
    """Freezes the period's lines and quota rows; False when it was already closed."""
    lock_name(session, f"report_period:{period}")
    cal = Calendar.from_settings(settings)
    row = _row(session, period)
    if row is not None and row.status == PeriodStatus.closed:
        return False
    end = bounds(period, cal).end
    if now < end and not force:
        raise LedgerError(
            f"Kỳ {period} chưa đến ngày chốt ({format_date(end.date())}): chưa chốt được.",
            f"period {period} ends on {end.date().isoformat()}: it cannot be closed yet",
        )
    try:
        drafts, month = compute_month(settings, session, period, now)
    except RoyaltyError as exc:
        # The royalty error's halves, each in its own language (never its "vi / en" line in the Vietnamese).
        raise LedgerError(
            f"Không tính được nhuận bút kỳ {period}: {exc.vi}",
            f"cannot price period {period}: {exc.en or exc.vi}",
        ) from exc
    if row is None:
        row = ReportPeriod(period=str(period), status=PeriodStatus.open, updated_at=now)
        session.add(row)
        session.flush()
    # Conditional: a concurrent closer that got here first leaves nothing to update.
    result = session.execute(
        update(ReportPeriod)
        .where(col(ReportPeriod.period) == str(period), col(ReportPeriod.status) == PeriodStatus.open)
        .values(
            status=PeriodStatus.closed,
            closed_at=now,
            closed_by=actor,
            snapshot=_snapshot(settings, period, month.rows, month.lines, now),
            updated_at=now,
        )
    )
    if cast("CursorResult[Any]", result).rowcount != 1:  # an UPDATE's result has the row count
        return False
    count_by = settings.calendar.count_by
    day = {}
    for d in drafts:
        when = counted_at(d, count_by)
        assert when is not None  # a counted draft has the date that put it in the period
        day[d.id] = local_date(when, cal)
    for seq, ln in enumerate(month.lines, start=1):
        session.add(
            ReportLine(
                period=str(period),
                seq=seq,
                draft_id=ln.item_id,
                title=ln.title,
                author=ln.author,
                unit=ln.unit,
                kind=ln.kind,
                genre_label=ln.genre_label,
                quantity=ln.quantity,
                coefficient=ln.coefficient,
                unit_value=ln.unit_value,
                share=ln.share.quantize(Decimal("0.00000001")),
                amount=ln.amount,
                pit=ln.pit,
                net=ln.net,
                counted_on=day.get(ln.item_id),
                published_on=ln.published_on,
            )
        )
    t = totals(month.lines)
    session.add(
        ReportEvent(
            period=str(period),
            at=now,
            actor=actor,
            action="close",
            data={"lines": len(month.lines), "total": str(t.amount), "forced": now < end},
        )
    )
    session.flush()
    settle_closed(session, settings)  # this period, and the earlier ones whose late items it took
    session.expire_all()
    return True


def reopen_period(session: Session, period: Period, actor: str, reason: str, now: datetime) -> None:
    """Reopens a closed period (an admin, with a reason); its frozen lines go, the event keeps them."""
    reason = clean_line(reason)
    if not reason:
        raise LedgerError("Mở lại kỳ đã chốt cần ghi lý do.", "reopening a closed period needs a reason")
    lock_name(session, f"report_period:{period}")
    row = _row(session, period)
    if row is None or row.status != PeriodStatus.closed:
        raise LedgerError(f"Kỳ {period} chưa chốt: không có gì để mở lại.", f"period {period} is not closed")
    lines = session.exec(select(ReportLine).where(ReportLine.period == str(period))).all()
    if any(ln.paid_on is not None for ln in lines):
        raise LedgerError(
            f"Kỳ {period} đã có dòng đã chi trả: không mở lại được; điều chỉnh ở kỳ sau.",
            f"period {period} has paid lines: correct it in a later period",
        )
    session.add(
        ReportEvent(
            period=str(period),
            at=now,
            actor=actor,
            action="reopen",
            reason=reason,
            data={"closed_at": row.closed_at.isoformat() if row.closed_at else None, "snapshot": row.snapshot},
        )
    )
    session.exec(delete(ReportLine).where(col(ReportLine.period) == str(period)))
    row.status = PeriodStatus.open
    row.snapshot = None
    row.reopened_at, row.reopened_by, row.reopen_reason = now, actor, reason
    row.updated_at = now
    session.add(row)
    # The lines deleted may have held items of other closed periods (counted late here): those
    # periods may hold late items again, so none is taken as settled until the next closing.
    session.execute(update(ReportPeriod).values(counted_by=None, counted_n=None, counted_ids=None))
    session.flush()


def mark_paid(
    session: Session,
    period: Period,
    paid_on: date,
    actor: str,
    seqs: Iterable[int] | None = None,
    *,
    now: datetime | None = None,
    today: date | None = None,
) -> int:
    """Marks the closed period's unpaid lines (all, or `seqs`) paid on `paid_on`; returns the count.
    `today` (the office's day): a payment dated after it is refused (a typo, or a payment not made yet)."""
    now = now or utcnow()
    if today is not None and paid_on > today:
        raise LedgerError(
            f"Ngày chi trả {format_date(paid_on)} chưa tới (hôm nay {format_date(today)}): chỉ ghi khoản đã chi.",
            f"payment date {paid_on.isoformat()} is in the future (today {today.isoformat()})",
        )
    row = _row(session, period)
    if row is None or row.status != PeriodStatus.closed:
        raise LedgerError(f"Kỳ {period} chưa chốt: chỉ chi trả kỳ đã chốt.", f"period {period} is not closed")
    tally = (row.snapshot or {}).get("tally_date")
    if tally and paid_on < date.fromisoformat(tally):
        raise LedgerError(
            f"Ngày chi trả {format_date(paid_on)} trước ngày chốt kỳ {format_date(date.fromisoformat(tally))}.",
            f"payment date {paid_on.isoformat()} is before the tally day {tally}",
        )
    lines = list(session.exec(select(ReportLine).where(ReportLine.period == str(period))).all())
    by_seq = {ln.seq: ln for ln in lines}
    if seqs is not None:
        wanted = sorted(set(seqs))
        missing = [s for s in wanted if s not in by_seq]
        if missing:
            numbers = ", ".join(map(str, missing))
            raise LedgerError(f"Kỳ {period} không có dòng số {numbers}.", f"period {period} has no line {numbers}")
        lines = [by_seq[s] for s in wanted]
    marked = [ln for ln in lines if ln.paid_on is None]
    for ln in marked:
        ln.paid_on, ln.paid_by, ln.paid_at = paid_on, actor, now
        session.add(ln)
    if marked:
        session.add(
            ReportEvent(
                period=str(period),
                at=now,
                actor=actor,
                action="pay",
                data={"paid_on": paid_on.isoformat(), "seqs": [ln.seq for ln in marked]},
            )
        )
    session.flush()
    return len(marked)


def _weight(value: Any) -> Decimal:
    if isinstance(value, float | bool):
        raise LedgerError("Tỷ lệ chia phải là số thập phân chính xác.", "a share must be an exact decimal")
    try:
        w = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise LedgerError(f"Tỷ lệ chia không hợp lệ: {value!r}.", f"not a share: {value!r}") from None
    if not w.is_finite() or w <= 0:
        raise LedgerError(f"Tỷ lệ chia phải dương: {value}.", f"a share must be positive: {value}")
    return w


def parse_shares(lines: Iterable[str]) -> list[tuple[str, str]]:
    """ "Tên=tỷ lệ" per line (the CLI's arguments, the draft page's text box): the name and the weight
    as written (validated by set_shares); blank lines skipped."""
    pairs = []
    for text in lines:
        if not text.strip():
            continue
        name, sep, weight = text.rpartition("=")
        if not sep:
            raise LedgerError(
                f"Mỗi tác giả một dòng, dạng Tên = tỷ lệ (ví dụ Nguyễn Văn A = 60): {text.strip()!r}.",
                f"one author a line, as Name = share: {text.strip()!r}",
            )
        pairs.append((name, weight))
    return pairs


def set_shares(
    session: Session, draft_id: int, shares: Sequence[tuple[str, Any]], actor: str, now: datetime
) -> list[Author]:
    """Replaces the item's authors' shares (validated); an empty list clears them. Audited."""
    if session.get(Draft, draft_id) is None:
        raise LedgerError(f"Không có bản thảo số {draft_id}.", f"no draft {draft_id}")
    authors: list[Author] = []
    for name, weight in shares:
        name = clean_line(name)
        if not name:
            raise LedgerError("Tên tác giả không được để trống.", "an author's name is empty")
        if any(fold(a.name) == fold(name) for a in authors):
            raise LedgerError(f"Tác giả {name} được nhập hai lần.", f"author {name} is given twice")
        authors.append(Author(name, _weight(weight)))
    before = shares_of(session, [draft_id]).get(draft_id, [])
    session.exec(delete(RoyaltyShare).where(col(RoyaltyShare.draft_id) == draft_id))
    for position, a in enumerate(authors, start=1):
        session.add(
            RoyaltyShare(draft_id=draft_id, position=position, author=a.name, share=a.share, set_by=actor, set_at=now)
        )
    session.add(
        ReportEvent(
            draft_id=draft_id,
            at=now,
            actor=actor,
            action="shares",
            data={
                "before": [[a.name, str(a.share)] for a in before],
                "after": [[a.name, str(a.share)] for a in authors],
            },
        )
    )
    session.flush()
    return authors


def shares_of(session: Session, draft_ids: Sequence[int]) -> dict[int, list[Author]]:
    """The editor's authors and weights per draft, in entry order (drafts without shares absent)."""
    return shares_by_draft(session, draft_ids)
