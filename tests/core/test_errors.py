"""Errors carry their Vietnamese and English apart: the pages show `vi`, the CLI and logs `str()`."""

from __future__ import annotations

import copy

import pytest

from core.drafts import DraftError, InvalidTransition, StaleRevision
from core.errors import Bilingual
from ingest.service import RetryError
from publish.jobs import PublishError
from reports.ledger import LedgerError
from reports.orientation import OrientationError
from reports.periods import PeriodError
from reports.royalty import RoyaltyError
from review.auth import AuthError, RateLimited, TooLong
from review.service import Forbidden, Invalid

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out


def test_the_halves_and_the_cli_line() -> None:
    exc = Bilingual("Cần ghi lý do gỡ bài", "a reason is required")
    assert (exc.vi, exc.en) == ("Cần ghi lý do gỡ bài", "a reason is required")
    assert str(exc) == "Cần ghi lý do gỡ bài / a reason is required"  # what the CLI prints, as before


def test_without_english_the_message_is_the_vietnamese() -> None:
    exc = Bilingual("Tháng không hợp lệ: '2026-13' (YYYY-MM)")
    assert str(exc) == exc.vi and exc.en == ""


def test_a_copied_error_keeps_both_halves() -> None:
    exc = Invalid("Nội dung trao đổi trống", "empty comment")
    for again in (copy.copy(exc), copy.deepcopy(exc)):
        assert type(again) is Invalid and (again.vi, again.en) == (exc.vi, exc.en)


@pytest.mark.parametrize(
    "cls",
    [
        DraftError,
        StaleRevision,
        InvalidTransition,
        Forbidden,
        Invalid,
        AuthError,
        RateLimited,
        TooLong,
        PublishError,
        RetryError,
    ],
)
def test_every_error_the_pages_show_is_bilingual(cls: type[Exception]) -> None:
    assert issubclass(cls, Bilingual)


@pytest.mark.parametrize("cls", [RoyaltyError, OrientationError, PeriodError, LedgerError])
def test_the_reports_errors_stay_value_errors(cls: type[Bilingual]) -> None:
    exc = cls("cần ít nhất một phần chia", "at least one share is needed")
    assert isinstance(exc, ValueError) and exc.vi == "cần ít nhất một phần chia"
