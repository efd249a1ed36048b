"""Helpers for the web UI tests (plain module; fixtures are in conftest.py): an office with one account per
role, a browser-like client that signs in and submits the forms the pages show, drafts made the way
intake makes them, and the checks that a page carries no live markup."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.db import reading, transaction, utcnow
from core.drafts import add_event, refresh_search_text, snapshot
from core.html import sanitize
from core.models import Draft, DraftEvent, DraftImage
from core.settings import Settings
from core.storage import Store
from ingest.apply import tracking_code
from review.auth import add_user
from review.web import create_app
from tests import markup
from tests.appkit import open_app, write_settings
from tests.fixtures.intake.build import BODY, LEAD, photo
from toasoan.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
PASSWORD = "mật-khẩu-thử-web"
ROLES = ("viewer", "editor", "chief", "admin")
USERS = {
    "viewer": ("xem", "Phạm Thị Xem"),
    "editor": ("bientap", "Nguyễn Văn Biên"),
    "chief": ("truongban", "Trần Thị Duyệt"),
    "admin": ("quantri", "Lê Quản Trị"),
}
CATEGORIES = [("tin-hoat-dong", "Tin hoạt động"), ("xay-dung-dang", "Xây dựng Đảng")]
VP_SENDER = ("Nguyễn Thị Lan", "lan.nguyen@vanphong.tinhuy.example")


def _toml_value(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(v).lower()


@dataclass
class Office:
    root: Path
    config: Path
    settings: Settings
    engine: Engine
    app: FastAPI
    clients: list[TestClient] = field(default_factory=list)

    def browser(self, *, base_url: str = "http://testserver", address: str = "testclient") -> Browser:
        """A browser; `address` is the client address the app sees (sign-in limits count per address)."""
        client = TestClient(self.app, base_url=base_url, follow_redirects=False, client=(address, 50000))
        client.__enter__()  # runs the app's lifespan; closed by close()
        self.clients.append(client)
        return Browser(client)

    def signed_in(self, role: str) -> Browser:
        b = self.browser()
        b.sign_in(USERS[role][0])
        return b

    def close(self) -> None:
        for c in self.clients:
            c.__exit__(None, None, None)

    # --- reading the database as a check
    # Ids as stored rows carry them (`int | None` on a model): a None fails here, not in a query.
    def draft(self, draft_id: int | None) -> Draft:
        assert draft_id is not None
        with reading(self.engine) as s:
            d = s.get(Draft, draft_id)
        assert d is not None
        return d

    def events(self, draft_id: int | None) -> list[DraftEvent]:
        assert draft_id is not None
        with reading(self.engine) as s:
            return list(s.exec(select(DraftEvent).where(DraftEvent.draft_id == draft_id)).all())

    def state(self, draft_id: int | None) -> tuple[str, int, int, str]:
        """(status, revision, number of audit events, title): what a refused request must not change."""
        d = self.draft(draft_id)
        return d.status, d.revision, len(self.events(draft_id)), d.title

    # --- intake, as in production
    def deliver(self, *names_or_bytes: str | bytes) -> None:
        new = self.root / "maildir" / "new"
        new.mkdir(parents=True, exist_ok=True)
        for item in names_or_bytes:
            target = new / f"{uuid.uuid4().hex}.host"
            if isinstance(item, bytes):
                target.write_bytes(item)
            else:
                shutil.copy(FIXTURES / item, target)

    def ingest(self) -> None:
        assert main(["--config", str(self.config), "ingest", "--once"]) == 0

    def drafts(self) -> list[Draft]:
        with reading(self.engine) as s:
            return list(s.exec(select(Draft).order_by(col(Draft.id))).all())


def make_office(
    root: Path,
    *,
    review: dict[str, Any] | None = None,
    units: list[dict[str, Any]] | None = None,
    publish: dict[str, Any] | None = None,
) -> Office:
    root.mkdir(parents=True, exist_ok=True)
    config = write_settings(root, units=units, publish=publish)
    extra = ["", "[review]", *(f"{k} = {_toml_value(v)}" for k, v in (review or {}).items()), ""]
    for slug, name in CATEGORIES:
        extra += ["[[categories]]", f'slug = "{slug}"', f'name = "{name}"', ""]
    config.write_text(config.read_text(encoding="utf-8") + "\n".join(extra), encoding="utf-8")
    settings, engine = open_app(config)
    for role in ROLES:
        username, full_name = USERS[role]
        add_user(engine, username, PASSWORD, role=role, full_name=full_name)
    return Office(root=root, config=config, settings=settings, engine=engine, app=create_app(settings, engine))


class Browser:
    """A TestClient used the way a browser uses the site: it reads the forms of a page and submits them
    with their hidden fields (CSRF token, revision, status)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, path: str, **kw: Any) -> httpx.Response:
        r = self.client.get(path, **kw)
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.text) if r.status_code == 200 else None
        if token:
            self.csrf = token.group(1)
        return r

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.client.post(path, data=data or {}, **kw)

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        page = self.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text)
        assert token, page.text
        r = self.post("/login", {"username": username, "password": password, "login_token": token.group(1)})
        if r.status_code == 303:
            self.get("/")  # picks up the session's CSRF token
        return r

    def form(self, page_path: str, action: str) -> dict[str, str]:
        """The fields of the form posting to `action` on the page at `page_path`, as a browser sends them."""
        r = self.get(page_path)
        assert r.status_code == 200, (page_path, r.status_code)
        return form_fields(r.text, action)

    def submit(self, page_path: str, action: str, **fields: str) -> httpx.Response:
        return self.post(action, {**self.form(page_path, action), **fields})


def form_fields(html: str, action: str) -> dict[str, str]:
    """What a browser submits for the form posting to `action`, untouched: its successful controls
    (hidden and text inputs, checked boxes, textareas, selected options)."""
    soup = BeautifulSoup(html, "lxml")
    form = soup.find("form", attrs={"action": action})
    assert form is not None, f"no form posting to {action}"
    values: dict[str, str] = {}
    for control in form.find_all(["input", "textarea", "select"]):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "textarea":
            values[name] = control.get_text()
        elif control.name == "select":
            options = control.find_all("option")
            chosen = next((o for o in options if o.has_attr("selected")), options[0] if options else None)
            values[name] = str(chosen.get("value", chosen.get_text())) if chosen else ""
        elif control.get("type", "text") in ("checkbox", "radio"):
            if control.has_attr("checked"):
                values[name] = str(control.get("value", "on"))
        elif control.get("type", "text") not in ("submit", "button", "reset", "image", "file"):
            values[name] = str(control.get("value", ""))
    return values


def text_of(html: str) -> str:
    return BeautifulSoup(html, "lxml").get_text(" ")


def seed_draft(
    office: Office,
    *,
    title: str = "Chi bộ Văn phòng sinh hoạt chuyên đề",
    kind: str = "tin",
    unit: str | None = "VP",
    sender: tuple[str, str] = VP_SENDER,
    created_at: datetime | None = None,
    warnings: list[str] | None = None,
    duplicate_of: int | None = None,
    with_photo: bool = False,
    lead: str | None = LEAD,
    byline: str | None = "Nguyễn Thị Lan – Chi bộ Văn phòng",
) -> int:
    """A draft as intake leaves it (row, revision 1, 'received' event), without running a conversion:
    for tests that need many drafts with chosen fields."""
    when = created_at or utcnow()
    store = Store(office.settings.storage_dir)
    with transaction(office.engine) as s:
        d = Draft(
            tracking_code=f"tmp-{uuid.uuid4()}",
            kind=kind,
            title=title,
            lead=lead,
            body_html=sanitize("".join(f"<p>{p}</p>" for p in BODY)),
            byline=byline,
            unit_code=unit,
            sender=sender[1],
            sender_name=sender[0],
            warnings=list(warnings or []),
            duplicate_of=duplicate_of,
            source_format="docx",
            created_at=when,
            updated_at=when,
        )
        s.add(d)
        s.flush()
        assert d.id is not None
        d.tracking_code = tracking_code(d.id, when, office.settings)
        refresh_search_text(d)
        if with_photo:
            data = photo(320, 240, seed=d.id)
            sha = store.put("media", data)
            store.put("media", data, sha=sha, suffix=".web")
            s.add(DraftImage(draft_id=d.id, sha256=sha, content_type="image/jpeg", caption="Ảnh: Quang cảnh."))
        s.add(d)
        s.flush()
        snapshot(s, d, author=f"contributor:{sender[1]}")
        add_event(s, d, actor=f"contributor:{sender[1]}", action="received", to_status=d.status)
        return d.id


# -------------------------------------------------------------------------------- markup checks
ALLOWED_SCRIPT = "/static/app.js"


def live_markup(html: str) -> list[str]:
    """Everything in a review page that could run or load something we did not write: should be empty."""
    return markup.live_markup(
        html,
        script=lambda src: src == ALLOWED_SCRIPT,
        img=lambda src: src.startswith(("/media/", "/static/")),
        link=lambda href: href.startswith("/static/"),
    )


def unlabelled_controls(html: str) -> list[str]:
    """Form controls a screen reader (or a test looking them up by label) could not name."""
    soup = BeautifulSoup(html, "lxml")
    labelled = {label.get("for") for label in soup.find_all("label") if label.get("for")}
    missing = []
    for control in soup.find_all(["input", "select", "textarea"]):
        if control.get("type") in ("hidden", "submit", "button"):
            continue
        named = control.get("id") in labelled or control.find_parent("label") or control.get("aria-label")
        if not named:
            missing.append(str(control)[:80])
    return missing
