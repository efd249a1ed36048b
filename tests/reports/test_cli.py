"""`toasoan report month`: real SQLite database, real drafts, the JSON and the three documents."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from core.db import transaction
from core.models import Draft
from core.settings import load_settings
from tests.appkit import the_repository_settings
from tests.clijson import cli_json
from toasoan.cli import main
from toasoan.database import open_database


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office(tmp_path: Path, count_by: str) -> Path:
    path = tmp_path / "settings.toml"
    text = the_repository_settings(tmp_path)
    assert 'count_by = "published"' in text
    path.write_text(text.replace('count_by = "published"', f'count_by = "{count_by}"'), encoding="utf-8")
    engine = open_database(load_settings(path))
    rows = [
        # id, status, kind, unit, coefficient, decided_at (UTC), duplicate_of, byline
        (1, "published", "tin", "VP", Decimal("1.50"), utc(2026, 6, 30, 3), None, "Trần Thị B"),  # 30/06 local
        (2, "approved", "bai", "TC", None, utc(2026, 7, 2, 3), None, "Lê Văn C"),
        (3, "approved", "bai", "TC", None, utc(2026, 7, 3, 3), 2, "Lê Văn C"),  # re-sent copy of 2
        (4, "rejected", "tin", "VP", Decimal(1), utc(2026, 7, 2, 3), None, "X"),
        (5, "published", "tin", "TC", Decimal(1), utc(2026, 7, 27, 17), None, "Y"),  # 28/07 00:00 local: 2026-08
        (6, "published", "bai", "NC", Decimal(2), utc(2026, 5, 10, 3), None, "Z"),  # 2026-05: earlier in the quarter
    ]
    with transaction(engine) as s:
        for id_, status, kind, unit, coef, decided, dup, byline in rows:
            s.add(
                Draft(
                    id=id_,
                    tracking_code=f"T{id_}",
                    status=status,
                    kind=kind,
                    unit_code=unit,
                    coefficient=coef,
                    decided_at=decided,
                    published_at=decided + timedelta(days=1) if status == "published" else None,  # live a day later
                    duplicate_of=dup,
                    byline=byline,
                    title=f"Bài số {id_}",
                )
            )
    engine.dispose()
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Items dated by their approval ([calendar] count_by = "approved")."""
    return office(tmp_path, "approved")


def test_report_month_json_and_documents(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx, report, request = tmp_path / "ds.xlsx", tmp_path / "bc.docx", tmp_path / "tt.docx"
    argv = ["--config", str(config), "report", "month", "2026-07", "--json"]
    argv += ["--xlsx", str(xlsx), "--docx", str(report), "--request", str(request)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == {
        "name": "2026-07",
        "start": "2026-06-28T00:00:00+07:00",
        "end": "2026-07-28T00:00:00+07:00",
        "payment_date": "2026-08-05",
    }
    units = {u["code"]: u for u in out["units"]}
    assert (units["VP"]["tin"], units["VP"]["tin_met"]) == (1, True)
    assert (units["TC"]["bai"], units["TC"]["quarter_bai"], units["TC"]["bai_met"]) == (1, 1, True)
    assert (units["NC"]["bai"], units["NC"]["quarter_bai"]) == (0, 0)  # May is in Q2, July in Q3
    # Draft 1 counted on 30/06 (2.340.000 base): 1,5 x 234.000; draft 2 on 02/07 (2.530.000): 3 x 253.000.
    assert [(ln["draft_id"], ln["coefficient"], ln["amount"]) for ln in out["lines"]] == [
        (1, "1.5", "351000"),
        (2, "3", "759000"),
    ]
    assert out["lines"][0]["author"] == "Trần Thị B" and out["lines"][1]["unit"] == "TC"
    assert out["total"] == "1110000" and out["pit"] == "0" and out["net"] == "1110000"
    assert out["total_in_words"] == "Một triệu một trăm mười nghìn đồng"
    ws = openpyxl.load_workbook(xlsx).active
    assert ws.cell(8, 2).value == "Trần Thị B" and ws.cell(10, 8).value == 1_110_000
    document = docx.Document(str(report))
    assert document.tables[0].rows[0].cells[1].paragraphs[-1].text == "Vĩnh Long, ngày 28 tháng 7 năm 2026"
    assert len(document.inline_shapes) == 1
    assert any("1.110.000 đ" in p.text for p in docx.Document(str(request)).paragraphs)


def test_report_month_refuses_a_bad_period(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "report", "month", "2026-7"]) == 1
    assert "YYYY-MM" in capsys.readouterr().err


def test_by_default_an_item_counts_when_it_goes_live(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # count_by = "published" (the shipped setting): approved drafts not live yet do not count, and a
    # published one counts on the day it went live (draft 1: approved 30/06, live 01/07 local).
    config = office(tmp_path, "published")
    out = cli_json(config, "report", "month", "2026-07", capsys=capsys)
    assert [(ln["draft_id"], ln["amount"]) for ln in out["lines"]] == [(1, "379500")]  # 1,5 x 253.000 (from 01/07)
    units = {u["code"]: u for u in out["units"]}
    assert (units["VP"]["tin"], units["TC"]["bai"]) == (1, 0)
    august = cli_json(config, "report", "month", "2026-08", capsys=capsys)
    assert [ln["draft_id"] for ln in august["lines"]] == [5]  # live 28/07 local: the August period
