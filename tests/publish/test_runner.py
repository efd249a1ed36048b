"""The publish runner, driven through the commands and services people use, against the test target:
an approved article goes live by itself, exactly once; failures retry, fail, pause or wait for a person
as the target says. Time is passed in (`now`), never waited for."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from core import jobs
from core.db import make_engine, reading, utcnow
from core.drafts import DraftError
from core.formats import format_datetime
from core.models import Draft, Job, JobStatus, OutboxMail
from publish.jobs import PublishError, RunReport, _run_one, complete_manual, run_due
from publish.models import Publication, TargetState
from publish.targets import Placed, PublishArticle
from review import service
from review.auth import get_user
from tests import clijson
from tests.publish import filetarget
from tests.publish.conftest import ADMIN, Office


def cli(o: Office, *args: str, capsys: pytest.CaptureFixture[str], code: int = 0) -> Any:
    return clijson.cli(o.config, *args, capsys=capsys, code=code)


def approve(o: Office, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    return cli(o, "drafts", "approve", str(o.tin), "--by", "lan", "--json", *extra, capsys=capsys)


def show(o: Office, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return cli(o, "drafts", "show", str(o.tin), "--json", capsys=capsys)


def mails(o: Office, kind: str) -> list[OutboxMail]:
    with reading(o.engine) as s:
        return [m for m in s.exec(select(OutboxMail)).all() if m.kind == kind]


def publish_jobs(o: Office) -> list[Job]:
    with reading(o.engine) as s:
        return list(s.exec(select(Job).order_by(col(Job.id))).all())


def test_approval_queues_the_job_in_its_own_transaction(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    user = get_user(office.engine, "lan")
    with pytest.raises(DraftError):  # the page was stale: the approval is refused, and queues nothing
        service.approve(office.engine, office.settings, office.tin, user, revision=99)
    cli(office, "drafts", "approve", str(office.tin), "--by", "xem", capsys=capsys, code=1)  # not allowed
    with pytest.raises(ValueError):  # queueing the job fails inside the approval: the approval is undone
        service.approve(
            office.engine, office.settings, office.tin, user, revision=None, publish_at=datetime(2027, 1, 1)
        )
    assert publish_jobs(office) == []
    assert show(office, capsys)["status"] == "pending_review" and mails(office, "decision_approved") == []
    approve(office, capsys)
    [listed] = cli(office, "publish", "list", "--json", capsys=capsys)
    assert (listed["target"], listed["action"], listed["draft_id"], listed["status"]) == (
        "filetest",
        "publish",
        office.tin,
        "pending",
    )
    assert show(office, capsys)["publications"] == [
        {"target": "filetest", "url": None, "status": "pending", "published_at": None, "error": None}
    ]


def test_an_approved_article_goes_live_once_and_the_contributor_gets_the_link_once(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(office, capsys)
    out = cli(office, "publish", "--once", capsys=capsys)
    assert "Đã đăng 1" in out.out
    d = show(office, capsys)
    assert d["status"] == "published" and d["published_at"]
    url = d["published_url"]
    assert url.startswith(filetarget.BASE_URL) and url.endswith(f"-{office.tin}.html")
    [pub] = d["publications"]
    assert (pub["target"], pub["url"], pub["status"], pub["error"]) == ("filetest", url, "published", None)
    assert d["title"] in filetarget.page(office.settings, url).read_text(encoding="utf-8")
    history = cli(office, "drafts", "history", str(office.tin), "--json", capsys=capsys)
    assert [(e["action"], e["actor"], e["to_status"]) for e in history][-1] == ("published", "system", "published")
    assert history[-1]["data"]["url"] == url
    cli(office, "publish", "--once", capsys=capsys)  # nothing left to do
    assert [c["action"] for c in filetarget.calls(office.settings)] == ["publish"]
    [mail] = mails(office, "published")
    assert mail.to_addr == "lan.nguyen@vanphong.tinhuy.example"
    assert url in mail.body_text and "đã được đăng" in mail.subject
    assert "Kính gửi đồng chí Nguyễn Thị Lan" in mail.body_text


def test_two_runners_at_once_publish_once(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
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
        t.join()
    assert sorted(r.published for r in reports) == [0, 1]
    assert [c["action"] for c in filetarget.calls(office.settings)] == ["publish"]
    assert len(mails(office, "published")) == 1
    [job] = publish_jobs(office)
    assert job.status == JobStatus.succeeded and job.attempts == 1


def test_unavailable_is_retried_with_backoff_then_given_up(
    make_office: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    office = make_office(max_attempts=3)
    approve(office, capsys)
    filetarget.script(office.settings, "unavailable 503 portal down")
    now = utcnow()
    report = run_due(office.settings, office.engine, now)
    assert (report.published, report.retrying, report.ok) == (0, 1, False)
    [job] = publish_jobs(office)
    assert job.status == JobStatus.retrying and job.attempts == 1
    assert job.next_attempt_at == now + timedelta(seconds=60) and job.last_error == "503 portal down"
    assert show(office, capsys)["publications"][0]["status"] == "pending"
    assert run_due(office.settings, office.engine, now + timedelta(seconds=59)).retrying == 0  # not due yet
    assert len(filetarget.calls(office.settings)) == 1
    report = run_due(office.settings, office.engine, now + timedelta(seconds=60))
    assert report.published == 1 and show(office, capsys)["status"] == "published"

    # Another draft, and a portal that stays down: 60 s, then 120 s, then given up after 3 tries.
    other = make_second_approved(office, capsys)
    filetarget.script(office.settings, "unavailable", "unavailable", "unavailable")
    t = utcnow()
    for wait, status in ((0, JobStatus.retrying), (60, JobStatus.retrying), (180, JobStatus.failed)):
        t += timedelta(seconds=wait)
        run_due(office.settings, office.engine, t)
        assert job_of(office, other).status == status
    assert job_of(office, other).attempts == 3


def make_second_approved(office: Office, capsys: pytest.CaptureFixture[str]) -> int:
    """A second draft (a copy of the first under another tracking code), approved by the head."""
    from core.db import transaction
    from core.drafts import snapshot

    with transaction(office.engine) as s:
        first = s.get(Draft, office.tin)
        assert first is not None
        data = first.model_dump(exclude={"id", "tracking_code", "status", "published_at"})
        draft = Draft(**data, tracking_code="TS-TEST-2", status="pending_review")
        s.add(draft)
        s.flush()
        snapshot(s, draft, author="test")
        draft_id = draft.id
    assert draft_id is not None
    cli(office, "drafts", "approve", str(draft_id), "--by", "duyet", capsys=capsys)
    return draft_id


def job_of(office: Office, draft_id: int) -> Job:
    [job] = [j for j in publish_jobs(office) if j.payload["draft_id"] == draft_id]
    return job


def test_refused_fails_with_the_answer_shown_and_a_person_retries(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(office, capsys)
    filetarget.script(office.settings, "refused 400 Chuyên mục không tồn tại")
    cli(office, "publish", "--once", capsys=capsys, code=5)
    d = show(office, capsys)
    assert d["status"] == "approved" and d["published_url"] is None
    [pub] = d["publications"]
    assert (pub["status"], pub["error"]) == ("failed", "400 Chuyên mục không tồn tại")
    [job] = cli(office, "publish", "list", "--json", capsys=capsys)
    assert (job["status"], job["attempts"], job["last_error"]) == ("failed", 1, "400 Chuyên mục không tồn tại")
    cli(office, "publish", "--once", capsys=capsys)  # a failed job is not tried again by itself
    assert len(filetarget.calls(office.settings)) == 1
    cli(office, "publish", "retry", str(job["id"]), "--by", "lan", capsys=capsys)
    cli(office, "publish", "retry", str(job["id"]), capsys=capsys, code=1)  # pending now: nothing to retry
    cli(office, "publish", "--once", capsys=capsys)
    d = show(office, capsys)
    assert d["status"] == "published" and d["publications"][0]["error"] is None
    actions = [e["action"] for e in cli(office, "drafts", "history", str(office.tin), "--json", capsys=capsys)]
    assert actions[-2:] == ["publish_retry", "published"]


def test_credentials_refused_pauses_the_target_and_tells_the_admins_once(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(office, capsys)
    filetarget.script(office.settings, "credentials 401 Application Password không hợp lệ")
    now = utcnow()
    report = run_due(office.settings, office.engine, now)
    assert report.paused == ["filetest"] and not report.ok
    with reading(office.engine) as s:
        state = s.get(TargetState, "filetest")
    assert state is not None and state.paused and state.alerted and "401" in (state.reason or "")
    [job] = publish_jobs(office)
    assert job.status == JobStatus.pending and job.attempts == 0  # waits, untried
    for later in (1, 60, 3600):  # no retry storm, no second email
        run_due(office.settings, office.engine, now + timedelta(seconds=later))
    assert len(filetarget.calls(office.settings)) == 1
    [alert] = mails(office, "publish_paused")
    assert alert.to_addr == ADMIN and "toasoan publish resume filetest" in alert.body_text
    cli(office, "publish", "--once", capsys=capsys)  # paused earlier: nothing tried, nothing failed now
    cli(office, "publish", "resume", "filetest", capsys=capsys)
    cli(office, "publish", "resume", "filetest", capsys=capsys, code=1)  # not paused any more
    cli(office, "publish", "--once", capsys=capsys)
    assert show(office, capsys)["status"] == "published"
    assert len(mails(office, "publish_paused")) == 1


def test_an_embargoed_article_waits_for_its_time(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    at = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = format_datetime(at, office.settings.tz)  # "HH:MM dd/mm/yyyy"
    hour, day = local.split(" ")
    d = approve(office, capsys, "--publish-at", f"{day} {hour}")
    assert d["status"] == "approved"
    cli(office, "drafts", "approve", str(office.tin), "--by", "lan", "--publish-at", "mai", capsys=capsys, code=1)
    assert run_due(office.settings, office.engine, utcnow()).published == 0
    assert run_due(office.settings, office.engine, at - timedelta(minutes=1)).published == 0
    assert filetarget.calls(office.settings) == []
    assert run_due(office.settings, office.engine, at).published == 1
    d = show(office, capsys)
    assert d["publications"][0]["published_at"] == at.isoformat()
    assert filetarget.calls(office.settings)[0]["published_at"] == at.isoformat()


def test_a_correction_republishes_where_the_article_is_live(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    approve(office, capsys)
    cli(office, "publish", "--once", capsys=capsys)
    url = show(office, capsys)["published_url"]
    editor = get_user(office.engine, "lan")
    service.edit(
        office.engine,
        office.settings,
        office.tin,
        editor,
        revision=1,
        changes=service.DraftEdit(title="Tin sinh hoạt chuyên đề (đã đính chính)", note="Sửa tên"),
    )
    viewer = get_user(office.engine, "xem")
    with pytest.raises(service.Forbidden):
        service.edit(office.engine, office.settings, office.tin, viewer, revision=2, changes=service.DraftEdit())
    cli(office, "publish", "--once", capsys=capsys)
    last = filetarget.calls(office.settings)[-1]
    assert (last["action"], last["revision"], last["previous"]) == ("publish", 2, url)
    d = show(office, capsys)
    assert d["published_url"] == url and d["revision"] == 2
    assert "(đã đính chính)" in filetarget.page(office.settings, url).read_text(encoding="utf-8")
    actions = [e["action"] for e in cli(office, "drafts", "history", str(office.tin), "--json", capsys=capsys)]
    assert actions[-2:] == ["corrected", "updated_on_target"]
    assert len(mails(office, "published")) == 1  # the link was sent once


def test_withdraw_takes_it_off_every_target(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    approve(office, capsys)
    cli(office, "publish", "--once", capsys=capsys)
    url = show(office, capsys)["published_url"]
    cli(office, "drafts", "withdraw", str(office.tin), "--by", "xem", "--reason", "Sai số liệu", capsys=capsys, code=1)
    cli(office, "drafts", "withdraw", str(office.tin), "--by", "lan", "--reason", "  ", capsys=capsys, code=1)
    d = cli(
        office, "drafts", "withdraw", str(office.tin), "--by", "lan", "--reason", "Sai số liệu", "--json", capsys=capsys
    )
    assert d["status"] == "withdrawn"
    cli(office, "publish", "--once", capsys=capsys)
    assert not filetarget.page(office.settings, url).exists()
    d = show(office, capsys)
    assert d["published_url"] is None and d["publications"][0]["status"] == "withdrawn"
    history = cli(office, "drafts", "history", str(office.tin), "--json", capsys=capsys)
    assert [(e["action"], e["note"]) for e in history][-2:] == [
        ("withdrawn", "Sai số liệu"),
        ("withdrawn_from_target", None),
    ]


def test_an_embargoed_article_withdrawn_never_goes_live(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    at = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    hour, day = format_datetime(at, office.settings.tz).split(" ")
    approve(office, capsys, "--publish-at", f"{day} {hour}")
    [job] = publish_jobs(office)
    assert job.status == JobStatus.pending and job.next_attempt_at == at
    cli(office, "drafts", "withdraw", str(office.tin), "--by", "xem", "--reason", "Hoãn", capsys=capsys, code=1)
    d = cli(
        office, "drafts", "withdraw", str(office.tin), "--by", "lan", "--reason", "Hoãn đăng", "--json", capsys=capsys
    )
    assert d["status"] == "withdrawn"
    [job] = publish_jobs(office)  # cancelled, not a withdraw job for a target that never had it
    assert job.status == JobStatus.succeeded and job.finished_at is not None
    cli(office, "publish", "--once", capsys=capsys)
    report = run_due(office.settings, office.engine, at + timedelta(minutes=1))
    assert (report.published, report.withdrawn, report.skipped) == (0, 0, 0)
    assert filetarget.calls(office.settings) == []  # nothing sent to the target
    url = f"{filetarget.BASE_URL}tin-hoat-dong/bai-{office.tin}.html"
    assert not filetarget.page(office.settings, url).exists()
    d = show(office, capsys)
    assert d["status"] == "withdrawn" and d["published_url"] is None
    assert d["publications"][0]["status"] == "withdrawn" and d["publications"][0]["published_at"] is None
    assert mails(office, "published") == []
    history = cli(office, "drafts", "history", str(office.tin), "--json", capsys=capsys)
    assert [(e["action"], e["from_status"], e["note"]) for e in history][-1] == ("withdrawn", "approved", "Hoãn đăng")
    with reading(office.engine) as s:
        draft = s.get(Draft, office.tin)
        assert draft is not None and draft.published_at is None  # the reports never count it as published


class _WithdrawnMeanwhile(filetarget.FileTarget):
    """The target takes a while: an editor withdraws the draft while it places the article."""

    def __init__(self, office: Office) -> None:
        super().__init__(office.settings)
        self.office = office

    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        editor = get_user(self.office.engine, "lan")
        service.withdraw(self.office.engine, self.office.settings, self.office.tin, editor, reason="Sai tên")
        return super().publish(article, previous)


def test_a_withdrawal_while_the_job_is_at_the_target_takes_it_down_again(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(office, capsys)
    now = utcnow()
    [job] = jobs.claim_due(office.engine, now, kinds=["publish:filetest"], worker="slow")
    report = RunReport()
    _run_one(office.settings, office.engine, _WithdrawnMeanwhile(office), job, now, report)
    url = show(office, capsys)["publications"][0]["url"]
    assert filetarget.page(office.settings, url).exists()  # it did go up: recorded, and queued to come down
    assert show(office, capsys)["status"] == "withdrawn"
    assert run_due(office.settings, office.engine, utcnow()).withdrawn == 1
    assert not filetarget.page(office.settings, url).exists()
    d = show(office, capsys)
    assert d["status"] == "withdrawn" and d["publications"][0]["status"] == "withdrawn"
    assert mails(office, "published") == []  # no live link for a withdrawn article


def test_publish_once_exit_codes(make_office: Any, capsys: pytest.CaptureFixture[str]) -> None:
    office = make_office(backoff_seconds=0)
    cli(office, "publish", "--once", capsys=capsys)  # nothing to do: success
    approve(office, capsys)
    filetarget.script(office.settings, "unavailable")
    cli(office, "publish", "--once", capsys=capsys, code=5)
    assert cli(office, "publish", "list", "--json", capsys=capsys)[0]["status"] == "retrying"
    cli(office, "publish", "--once", capsys=capsys)
    assert show(office, capsys)["status"] == "published"


def test_a_claim_left_by_a_dead_runner_is_recovered(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    approve(office, capsys)
    now = utcnow()
    [job] = jobs.claim_due(office.engine, now, kinds=["publish:filetest"], worker="died")
    assert job.status == JobStatus.in_progress and job.claimed_by == "died"
    assert run_due(office.settings, office.engine, now + timedelta(minutes=5)).published == 0  # still its
    assert run_due(office.settings, office.engine, now + jobs.STALE_CLAIM + timedelta(seconds=1)).published == 1
    [job] = publish_jobs(office)
    assert job.status == JobStatus.succeeded and job.attempts == 2


def test_the_manual_target_waits_for_the_live_address(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    approve(office, capsys)
    filetarget.script(office.settings, "manual")
    report = run_due(office.settings, office.engine, utcnow())
    assert report.waiting == 1 and report.ok
    [job] = publish_jobs(office)
    assert job.status == JobStatus.awaiting_manual
    assert show(office, capsys)["publications"][0]["status"] == "awaiting_manual"
    url = f"{filetarget.BASE_URL}tin-hoat-dong/bai-{office.tin}.html"
    with pytest.raises(PublishError):  # the page is not there yet
        complete_manual(office.settings, office.engine, office.tin, "filetest", url, "lan")
    with pytest.raises(PublishError):
        complete_manual(office.settings, office.engine, office.tin, "filetest", "javascript:alert(1)", "lan")
    page = filetarget.page(office.settings, url)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<h1>{show(office, capsys)['title']}</h1>", encoding="utf-8")  # the editor posted it
    complete_manual(office.settings, office.engine, office.tin, "filetest", url, "lan")
    d = show(office, capsys)
    assert d["status"] == "published" and d["published_url"] == url
    [job] = publish_jobs(office)
    assert job.status == JobStatus.succeeded
    assert len(mails(office, "published")) == 1
    with reading(office.engine) as s:
        [pub] = s.exec(select(Publication)).all()
    assert pub.published_at is not None


@pytest.mark.parametrize(
    ("sender", "warnings"),
    [
        ("someone@elsewhere.example", []),  # an address no unit owns
        ("lan.nguyen@vanphong.tinhuy.example", ["sender_unverified"]),  # a unit's address, forged (DMARC fail)
    ],
)
def test_an_unknown_or_forged_sender_gets_no_link(
    office: Office, capsys: pytest.CaptureFixture[str], sender: str, warnings: list[str]
) -> None:
    from core.db import transaction

    with transaction(office.engine) as s:
        draft = s.get(Draft, office.tin)
        assert draft is not None
        draft.sender, draft.warnings = sender, warnings
        s.add(draft)
    approve(office, capsys)
    cli(office, "publish", "--once", capsys=capsys)
    assert show(office, capsys)["status"] == "published"
    assert mails(office, "published") == []  # the link carries the title: nothing echoed to a stranger


def test_in_two_step_mode_the_heads_approval_queues_the_job(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    office.config.write_text(
        office.config.read_text(encoding="utf-8") + "\n[review]\ntwo_step = true\n", encoding="utf-8"
    )
    assert approve(office, capsys)["status"] == "proposed"  # the editor proposes: nothing to publish yet
    assert publish_jobs(office) == []
    cli(office, "drafts", "approve", str(office.tin), "--by", "duyet", capsys=capsys)
    [job] = publish_jobs(office)
    assert job.payload["actor"] == "duyet"
    cli(office, "publish", "--once", capsys=capsys)
    assert show(office, capsys)["status"] == "published"
