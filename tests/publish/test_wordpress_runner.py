"""The publish runner with the real WordPress target (tests/wordpress.py): WordPress stopped mid-run then
started (the job retries and succeeds), a wrong password (target paused, one alert, no retry storm), two
runners at once (one post). Time is passed in (`now`), never waited for."""

from __future__ import annotations

import shutil
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.db import make_engine, reading, utcnow
from core.models import Draft, Job, JobStatus
from publish.article import identity_of
from publish.jobs import run_due
from publish.models import TargetState
from publish.wordpress import identity_marker
from review.auth import add_user
from tests.appkit import open_app, write_settings
from tests.publish.conftest import ADMIN, FIXTURES, PASSWORD, Office
from tests.publish.test_runner import approve, cli, mails, publish_jobs, show
from tests.wordpress import WordPress, rest
from toasoan.cli import main

pytestmark = pytest.mark.xdist_group("wordpress")
PW_ENV = "TOASOAN_TEST_WP_RUNNER_PW"


@pytest.fixture
def wp(wordpress_server: WordPress) -> WordPress:
    if not wordpress_server.web_running:
        raise RuntimeError("a test left the shared WordPress down; use wordpress_server.web_down()")
    return wordpress_server


@pytest.fixture
def office(wp: WordPress, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    """An office whose one target is the real WordPress, the editor's password in the environment."""
    monkeypatch.setenv(PW_ENV, wp.editor_password)
    config = write_settings(
        tmp_path,
        organization={"admin_emails": [ADMIN]},
        publish={"targets": ["wordpress"], "backoff_seconds": 60, "backoff_max_seconds": 600},
    )
    with config.open("a", encoding="utf-8") as f:
        f.write(
            f"[publish.wordpress]\nurl = '{wp.url}'\nusername = '{wp.editor}'\npassword_env = '{PW_ENV}'\n"
            "timeout_seconds = 120\n"
        )
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    shutil.copy(FIXTURES / "tin_ok.eml", new / "1")
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    settings, engine = open_app(config)
    add_user(engine, "lan", PASSWORD, role="editor", full_name="Lê Thị Lan")
    with reading(engine) as s:
        [draft] = s.exec(select(Draft)).all()
    assert draft.id is not None
    o = Office(config, settings, engine, draft.id)
    # Every office's first draft has the same identity, and the WordPress is shared by the tests:
    # an earlier test's post for it is removed, so each test starts from a WordPress without it.
    with wp.client() as c:
        for p in posts_of(wp, o):
            rest(c, "DELETE", f"/wp/v2/posts/{p['id']}", {"force": "true"})
    assert posts_of(wp, o) == []
    return o


def posts_of(wp: WordPress, o: Office) -> list[dict[str, Any]]:
    """Every post on WordPress (any status) carrying this draft's identity."""
    identity = identity_of(o.tin)
    return [p for p in wp.posts(search=identity) if identity_marker(identity) in p["content"]["raw"]]


def php_requests(wp: WordPress) -> int:
    """Connections php -S has accepted so far (its log; php -S closes each after one request)."""
    log = wp.dir / "php.log"
    return sum(1 for line in log.read_text(errors="replace").splitlines() if line.endswith(" Accepted"))


def the_job(o: Office) -> Job:
    [job] = publish_jobs(o)
    return job


def test_wordpress_stopped_then_started_the_job_retries_and_publishes_once(
    wp: WordPress, office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(office, capsys)
    now = utcnow()
    with wp.web_down():
        report = run_due(office.settings, office.engine, now)
        assert (report.published, report.retrying, report.ok) == (0, 1, False)
        job = the_job(office)
        assert job.status == JobStatus.retrying and job.attempts == 1
        assert "WordPress" in (job.last_error or "")
        assert job.next_attempt_at == now + timedelta(seconds=60)
    assert posts_of(wp, office) == []
    assert show(office, capsys)["status"] == "approved"
    assert run_due(office.settings, office.engine, now + timedelta(seconds=59)).published == 0  # not due yet
    report = run_due(office.settings, office.engine, now + timedelta(seconds=60))
    assert report.published == 1
    d = show(office, capsys)
    assert d["status"] == "published"
    [post] = posts_of(wp, office)
    assert post["link"] == d["published_url"] and post["status"] == "publish"
    run_due(office.settings, office.engine, now + timedelta(seconds=3600))  # nothing left to do
    assert len(posts_of(wp, office)) == 1
    [mail] = mails(office, "published")
    assert mail.to_addr == "lan.nguyen@vanphong.tinhuy.example" and d["published_url"] in mail.body_text


def test_a_wrong_password_pauses_wordpress_alerts_once_and_resume_publishes(
    wp: WordPress, office: Office, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(office, capsys)
    monkeypatch.setenv(PW_ENV, "sai mat khau aaaa bbbb cccc dddd")
    now = utcnow()
    before = php_requests(wp)
    report = run_due(office.settings, office.engine, now)
    assert report.paused == ["wordpress"] and not report.ok
    tried = php_requests(wp)
    assert tried > before  # WordPress was asked, and said no
    with reading(office.engine) as s:
        state = s.get(TargetState, "wordpress")
    assert state is not None and state.paused and state.alerted
    assert the_job(office).status == JobStatus.pending and the_job(office).attempts == 0
    for later in (1, 60, 3600, 86400):  # no retry storm: WordPress is not asked again, no second email
        run_due(office.settings, office.engine, now + timedelta(seconds=later))
    assert php_requests(wp) == tried
    [alert] = mails(office, "publish_paused")
    assert alert.to_addr == ADMIN and "toasoan publish resume wordpress" in alert.body_text
    assert wp.editor_password not in alert.body_text and "sai mat khau" not in alert.body_text
    assert posts_of(wp, office) == []

    monkeypatch.setenv(PW_ENV, wp.editor_password)  # the admin fixes the password
    cli(office, "publish", "resume", "wordpress", capsys=capsys)
    cli(office, "publish", "--once", capsys=capsys)
    d = show(office, capsys)
    assert d["status"] == "published"
    [post] = posts_of(wp, office)
    assert post["link"] == d["published_url"]
    assert len(mails(office, "publish_paused")) == 1 and len(mails(office, "published")) == 1


def test_two_runners_at_once_publish_one_post(
    wp: WordPress, office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(office, capsys)
    engines = [make_engine(office.settings.database_url) for _ in range(2)]  # two processes' engines
    barrier = threading.Barrier(2)
    now = utcnow()
    reports: list[Any] = []

    def runner(i: int) -> None:
        barrier.wait()
        reports.append(run_due(office.settings, engines[i], now, worker=f"runner-{i}"))

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(r.published for r in reports) == [0, 1]
    assert len(posts_of(wp, office)) == 1
    assert len(mails(office, "published")) == 1
    job = the_job(office)
    assert job.status == JobStatus.succeeded and job.attempts == 1
