"""Fixtures of the publish runner's tests: an office whose one target is the test target (filetest)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

import core.settings
from core.settings import Settings
from review.auth import add_user
from tests.appkit import open_app, write_settings
from tests.publish import filetarget
from toasoan.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
PASSWORD = "mật-khẩu-dài"
ADMIN = "quantri@tinhuy.example"


@dataclass
class Office:
    config: Path
    settings: Settings
    engine: Engine
    tin: int  # a news item from a known sender (lan.nguyen@vanphong...), pending review


@pytest.fixture
def allow_test_target(monkeypatch: pytest.MonkeyPatch) -> None:
    # The settings accept only the real targets' names; these tests add the test target's.
    monkeypatch.setattr(core.settings, "PUBLISH_TARGETS", (*core.settings.PUBLISH_TARGETS, filetarget.NAME))


@pytest.fixture
def make_office(tmp_path: Path, allow_test_target: None) -> Callable[..., Office]:
    def make(**publish: Any) -> Office:
        config = write_settings(
            tmp_path,
            organization={"admin_emails": [ADMIN]},
            publish={"targets": [filetarget.NAME], "backoff_seconds": 60, "backoff_max_seconds": 600, **publish},
        )
        new = tmp_path / "maildir" / "new"
        new.mkdir(parents=True)
        shutil.copy(FIXTURES / "tin_ok.eml", new / "1")
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        settings, engine = open_app(config)
        add_user(engine, "lan", PASSWORD, role="editor", full_name="Lê Thị Lan")
        add_user(engine, "duyet", PASSWORD, role="chief", full_name="Trần Văn Duyệt")
        add_user(engine, "xem", PASSWORD, role="viewer")
        from sqlmodel import select

        from core.db import reading
        from core.models import Draft

        with reading(engine) as s:
            [draft] = s.exec(select(Draft)).all()
        assert draft.id is not None
        return Office(config, settings, engine, draft.id)

    return make


@pytest.fixture
def office(make_office: Callable[..., Office]) -> Office:
    return make_office()
