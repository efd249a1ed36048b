"""`toasoan site rebuild` over real drafts, and the site under /site/ of the web app `toasoan serve` runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.db import transaction
from core.models import Draft
from publish.models import Publication
from publish.site.cli import published_articles
from tests.review.webkit import make_office, seed_draft
from tests.terminal import run_cli
from toasoan.cli import main
from toasoan.web import build_app


def test_site_rebuild_writes_the_published_drafts_and_serve_shows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office = make_office(tmp_path / "office")
    try:
        ids = [seed_draft(office, title=f"Đảng bộ phường {n} học tập nghị quyết", with_photo=n == 2) for n in (1, 2, 3)]
        waiting = seed_draft(office, title="Bài còn chờ duyệt")
        when = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
        with transaction(office.engine) as s:
            for n, draft_id in enumerate(ids):
                d = s.get(Draft, draft_id)
                assert d is not None
                d.status, d.decided_at, d.category = "published", when + timedelta(minutes=n), "xay-dung-dang"
                s.add(d)
                s.add(Publication(draft_id=draft_id, target="static", status="published", published_at=d.decided_at))
        assert [a.draft_id for a in published_articles(office.engine, office.settings)] == ids

        assert main(["--config", str(office.config), "site", "rebuild"]) == 0
        out = capsys.readouterr()
        assert "Dựng lại trang" not in out.err  # not a terminal: no progress bar (core.progress)
        shown = run_cli(office.config, "site", "rebuild", terminal=True)
        assert shown.code == 0 and "Dựng lại trang" in shown.err and "3/3" in shown.err, shown
        assert "3 bài" in out.out
        root = office.settings.resolve(office.settings.publish_static.path)
        pages = sorted(p.name for p in (root / "xay-dung-dang").glob("dang-bo-*.html"))
        assert pages == [f"dang-bo-phuong-{n}-hoc-tap-nghi-quyet-{i}.html" for n, i in zip((1, 2, 3), ids, strict=True)]
        assert not list(root.rglob(f"*-{waiting}.html"))
        assert "05/12/2026" in (root / "xay-dung-dang" / pages[0]).read_text(encoding="utf-8")
        assert list((root / "media").rglob("*.jpg"))  # the photo, copied beside the pages

        with TestClient(build_app(office.settings)) as client:
            home = client.get("/site/")
            assert home.status_code == 200 and "Đảng bộ phường 3 học tập nghị quyết" in home.text
            assert client.get(f"/site/xay-dung-dang/{pages[1]}").status_code == 200
            assert client.get("/site/feed.xml").status_code == 200
            for hidden in ("/site/_data/sections.json", "/site/_data/articles/0.json", "/site/_data/.lock"):
                assert client.get(hidden).status_code == 404, hidden
    finally:
        office.close()
