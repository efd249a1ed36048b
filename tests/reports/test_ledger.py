"""The royalty ledger on a real SQLite file: closing freezes, reopening is audited, paying dates
lines, shares split to the đồng, late items count in the open period, concurrent closes."""

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.db import reading, transaction
from core.models import Draft, DraftImage
from core.settings import load_settings
from reports.ledger import LedgerError, close_period, mark_paid, period_state, reopen_period, set_shares
from reports.models import ReportEvent, ReportLine, ReportPeriod
from reports.periods import Period
from reports.service import load_month
from tests.clijson import cli_json
from tests.reports.test_cli import office
from toasoan.cli import main
from toasoan.database import open_database

JULY = Period(2026, 7)
NOW = datetime(2026, 12, 5, 3, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return office(tmp_path, "approved")


def test_a_closed_period_is_unchanged_after_a_base_salary_row_is_added(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    assert before["closed"] is False and before["total"] == "1110000"
    assert main(["--config", str(config), "report", "close", "2026-07", "--by", "quantri"]) == 0
    assert "Đã chốt kỳ 2026-07 (2 dòng)" in capsys.readouterr().out
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            '{ from = "2026-07-01", amount = 2530000 },',
            '{ from = "2026-06-20", amount = 3000000 },\n    { from = "2026-07-01", amount = 2530000 },',
        ),
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert len(settings.royalty.base_salary) == 3
    engine = open_database(settings)
    with transaction(engine) as s:  # the chief's coefficient changed after closing
        d = s.get(Draft, 1)
        d.coefficient = Decimal(5)
        s.add(d)
    after = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    assert after["closed"] is True
    assert [(ln["draft_id"], ln["amount"], ln["paid_on"]) for ln in after["lines"]] == [
        (1, "351000", None),
        (2, "759000", None),
    ]
    assert after["units"] == before["units"] and after["total"] == "1110000"
    # Closing again changes nothing; reopening recomputes with the new row and coefficient.
    assert main(["--config", str(config), "report", "close", "2026-07"]) == 0
    assert "đã chốt từ trước" in capsys.readouterr().out
    assert main(["--config", str(config), "report", "reopen", "2026-07", "--reason", "  "]) == 1
    assert "lý do" in capsys.readouterr().err
    assert (
        main(["--config", str(config), "report", "reopen", "2026-07", "--reason", "Sai hệ số", "--by", "quantri"]) == 0
    )
    capsys.readouterr()
    assert main(["--config", str(config), "report", "close", "2026-07"]) == 0
    capsys.readouterr()
    again = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    assert [(ln["draft_id"], ln["amount"]) for ln in again["lines"]] == [(1, "1500000"), (2, "759000")]  # 5 x 300.000
    with reading(engine) as s:
        events = s.exec(select(ReportEvent).order_by(col(ReportEvent.id))).all()
        assert [(e.action, e.actor, e.reason) for e in events][:2] == [
            ("close", "quantri", None),
            ("reopen", "quantri", "Sai hệ số"),
        ]
        assert events[1].data["snapshot"]["total"] == "1110000"


def test_close_is_refused_before_the_tally_day(config: Path) -> None:
    engine = open_database(load_settings(config))
    with transaction(engine) as s, pytest.raises(LedgerError, match="chưa đến ngày chốt"):
        close_period(s, load_settings(config), Period(2026, 12), NOW, "admin")
    with transaction(engine) as s, pytest.raises(LedgerError, match="chưa chốt"):
        reopen_period(s, JULY, "admin", "Sai số liệu", NOW)
    with transaction(engine) as s:  # the period jobs may close early on purpose
        assert close_period(s, load_settings(config), Period(2026, 12), NOW, "admin", force=True)


def test_an_item_approved_after_its_period_closed_counts_in_the_open_period(config: Path) -> None:
    settings = load_settings(config)
    engine = open_database(settings)
    with transaction(engine) as s:
        assert close_period(s, settings, JULY, NOW, "admin")
    with transaction(engine) as s:  # recorded late, dated inside the closed July period
        s.add(
            Draft(
                id=7,
                tracking_code="T7",
                status="approved",
                kind="tin",
                unit_code="VP",
                decided_at=utc(2026, 7, 10, 3),
                title="Tin muộn",
                byline="Muộn",
            )
        )
    with reading(engine) as s:
        july = load_month(settings, s, JULY, NOW)
        december = load_month(settings, s, Period(2026, 12), NOW)
        august = load_month(settings, s, Period(2026, 8), NOW)
    assert 7 not in [ln.item_id for ln in july.lines] and july.closed
    assert [ln.item_id for ln in december.lines] == [7]  # the period of now, open
    assert 7 not in [ln.item_id for ln in august.lines]
    assert {ln.item_id for ln in august.lines} == {5}  # July's frozen items never count again
    vp = {r.code: r for r in december.rows}["VP"]
    assert vp.tin == 1


def test_a_late_item_comes_back_when_the_period_that_took_it_is_reopened(config: Path) -> None:
    """A closed period where nothing is left to count late is skipped when a month is read (its
    fingerprint is stored); reopening the period that took its late item makes it count again."""
    settings = load_settings(config)
    engine = open_database(settings)
    with transaction(engine) as s:
        assert close_period(s, settings, JULY, NOW, "admin")
    with reading(engine) as s:
        july = s.get(ReportPeriod, str(JULY))
        assert july is not None and (july.counted_by, july.counted_n) == ("approved", 3)  # drafts 1, 2, 3
    with transaction(engine) as s:  # recorded late, dated inside the closed July period
        s.add(Draft(id=7, tracking_code="T7", status="approved", kind="tin", unit_code="VP",
                    decided_at=utc(2026, 7, 10, 3), title="Tin muộn", byline="Muộn"))  # fmt: skip
    december = Period(2026, 12)
    with transaction(engine) as s:
        assert close_period(s, settings, december, NOW, "admin", force=True)
    with reading(engine) as s:
        assert [ln.item_id for ln in load_month(settings, s, december, NOW).lines] == [7]
        july = s.get(ReportPeriod, str(JULY))
        assert july is not None and july.counted_n == 4  # settled again: its late item is held by December
        assert 7 not in [ln.item_id for ln in load_month(settings, s, Period(2027, 1), NOW).lines]
    with transaction(engine) as s:
        reopen_period(s, december, "admin", "Sai số liệu", NOW)
    with reading(engine) as s:
        assert [ln.item_id for ln in load_month(settings, s, december, NOW).lines] == [7]


def test_pay_marks_lines_with_the_date(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "report", "pay", "2026-07", "--date", "05/08/2026"]) == 1
    assert "chưa chốt" in capsys.readouterr().err
    assert main(["--config", str(config), "report", "close", "2026-07"]) == 0
    assert (
        main(["--config", str(config), "report", "pay", "2026-07", "--date", "05/08/2026", "--line", "2", "--json"])
        == 0
    )
    capsys.readouterr()
    out = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    assert [(ln["seq"], ln["paid_on"]) for ln in out["lines"]] == [(1, None), (2, "2026-08-05")]
    assert main(["--config", str(config), "report", "pay", "2026-07", "--date", "2026-08-06"]) == 0
    assert "1 dòng" in capsys.readouterr().out
    out = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    assert [ln["paid_on"] for ln in out["lines"]] == ["2026-08-06", "2026-08-05"]
    assert main(["--config", str(config), "report", "reopen", "2026-07", "--reason", "x"]) == 1
    assert "đã chi trả" in capsys.readouterr().err
    engine = open_database(load_settings(config))
    with transaction(engine) as s, pytest.raises(LedgerError, match="trước ngày chốt"):
        mark_paid(s, JULY, date(2026, 7, 1), "admin")
    # A payment dated after today (a typo: 2062 for 2026) is refused.
    with transaction(engine) as s, pytest.raises(LedgerError, match="chưa tới"):
        mark_paid(s, JULY, date(2062, 8, 6), "admin", today=date(2026, 8, 7))
    assert main(["--config", str(config), "report", "pay", "2026-07", "--date", "06/08/2062"]) == 1
    assert "chưa tới" in capsys.readouterr().err


def test_shares_split_to_the_dong_and_photos_get_their_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(config)
    engine = open_database(settings)
    with transaction(engine) as s:
        for pos in range(2):
            s.add(DraftImage(draft_id=2, position=pos, sha256=f"{pos:064d}", content_type="image/jpeg"))
    argv = ["--config", str(config), "report", "shares", "2", "Lê Văn C=1", "Nguyễn Thị D=1", "Phạm E=1"]
    assert main(argv) == 0
    capsys.readouterr()
    out = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    two = [ln for ln in out["lines"] if ln["draft_id"] == 2]
    text = [ln for ln in two if ln["kind"] == "bai"]
    photos = [ln for ln in two if ln["kind"] == "anh"]
    assert [ln["author"] for ln in text] == ["Lê Văn C", "Nguyễn Thị D", "Phạm E"]
    assert sum(int(ln["amount"]) for ln in text) == 759000  # 3 x 253.000, split 253.000 each
    assert sum(int(ln["amount"]) for ln in photos) == 253000 and photos[0]["quantity"] == 2  # 2 x 0,5 x 253.000
    assert [int(ln["amount"]) for ln in photos] == [84334, 84333, 84333]
    with transaction(engine) as s:
        with pytest.raises(LedgerError):
            set_shares(s, 2, [("A", 0)], "admin", NOW)
        with pytest.raises(LedgerError):
            set_shares(s, 2, [(" ", 1)], "admin", NOW)
    assert main(["--config", str(config), "report", "shares", "2", "Lê Văn C=60", "Le Van C=40"]) == 1


def test_two_sessions_closing_at_once_store_one_set_of_lines(config: Path) -> None:
    settings = load_settings(config)
    engine = open_database(settings)
    start = threading.Barrier(2)
    results: list[bool] = []

    def close() -> None:
        start.wait(timeout=120)
        with transaction(engine) as s:
            results.append(close_period(s, settings, JULY, NOW, "admin"))

    threads = [threading.Thread(target=close) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) == [False, True]
    with reading(engine) as s:
        assert len(s.exec(select(ReportLine)).all()) == 2
        assert period_state(s, JULY).closed
        assert period_state(s, JULY).lines == 2


def test_a_royalty_error_under_a_refused_close_keeps_its_languages_apart(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No base salary in force for July: the page shows the Vietnamese alone, the CLI both halves."""
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('    { from = "2024-07-01", amount = 2340000 },\n', "").replace(
            '{ from = "2026-07-01", amount = 2530000 }', '{ from = "2026-08-01", amount = 2530000 }'
        ),
        encoding="utf-8",
    )
    engine = open_database(load_settings(config))
    with transaction(engine) as s, pytest.raises(LedgerError) as refused:
        close_period(s, load_settings(config), JULY, NOW, "quantri")
    exc = refused.value
    assert exc.vi.startswith("Không tính được nhuận bút kỳ 2026-07: chưa có mức lương cơ sở cho ngày ")
    assert " / " not in exc.vi and "base salary" not in exc.vi
    assert exc.en.startswith("cannot price period 2026-07: no base salary in force on 2026-0")
    assert main(["--config", str(config), "report", "close", "2026-07", "--by", "quantri"]) == 1
    assert capsys.readouterr().err.strip() == str(exc)  # "vi / en", one line
