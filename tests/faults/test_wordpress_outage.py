"""WordPress down (its web server stopped) while the worker, a real `toasoan worker` process, has three
approved articles to publish; started again: every publish job, tried again and again meanwhile,
publishes its article exactly once, and each contributor gets one "published" email."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from core.db import reading
from core.models import Draft, Job, JobStatus, OutboxMail
from publish.article import identity_of
from publish.wordpress import identity_marker
from review.auth import add_user
from tests.appkit import open_app, write_settings
from tests.clijson import cli
from tests.faults.kit import WorkerProcess, append_settings, figures, wait_until
from tests.fixtures.intake.build import submission
from tests.wordpress import WordPress, rest
from toasoan.cli import main

pytestmark = pytest.mark.xdist_group("wordpress")
PW_ENV = "TOASOAN_TEST_WP_FAULTS_PW"
ARTICLES = 3
TRIES_WHILE_DOWN = 3  # each job is tried this many times before WordPress comes back


def posts_of(wp: WordPress, draft_id: int) -> list[dict[str, Any]]:
    identity = identity_of(draft_id)
    return [p for p in wp.posts(search=identity) if identity_marker(identity) in p["content"]["raw"]]


def jobs(engine: Any) -> list[Job]:
    with reading(engine) as s:
        return list(s.exec(select(Job).where(col(Job.kind).startswith("publish"))).all())


def test_wordpress_down_then_up_each_article_published_once(
    tmp_path: Path, wordpress_server: WordPress, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wp = wordpress_server
    if not wp.web_running:
        raise RuntimeError("a test left the shared WordPress down; use wordpress_server.web_down()")
    monkeypatch.setenv(PW_ENV, wp.editor_password)
    # Short delays so the retries happen within the test (the rules are the shipped ones otherwise).
    config = write_settings(
        tmp_path, publish={"targets": ["wordpress"], "backoff_seconds": 1, "backoff_max_seconds": 2, "run_seconds": 1}
    )
    append_settings(
        config,
        f"[publish.wordpress]\nurl = '{wp.url}'\nusername = '{wp.editor}'\npassword_env = '{PW_ENV}'\n"
        "timeout_seconds = 60",
    )
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    for n in range(ARTICLES):
        (new / str(n)).write_bytes(submission(n))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    _settings, engine = open_app(config)
    add_user(engine, "lan", "mật khẩu dài dài 2026", role="editor", full_name="Lê Thị Lan")
    with reading(engine) as s:
        ids = [d.id for d in s.exec(select(Draft)).all() if d.id is not None]
    assert len(ids) == ARTICLES
    with wp.client() as c:  # the shared WordPress may hold an earlier test's posts for these drafts
        for draft_id in ids:
            for p in posts_of(wp, draft_id):
                rest(c, "DELETE", f"/wp/v2/posts/{p['id']}", {"force": "true"})

    worker = WorkerProcess(config)
    try:
        with wp.web_down():
            for draft_id in ids:
                cli(config, "drafts", "approve", str(draft_id), "--by", "lan", "--json", capsys=capsys)
            worker.start()
            down_at = time.monotonic()
            wait_until(
                lambda: len(j := jobs(engine)) == ARTICLES and all(x.attempts >= TRIES_WHILE_DOWN for x in j),
                f"every publish job tried {TRIES_WHILE_DOWN} times while WordPress is down",
            )
            assert {x.status for x in jobs(engine)} <= {JobStatus.retrying, JobStatus.in_progress}
            down_for = time.monotonic() - down_at
        up_at = time.monotonic()  # web_down() has started it again, on the same port
        wait_until(lambda: {x.status for x in jobs(engine)} == {JobStatus.succeeded}, "every job succeeded", every=0.5)
        recovered = time.monotonic() - up_at
        wait_until(lambda: len(published_mails(engine)) == ARTICLES, "the contributors' emails queued")
        time.sleep(3)  # three more rounds of the publish loop: nothing may be published again
    finally:
        code = worker.stop()
    assert code == 0, worker.log_text()[-3000:]
    for draft_id in ids:
        [post] = posts_of(wp, draft_id)  # exactly one post each
        shown = cli(config, "drafts", "show", str(draft_id), "--json", capsys=capsys)
        assert shown["status"] == "published" and shown["published_url"] == post["link"]
    assert sorted(m.draft_id or 0 for m in published_mails(engine)) == sorted(ids)  # one email each
    tries = [x.attempts for x in jobs(engine)]
    figures(
        "wordpress_outage",
        articles=ARTICLES,
        seconds_down=round(down_for, 1),
        tries_per_job=tries,
        seconds_up_to_all_published=round(recovered, 1),
        posts_per_article=1,
        lost=0,
        duplicated=0,
    )


def published_mails(engine: Any) -> list[OutboxMail]:
    with reading(engine) as s:
        return [m for m in s.exec(select(OutboxMail)).all() if m.kind == "published"]
