"""Long commands show a progress bar on a terminal and nothing elsewhere: the real CLI with its stderr
on a pseudo-terminal, on a pipe, or on a terminal with --json (tests/terminal.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import load_settings
from core.storage import Store
from tests.appkit import open_app, write_settings
from tests.terminal import run_cli
from toasoan.backup import database_kind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
FILES = 30  # stored files in the office that is backed up: more than a handful
MESSAGES = 25  # messages of the backlog


def settings_in(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_settings(directory)


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """An office with FILES stored files (what a backup copies)."""
    config = settings_in(tmp_path / "office")
    settings, engine = open_app(config)
    engine.dispose()
    store = Store(settings.storage_dir)
    for i in range(FILES):
        store.put("documents", f"tệp số {i}\n".encode() * (i + 1), suffix=".docx")
    return config


SUMMARY_KEYS = {"dir", "database", "files", "bytes", "revision"}


def test_backup_and_restore_show_a_bar_on_a_terminal_only(office: Path, tmp_path: Path) -> None:
    shown = run_cli(office, "backup", str(tmp_path / "b1"), terminal=True)
    assert shown.code == 0, shown
    assert "Sao lưu" in shown.err and f"{FILES}/{FILES}" in shown.err, shown.err  # the count, all copied
    assert "MB" in shown.err  # and the bytes
    assert f"và {FILES} tệp" in shown.out  # the sentence still on stdout

    piped = run_cli(office, "backup", str(tmp_path / "b2"), terminal=False)
    assert piped.code == 0 and piped.err == "", piped.err  # a log or a pipe gets no bar
    assert f"và {FILES} tệp" in piped.out

    as_json = run_cli(office, "backup", str(tmp_path / "b3"), "--json", terminal=True)
    assert as_json.code == 0 and as_json.err == "", as_json.err  # --json: nothing on the terminal either
    answer = json.loads(as_json.out)
    assert set(answer) == SUMMARY_KEYS and answer["files"] == FILES
    assert answer["database"] == database_kind(load_settings(office).database_url)  # the suite runs on both

    fresh = settings_in(tmp_path / "fresh")
    restored = run_cli(fresh, "restore", str(tmp_path / "b1"), terminal=True)
    assert restored.code == 0, restored
    assert "Khôi phục" in restored.err and f"{FILES}/{FILES}" in restored.err, restored.err
    again = settings_in(tmp_path / "again")
    quiet = run_cli(again, "restore", str(tmp_path / "b3"), "--json", terminal=True)
    assert quiet.code == 0 and quiet.err == "", quiet.err
    answer = json.loads(quiet.out)
    assert set(answer) == SUMMARY_KEYS and answer["files"] == FILES


def backlog(maildir: Path, count: int) -> None:
    """`count` distinct emails waiting in the Maildir (other mail: quick to process)."""
    raw = (FIXTURES / "not_a_submission.eml").read_bytes()
    new = maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (new / f"{i}.host").write_bytes(f"X-Backlog: {i}\r\n".encode() + raw)


def test_the_sweep_of_a_backlog_shows_its_counts_on_a_terminal_only(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    backlog(tmp_path / "maildir", MESSAGES)
    shown = run_cli(config, "ingest", "--once", terminal=True)
    assert shown.code == 0, shown
    for label in ("Tải thư", "Xử lý thư"):
        assert label in shown.err, shown.err
    assert shown.err.count(f"{MESSAGES}/{MESSAGES}") >= 2, shown.err  # both bars reached the end
    assert f"Đã kiểm tra {MESSAGES} thư" in shown.err

    config2 = settings_in(tmp_path / "piped")
    backlog(tmp_path / "piped" / "maildir", MESSAGES)
    piped = run_cli(config2, "ingest", "--once", terminal=False)
    assert piped.code == 0, piped
    assert "Tải thư" not in piped.err and "Xử lý thư" not in piped.err and "\r" not in piped.err, piped.err
    assert f"Đã kiểm tra {MESSAGES} thư" in piped.err


def test_a_few_messages_show_no_bar(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    backlog(tmp_path / "maildir", 3)
    shown = run_cli(config, "ingest", "--once", terminal=True)
    assert shown.code == 0, shown
    assert "Tải thư" not in shown.err and "Xử lý thư" not in shown.err, shown.err
    assert "Đã kiểm tra 3 thư" in shown.err
