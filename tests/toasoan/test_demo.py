"""`make run` on a fresh machine: the shipped settings, the sample mail, the demo accounts, and a few
sample articles approved by the demo head of the board and live on the static site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.clijson import cli_json
from toasoan.cli import main

pytestmark = pytest.mark.sqlite_only  # `make run`'s embedded defaults: SQLite

REPO = Path(__file__).resolve().parents[2]


def test_make_run_shows_the_whole_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "settings.toml"
    shutil.copy(REPO / "settings.toml", config)  # the shipped settings: var/ beside the file
    assert main(["--config", str(config), "seed"]) == 0
    assert main(["--config", str(config), "demo"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8080/site/  (3 bài mẫu đã đăng)" in out and "truongban / truongban-demo" in out
    drafts = cli_json(config, "drafts", "list", capsys=capsys)
    live = [d for d in drafts if d["status"] == "published"]
    assert len(live) == 3
    for d in live:
        shown = cli_json(config, "drafts", "show", str(d["id"]), capsys=capsys)
        page = tmp_path / "var" / "site" / shown["published_url"].removeprefix("http://127.0.0.1:8080/site/")
        assert shown["title"] in page.read_text(encoding="utf-8")
    assert main(["--config", str(config), "demo"]) == 0  # a second start publishes nothing more
    assert "đã có tài khoản" in capsys.readouterr().out
