"""The tables reports/ owns: each royalty period's state and frozen lines, its audit trail, and the
authors' shares of an item that several people wrote.

Written only by reports/ (the ledger, the period jobs, the reports page through reports' functions).
A closed period's lines are stored, never recomputed: later rate or coefficient changes cannot touch
them; reopening (an admin, with a reason) is the only way back, and it is recorded.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


class PeriodStatus(StrEnum):
    open = "open"
    closed = "closed"


class ReportPeriod(SQLModel, table=True):
    """One royalty month ("2026-12"): open until closed on the tally day, then frozen."""

    __tablename__ = "report_period"

    period: str = Field(primary_key=True)  # YYYY-MM, reports.periods.Period
    status: str = Field(default=PeriodStatus.open)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = None
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_by: str | None = None
    reopen_reason: str | None = Field(default=None, sa_type=Text)
    # The frozen quota table and totals as they stood at closing (JSON of `report month --json`'s shape).
    snapshot: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # The month's content orientation (định hướng nội dung) the board enters; mailed to every unit.
    orientation: str | None = Field(default=None, sa_type=Text)
    orientation_by: str | None = None
    orientation_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The items dated in the period by `counted_by` (how many, the sum of their ids) as they stood when
    # every one of them was frozen in some closed period's lines or left out as a re-sent copy: while
    # they still match, no item of the period was counted late and a month's report skips it.
    counted_by: str | None = None
    counted_n: int | None = None
    counted_ids: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportLine(SQLModel, table=True):
    """One frozen royalty line of a closed period (reports.royalty.RoyaltyLine, stored)."""

    __tablename__ = "report_line"
    __table_args__ = (UniqueConstraint("period", "seq", name="uq_report_line_period_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(foreign_key="report_period.period", index=True)
    seq: int  # order within the period (STT)
    draft_id: int = Field(index=True)
    title: str = Field(sa_type=Text)
    author: str
    unit: str | None = None
    kind: str
    genre_label: str
    quantity: int = 1
    coefficient: Decimal = Field(sa_type=Numeric(8, 2))
    unit_value: Decimal = Field(sa_type=Numeric(18, 2))
    share: Decimal = Field(default=Decimal(1), sa_type=Numeric(12, 8))
    amount: Decimal = Field(sa_type=Numeric(18, 2))
    pit: Decimal = Field(default=Decimal(0), sa_type=Numeric(18, 2))
    net: Decimal = Field(sa_type=Numeric(18, 2))
    counted_on: date | None = None
    published_on: date | None = None
    paid_on: date | None = None
    paid_by: str | None = None
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReportEvent(SQLModel, table=True):
    """The periods' audit log: append-only (close, reopen with its reason, pay, orientation, shares)."""

    __tablename__ = "report_event"

    id: int | None = Field(default=None, primary_key=True)
    period: str | None = Field(default=None, index=True)
    draft_id: int | None = None
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str  # a user name or "system"
    action: str
    reason: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class RoyaltyShare(SQLModel, table=True):
    """One author's share of an item several people wrote, as the editor entered it (weights, any
    positive numbers: 1/1, 60/40). No rows: the item's byline is its sole author."""

    __tablename__ = "royalty_share"
    __table_args__ = (UniqueConstraint("draft_id", "position", name="uq_royalty_share_draft_position"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    position: int  # the order the editor entered them (ties in the split go to the first)
    author: str
    share: Decimal = Field(sa_type=Numeric(12, 4))
    set_by: str
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
