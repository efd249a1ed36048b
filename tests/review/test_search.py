"""The queue's search on a real SQLite database (the FTS5 index of migration 0011): words match the
start of a draft's words without diacritics, every word is required, the index follows inserts, edits
and deletes, and no query text is taken as FTS5 syntax."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, delete

from core.db import make_engine, transaction
from core.drafts import refresh_search_text
from core.models import Draft
from review.service import QueueFilter, fts_query, pg_search_query, queue
from tests.appkit import open_app, write_settings

TITLES = {
    1: "Đảng bộ xã Tân Phú sơ kết công tác xây dựng Đảng",
    2: "Hội nghị Ban Chấp hành Đoàn thanh niên",
    3: "Chi bộ Văn phòng học tập Nghị quyết",
}


@pytest.fixture
def office(tmp_path: Path) -> tuple[Any, Any]:
    settings, engine = open_app(write_settings(tmp_path))
    with transaction(engine) as s:
        for n, title in TITLES.items():
            d = Draft(id=n, tracking_code=f"TS-2026-{n:04d}", title=title, sender=f"nguoi{n}@donvi.example")
            refresh_search_text(d)
            s.add(d)
    return settings, engine


def found(office: tuple[Any, Any], q: str) -> list[int]:
    settings, engine = office
    return sorted(r.id for r in queue(engine, settings, QueueFilter(q=q)).rows)


def test_words_without_diacritics_match_the_start_of_words_all_required(office: tuple[Any, Any]) -> None:
    assert found(office, "dang bo") == [1]
    assert found(office, "ĐẢNG") == [1]
    assert found(office, "chi bo") == [3]
    assert found(office, "bo") == [1, 3]
    assert found(office, "nghi") == [2, 3]  # "nghị" and "Nghị quyết"
    assert found(office, "nghi quyet") == [3]
    assert found(office, "doan thanh") == [2]
    assert found(office, "0002") == [2]  # the tracking code
    assert found(office, "nguoi3") == [3]  # the sender's address
    assert found(office, "khong co dau") == []


@pytest.mark.parametrize(
    "hostile", ['"', "dang*", "dang OR bo", "NEAR(dang bo)", "-dang", "^dang", "dang:bo", "(", "%", "_", "'; --"]
)
def test_no_query_text_is_fts_syntax(office: tuple[Any, Any], hostile: str) -> None:
    settings, engine = office
    page = queue(engine, settings, QueueFilter(q=hostile))  # never an FTS5 syntax error
    assert re.fullmatch(r'(?:"[^"\s]+"\*(?: |$))*', fts_query(hostile.lower()))  # quoted words, nothing else
    assert re.fullmatch(r"(?:'[^\W_]+':\*(?: & |$))*", pg_search_query(hostile.lower()))  # PostgreSQL's too
    if "dang" in hostile and "bo" in hostile:
        assert {r.id for r in page.rows} <= {1}


def test_the_index_follows_edits_and_deletes(office: tuple[Any, Any]) -> None:
    _settings, engine = office
    with transaction(engine) as s:
        d = s.get(Draft, 2)
        assert d is not None
        d.title = "Hội nghị tổng kết công tác Đoàn"
        refresh_search_text(d)
        s.add(d)
        s.exec(delete(Draft).where(col(Draft.id) == 3))
    assert found(office, "tong ket") == [2]
    assert found(office, "thanh nien") == []
    assert found(office, "chi bo") == []


def test_the_counts_of_a_search_follow_new_drafts(office: tuple[Any, Any]) -> None:
    """Counts are remembered per filter until the database changes (any connection, any process)."""
    settings, engine = office
    assert queue(engine, settings, QueueFilter(q="dang bo")).counts == {"pending_review": 1}
    with transaction(engine) as s:
        d = Draft(id=4, tracking_code="TS-2026-0004", title="Đảng bộ phường sơ kết", sender="a@b.example")
        d.status = "published"
        refresh_search_text(d)
        s.add(d)
    assert queue(engine, settings, QueueFilter(q="dang bo")).counts == {"pending_review": 1, "published": 1}
    assert queue(engine, settings, QueueFilter(q="chi bo")).counts == {"pending_review": 1}


@pytest.mark.sqlite_only  # SQLite's own cache of matches, and its file written by another process
def test_the_matches_of_a_search_follow_changes_by_any_connection(office: tuple[Any, Any], tmp_path: Path) -> None:
    """A connection remembers a search's matches until the database changes: a draft another process
    adds, or one this process edits, shows on the next search, in the rows and in the counts."""
    settings, engine = office
    assert found(office, "dang bo") == [1]
    assert found(office, "dang bo") == [1]  # the remembered matches
    other = sqlite3.connect(tmp_path / "var" / "toasoan.db")  # as another process would write
    with other:
        other.execute(
            "UPDATE draft SET title = 'Đảng bộ khối cơ quan', search_text = 'dang bo khoi co quan' WHERE id = 2"
        )
    other.close()
    assert found(office, "dang bo") == [1, 2]
    with transaction(engine) as s:
        s.exec(delete(Draft).where(col(Draft.id) == 1))
    assert found(office, "dang bo") == [2]
    assert queue(engine, settings, QueueFilter(q="dang bo")).counts == {"pending_review": 1}


def test_remembered_counts_follow_a_change_made_by_another_process(office: tuple[Any, Any]) -> None:
    """The counts a connection remembers (SQLite: until `PRAGMA data_version` moves; PostgreSQL: until its
    snapshot moves) are counted again when another process's engine commits a change."""
    settings, engine = office
    assert queue(engine, settings, QueueFilter(q="dang bo")).counts == {"pending_review": 1}
    assert queue(engine, settings, QueueFilter(q="dang bo")).counts == {"pending_review": 1}  # remembered
    other = make_engine(settings.database_url)  # its own pool, as the worker's process has
    with other.begin() as conn:
        conn.execute(text("UPDATE draft SET status = 'published' WHERE id = 1"))
    other.dispose()
    assert queue(engine, settings, QueueFilter(q="dang bo")).counts == {"published": 1}
    assert queue(engine, settings, QueueFilter(q="dang bo", status="published")).total == 1


def test_a_remembered_page_follows_a_change_that_leaves_the_counts_alone(office: tuple[Any, Any]) -> None:
    """A connection remembers whole queue pages under the same rule as the counts: a title another
    process edits (the same drafts, the same statuses) shows on the next view of that page."""
    settings, engine = office
    titles = [r.title for r in queue(engine, settings, QueueFilter(q="chi bo")).rows]
    assert titles == [TITLES[3]]
    assert [r.title for r in queue(engine, settings, QueueFilter(q="chi bo")).rows] == titles  # remembered
    other = make_engine(settings.database_url)
    with other.begin() as conn:
        conn.execute(text("UPDATE draft SET title = 'Chi bộ Văn phòng sơ kết quý IV' WHERE id = 3"))
    other.dispose()
    page = queue(engine, settings, QueueFilter(q="chi bo"))
    assert [r.title for r in page.rows] == ["Chi bộ Văn phòng sơ kết quý IV"]
    assert page.counts == {"pending_review": 1}
    page.rows.clear()  # a caller's copy: the remembered page is not changed through it
    assert len(queue(engine, settings, QueueFilter(q="chi bo")).rows) == 1
