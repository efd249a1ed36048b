"""Issue 7, item 3: the sign-in form can neither fill the disk nor be used to guess faster than the limit,
and an account reset, demoted or disabled is signed out everywhere. Through HTTP against the real app
and database, and the `toasoan users` commands."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import func, select

from core.db import reading, transaction, utcnow
from review.models import LoginFailure, LoginThrottle, User, WebSession
from tests.appkit import at_once
from tests.review.webkit import PASSWORD, USERS, Office, form_fields, text_of
from toasoan.cli import main
from toasoan.worker import run_worker

EDITOR = USERS["editor"][0]


def rows(office: Office, table: type) -> int:
    with reading(office.engine) as s:
        return int(s.exec(select(func.count()).select_from(table)).one())


def test_an_oversized_user_name_or_password_is_refused_before_anything_is_written(office: Office) -> None:
    b = office.browser()
    r = b.sign_in("a" * 65, "mật khẩu bất kỳ")
    assert r.status_code == 422 and "Tên đăng nhập dài quá 64 ký tự." in text_of(r.text)
    r = b.sign_in("x" * 1_000_000, "mật khẩu bất kỳ")
    assert r.status_code == 422 and "x" * 65 not in r.text  # the megabyte is not echoed back
    r = b.sign_in(EDITOR, "p" * 1025)  # a real account: still no argon2 and no failure recorded
    assert r.status_code == 422 and "Mật khẩu dài quá 1024 ký tự." in text_of(r.text)
    assert (rows(office, LoginFailure), rows(office, LoginThrottle)) == (0, 0)
    assert b.sign_in("a" * 64).status_code == 401  # the bound itself is an ordinary wrong sign-in
    assert b.sign_in(EDITOR).status_code == 303


def test_made_up_user_names_write_no_row_per_attempt_and_hit_the_address_cap(
    new_office: Callable[..., Office],
) -> None:
    office = new_office(login_attempts_per_address=6)
    attacker = office.browser(address="203.0.113.9")
    answers = [attacker.sign_in(f"khong-co-{i}", "doan-mat-khau").status_code for i in range(9)]
    assert answers == [401] * 6 + [429] * 3
    # One counter row for the address, no failure row per made-up name.
    assert (rows(office, LoginFailure), rows(office, LoginThrottle)) == (0, 1)
    r = attacker.sign_in(EDITOR)  # the cap counts every name, real ones included
    assert r.status_code == 429 and "hãy thử lại sau 15 phút" in text_of(r.text)
    assert office.browser(address="198.51.100.7").sign_in(EDITOR).status_code == 303  # others are not locked out


def test_good_sign_ins_do_not_use_up_an_office_address(new_office: Callable[..., Office]) -> None:
    office = new_office(login_attempts_per_address=3)
    for _ in range(6):  # a whole office behind one NAT address, signing in all day
        assert office.browser(address="192.0.2.1").sign_in(EDITOR).status_code == 303
    assert rows(office, LoginFailure) == 0


def test_thirty_wrong_passwords_at_once_get_no_more_than_the_limit_of_guesses(
    new_office: Callable[..., Office],
) -> None:
    office = new_office(login_attempts=5)
    browsers = [office.browser() for _ in range(30)]
    pages = [b.get("/login") for b in browsers]
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def guess(i: int) -> Callable[[], None]:
        def post() -> None:
            fields = form_fields(pages[i].text, "/login")
            r = browsers[i].post("/login", {**fields, "username": EDITOR, "password": f"doan-{i}"})
            with lock:
                statuses[i] = r.status_code

        return post

    at_once(**{f"guess{i}": guess(i) for i in range(30)})
    answers = sorted(statuses.values())
    assert answers == [401] * 5 + [429] * 25, answers  # only 5 passwords were ever checked
    assert rows(office, LoginFailure) == 5


def test_the_worker_purges_failures_older_than_the_window(office: Office) -> None:
    window = timedelta(minutes=office.settings.review.login_window_minutes)
    old = utcnow() - window - timedelta(minutes=1)
    with transaction(office.engine) as s:
        for i in range(20):
            s.add(LoginFailure(username=EDITOR, address=f"203.0.113.{i}", at=old))
            s.add(LoginThrottle(address=f"203.0.113.{i}", window_start=old, attempts=3))
    assert office.browser().sign_in(EDITOR, "sai-mat-khau").status_code == 401  # a recent one stays
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(office.settings, office.engine), kwargs={"stop": stop})
    worker.start()
    try:
        deadline = utcnow() + timedelta(seconds=60)  # only catches a hang
        while rows(office, LoginFailure) > 1 and utcnow() < deadline:
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join()
    assert (rows(office, LoginFailure), rows(office, LoginThrottle)) == (1, 1)


def _users(office: Office, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--config", str(office.config), "users", *args])


@pytest.mark.parametrize(
    ("command", "stdin"),
    [
        (("add", EDITOR, "--role", "editor"), "mật-khẩu-mới-đặt-lại\n"),  # a password reset
        (("add", EDITOR, "--role", "viewer"), f"{PASSWORD}\n"),  # a demotion, same password
        (("disable", EDITOR), ""),
    ],
    ids=["reset", "demote", "disable"],
)
def test_a_reset_a_role_change_and_disabling_end_the_users_sessions(
    office: Office, command: tuple[str, ...], stdin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, other = office.signed_in("editor"), office.signed_in("chief")
    assert editor.get("/").status_code == 200
    assert _users(office, *command, stdin=stdin, monkeypatch=monkeypatch) == 0
    r = editor.get("/")  # the same cookie
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with reading(office.engine) as s:
        user = s.exec(select(User).where(User.username == EDITOR)).one()
        assert s.exec(select(WebSession).where(WebSession.user_id == user.id)).all() == []
    assert other.get("/").status_code == 200  # nobody else is signed out


def test_users_disable_reports_in_json_and_the_account_can_no_longer_sign_in(
    office: Office, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    office.signed_in("editor")
    office.signed_in("editor")
    capsys.readouterr()
    assert _users(office, "disable", EDITOR, "--json", monkeypatch=monkeypatch) == 0
    assert json.loads(capsys.readouterr().out) == {
        "username": EDITOR,
        "role": "editor",
        "active": False,
        "sessions_ended": 2,
    }
    assert office.browser().sign_in(EDITOR).status_code == 401
    assert _users(office, "disable", "khong-co-ai", monkeypatch=monkeypatch) == 1


def test_users_add_refuses_an_oversized_name(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _users(office, "add", "a" * 65, "--role", "editor", stdin="mật-khẩu-đủ-dài\n", monkeypatch=monkeypatch) == 1
    assert rows(office, User) == len(USERS)
