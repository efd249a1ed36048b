"""The one greeting and kind label of the emails to contributors (receipts, notices, decisions, links)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.senders import greeting, kind_label, letter
from core.settings import load_settings

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

SETTINGS = """
[organization]
name = "Đảng ủy Khối thử nghiệm"
office_name = "Ban Biên tập thử nghiệm"
[mailbox]
backend = "maildir"
path = "mail"
[royalty.genres.bai]
label = "Bài viết"
"""


def test_greeting_names_the_sender_when_there_is_a_name() -> None:
    assert greeting("Nguyễn Thị Lan") == "đồng chí Nguyễn Thị Lan"
    assert greeting("") == greeting(None) == "đồng chí"


def test_kind_label_is_the_settings_label_in_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    settings = load_settings(tmp_path / "settings.toml")
    assert kind_label(settings, "bai") == "bài viết"
    assert kind_label(settings, "tin") == "tin"
    assert kind_label(settings, "khac") == "khac"  # a kind the settings no longer list: its code


def test_letter_echoes_the_name_only_when_allowed(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    settings = load_settings(tmp_path / "settings.toml")
    signed = {"office": "Ban Biên tập thử nghiệm", "organization": "Đảng ủy Khối thử nghiệm"}
    assert letter(settings, "Lan") == {"echo": True, "greeting": "đồng chí Lan", **signed}
    assert letter(settings, "Lan", echo=False) == {"echo": False, "greeting": "đồng chí", **signed}
