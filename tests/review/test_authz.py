"""The authorization matrix: every route x every role x signed out, through HTTP.

POSTs carry the user's valid CSRF token (CSRF is tested in test_web.py), so a refusal here is the
role check. A refused request must leave the draft exactly as it was. 303 for a signed-out user is the
way to the sign-in page; for a signed-in one it is the page after a successful action.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.db import reading
from core.models import DraftImage
from ingest.models import InboundMessage
from tests.review.webkit import ROLES, Browser, Office, make_office, seed_draft

# One worker builds the two module-scoped offices once (`make test` runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group(name="review_authz")

WHO = ("signed out", *ROLES)  # the columns of the tables below

# route                                        signed out viewer editor chief admin
ONE_STEP: dict[tuple[str, str], tuple[int, int, int, int, int]] = {
    ("GET", "/login"):                              (200, 303, 303, 303, 303),
    ("POST", "/login"):                             (403, 403, 403, 403, 403),  # no sign-in form token
    ("POST", "/logout"):                            (303, 303, 303, 303, 303),
    ("GET", "/"):                                   (303, 200, 200, 200, 200),
    ("GET", "/drafts/{draft}"):                     (303, 200, 200, 200, 200),
    ("GET", "/drafts/{draft}/edit"):                (303, 403, 200, 200, 200),
    ("POST", "/drafts/{fresh}/edit"):               (303, 403, 303, 303, 303),
    ("POST", "/drafts/{fresh}/preview"):            (303, 403, 200, 200, 200),
    ("POST", "/drafts/{fresh}/approve"):            (303, 403, 303, 303, 303),
    ("POST", "/drafts/{fresh}/propose"):            (303, 403, 403, 403, 403),  # two-step mode only
    ("POST", "/drafts/{fresh}/reject"):             (303, 403, 303, 303, 303),
    ("POST", "/drafts/{fresh}/request-changes"):    (303, 403, 303, 303, 303),
    ("POST", "/drafts/{fresh}/comment"):            (303, 403, 303, 303, 303),
    ("POST", "/drafts/{fresh}/keep-duplicate"):     (303, 403, 303, 303, 303),
    ("GET", "/drafts/{draft}/compare"):             (303, 200, 200, 200, 200),
    ("GET", "/drafts/{draft}/duplicate/{other}"):   (303, 200, 200, 200, 200),
    ("GET", "/drafts/{draft}/source"):              (303, 200, 200, 200, 200),
    ("GET", "/inbox"):                              (303, 200, 200, 200, 200),
    ("GET", "/inbox/{quarantined}"):                (303, 403, 200, 200, 200),  # its route: as the raw email
    ("GET", "/inbox/{inbound}"):                    (303, 403, 200, 200, 200),
    ("GET", "/inbox/{ignored}"):                    (303, 403, 404, 404, 404),  # not a submission: never
    ("GET", "/inbox/{inbound}/raw"):                (303, 403, 200, 200, 200),  # editors and above
    ("GET", "/inbox/{quarantined}/raw"):            (303, 403, 200, 200, 200),  # on the problem page
    ("GET", "/inbox/{ignored}/raw"):                (303, 403, 404, 404, 404),  # not a submission: never
    ("POST", "/inbox/{quarantined}/retry"):         (303, 403, 303, 303, 303),
    ("POST", "/drafts/{published}/withdraw"):       (303, 403, 303, 303, 303),
    ("POST", "/drafts/{failed}/publish-retry"):     (303, 403, 303, 303, 303),
    ("POST", "/drafts/{published}/shares"):         (303, 403, 303, 303, 303),  # weights, no money
    # Nothing awaits a manual publication or withdrawal on these: refused after the role check (422 / 404).
    ("POST", "/drafts/{fresh}/manual-url"):         (303, 403, 422, 422, 422),
    ("POST", "/drafts/{published}/manual-withdrawn"): (303, 403, 422, 422, 422),
    ("GET", "/drafts/{draft}/manual-package/{target}"): (303, 403, 404, 404, 404),
    ("GET", "/media/{sha}"):                        (303, 200, 200, 200, 200),
    ("GET", "/media/{sha}/original"):               (303, 200, 200, 200, 200),
    ("GET", "/bao-cao"):                            (303, 303, 303, 303, 303),  # to the current period
    ("GET", "/bao-cao/{period}"):                   (303, 200, 200, 200, 200),  # money shown to chief/admin
    ("GET", "/bao-cao/{badperiod}"):                (303, 404, 404, 404, 404),
    ("GET", "/bao-cao/{period}/danh-sach-chi-tra.xlsx"): (303, 403, 403, 200, 200),  # money: chief/admin
    ("GET", "/bao-cao/{period}/bao-cao-thang.docx"): (303, 403, 403, 200, 200),  # states the royalty total
    ("GET", "/bao-cao/{period}/to-trinh.docx"):     (303, 403, 403, 200, 200),
    # 2026-12 is still open: past the role check, the ledger refuses (409) to close it before its tally
    # day, to reopen it, or to pay it.
    ("POST", "/bao-cao/{period}/chot"):             (303, 403, 403, 403, 409),  # admin only
    ("POST", "/bao-cao/{period}/mo-lai"):           (303, 403, 403, 403, 409),  # admin only
    ("POST", "/bao-cao/{period}/chi-tra"):          (303, 403, 403, 409, 409),  # money: chief/admin
    ("POST", "/bao-cao/{period}/dinh-huong"):       (303, 403, 403, 303, 303),
    ("POST", "/bao-cao/{period}/chay-lai"):         (303, 403, 403, 404, 404),  # no such job: past the role
    ("GET", "/tinh-trang"):                         (303, 403, 403, 200, 200),  # operations: chief/admin
    ("GET", "/static/style.css"):                   (200, 200, 200, 200, 200),
    ("GET", "/static/app.js"):                      (200, 200, 200, 200, 200),
}  # fmt: skip

# [review] two_step = true: editors propose, the head approves.
TWO_STEP: dict[tuple[str, str], tuple[int, int, int, int, int]] = {
    ("POST", "/drafts/{fresh}/approve"):            (303, 403, 403, 303, 303),
    ("POST", "/drafts/{fresh}/propose"):            (303, 403, 303, 403, 303),
    ("POST", "/drafts/{fresh}/reject"):             (303, 403, 303, 303, 303),
    ("GET", "/drafts/{draft}"):                     (303, 200, 200, 200, 200),
}  # fmt: skip

FIELDS = {
    "edit": {"title": "Tiêu đề đã sửa trong kiểm thử"},
    "preview": {"body_html": "<p>Xem trước</p>"},
    "reject": {"reason": "Nội dung chưa phù hợp."},
    "request-changes": {"note": "Đề nghị bổ sung ảnh."},
    "comment": {"text": "Trao đổi nội bộ."},
    "withdraw": {"reason": "Sai số liệu, gỡ để đính chính."},
    "shares": {"shares": "Trần Thị B = 60\nLê Văn C = 40"},
    "manual-url": {"target": "static", "url": "https://portal.example/bai.html"},
    "manual-withdrawn": {"target": "static"},
    "mo-lai": {"reason": "Sửa hệ số một tin."},
    "chi-tra": {"paid_on": "2026-12-05"},
    "chay-lai": {"job_id": "999999"},
    "dinh-huong": {"orientation": "Tập trung tuyên truyền Đại hội Đảng các cấp."},
}


def _seed_published(office: Office, title: str) -> int:
    """A fresh draft approved by the head and live on the static target (its Publication recorded)."""
    from core.db import transaction, utcnow
    from core.drafts import load_for_update, transition
    from publish.models import Publication
    from review import service
    from review.auth import get_user

    draft_id = seed_draft(office, title=title)
    service.approve(office.engine, office.settings, draft_id, get_user(office.engine, "truongban"), revision=None)
    with transaction(office.engine) as s:
        draft = load_for_update(s, draft_id)
        transition(s, draft, "published", actor="system", action="published")
        pub = s.exec(select(Publication).where(Publication.draft_id == draft_id)).one()
        pub.status, pub.url, pub.published_at = "published", f"https://portal.example/{draft_id}.html", utcnow()
        s.add(pub)
    return draft_id


def _seed_failed(office: Office, title: str) -> tuple[int, int]:
    """A fresh draft approved whose publish job failed for good (the portal refused it)."""
    from core import jobs
    from core.db import transaction, utcnow
    from review import service
    from review.auth import get_user

    draft_id = seed_draft(office, title=title)
    service.approve(office.engine, office.settings, draft_id, get_user(office.engine, "truongban"), revision=None)
    now = utcnow()
    [job] = [j for j in jobs.claim_due(office.engine, now, kinds=["publish:static"], worker="t", limit=50)
             if j.payload["draft_id"] == draft_id]  # fmt: skip
    assert job.id is not None
    policy = jobs.Backoff(base_seconds=1, max_seconds=1, max_attempts=1)
    with transaction(office.engine) as s:
        jobs.fail(s, job.id, "400 Bad Request", retryable=False, now=now, policy=policy)
    return draft_id, job.id


@dataclass
class World:
    office: Office
    browsers: dict[str, Browser]
    ids: dict[str, str]


def _world(root: Path, **review: object) -> World:
    office = make_office(root, review=review)
    office.deliver("tin_ok.eml", "corrupt.eml", "not_a_submission.eml")
    office.ingest()
    [draft] = office.drafts()
    with reading(office.engine) as s:
        sha = s.exec(select(DraftImage.sha256).where(DraftImage.draft_id == draft.id)).first()
        quarantined = s.exec(select(InboundMessage.id).where(InboundMessage.status == "quarantined")).one()
        ignored = s.exec(select(InboundMessage.id).where(InboundMessage.status == "ignored")).one()
    other = seed_draft(office, title="Một bài khác")
    browsers = {"signed out": office.browser(), **{role: office.signed_in(role) for role in ROLES}}
    ids = {
        "draft": str(draft.id),
        "other": str(other),
        "inbound": str(draft.inbound_id),
        "quarantined": str(quarantined),
        "ignored": str(ignored),
        "sha": str(sha),
        "target": "static",
        "period": "2026-12",
        "badperiod": "2026-13",
    }
    return World(office, browsers, ids)


@pytest.fixture(scope="module")
def one_step(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = _world(tmp_path_factory.mktemp("authz"))
    yield world
    world.office.close()


@pytest.fixture(scope="module")
def two_step(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = _world(tmp_path_factory.mktemp("authz2"), two_step=True)
    yield world
    world.office.close()


def _request(world: World, who: str, method: str, template: str) -> tuple[int, str, str | None]:
    """(status, location, what went wrong if the outcome contradicts the status)."""
    office = world.office
    browser = world.browsers[who]
    fresh = seed_draft(office, title=f"Bài mới cho {who}") if "{fresh}" in template else None
    job_id = None
    if "{published}" in template:
        fresh = _seed_published(office, f"Bài đã đăng cho {who}")
    if "{failed}" in template:
        fresh, job_id = _seed_failed(office, f"Bài đăng lỗi cho {who}")
    path = template.format(**world.ids, fresh=fresh, published=fresh, failed=fresh)
    if method == "GET":
        r = browser.get(path)
        return r.status_code, r.headers.get("location", ""), None
    if template == "/logout" and who != "signed out":
        browser = world.office.signed_in(who)  # keep the shared session alive for the other routes
    data: dict[str, str] = {"csrf_token": browser.csrf, **FIELDS.get(path.rsplit("/", 1)[1], {})}
    before = None
    if fresh is not None:
        d = office.draft(fresh)
        data |= {"revision": str(d.revision), "status": d.status, "other": world.ids["draft"]}
        if job_id is not None:
            data["job_id"] = str(job_id)
        before = office.state(fresh)
    r = browser.post(path, data)
    location = r.headers.get("location", "")
    problem = None
    if fresh is not None and r.status_code in (401, 403) and office.state(fresh) != before:
        problem = "a refused request changed the draft"
    redirected = r.status_code == 303 and who != "signed out" and fresh is not None
    if redirected and not location.startswith(f"/drafts/{fresh}"):
        problem = f"unexpected redirect {location}"
    return r.status_code, location, problem


def _check(
    world: World, table: dict[tuple[str, str], tuple[int, int, int, int, int]], method: str, template: str
) -> None:
    wrong = []
    for who, expected in zip(WHO, table[(method, template)], strict=True):
        status, location, problem = _request(world, who, method, template)
        if status != expected or problem:
            wrong.append(f"{who}: got {status} {location} (expected {expected}) {problem or ''}")
        if who == "signed out" and status == 303 and template not in ("/logout",):
            assert location.startswith("/login"), (template, location)
    assert not wrong, f"{method} {template}\n" + "\n".join(wrong)


@pytest.mark.parametrize(("method", "template"), list(ONE_STEP))
def test_every_route_every_role(one_step: World, method: str, template: str) -> None:
    _check(one_step, ONE_STEP, method, template)


@pytest.mark.parametrize(("method", "template"), list(TWO_STEP))
def test_every_decision_every_role_in_two_step_mode(two_step: World, method: str, template: str) -> None:
    _check(two_step, TWO_STEP, method, template)


def _routes(routes: list[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's wrapper of an included router
            yield from _routes(route.original_router.routes)
            continue
        path = re.sub(r"\{[a-z_]+(?::int)?\}", "{}", route.path)
        for method in getattr(route, "methods", None) or ["GET"]:
            if method != "HEAD":
                yield method, "/static/style.css" if path == "/static" else path


def test_the_matrix_covers_every_route(one_step: World) -> None:
    """A route added without a row in the table fails here."""
    routes = set(_routes(one_step.office.app.routes))
    covered = {(method, re.sub(r"\{[a-z]+\}", "{}", template)) for method, template in ONE_STEP}
    assert len(routes) >= 20 and routes <= covered, routes - covered
