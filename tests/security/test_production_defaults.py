"""Safe by default in production: a server behind HTTPS with cookies that would also travel over plain
HTTP does not start, mail passwords never cross the network in clear text, and a database error never
shows the database password."""

from __future__ import annotations

import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from core.settings import SettingsError, load_settings
from tests.appkit import toml, write_settings
from tests.servers import HOST, Postgres, free_port, listening
from toasoan.web import build_app

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "S3cret-Mật-khẩu"
# As an administrator writes it: the password %-encoded in the URL.
ENCODED = "S3cret-M%E1%BA%ADt-kh%E1%BA%A9u"


def with_sections(config: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """write_settings() plus sections it does not write itself ([review], [smtp] as given)."""
    config.write_text(config.read_text(encoding="utf-8") + "\n" + toml(sections, []), encoding="utf-8")
    return config


# ----------------------------------------------------------------------------- HTTPS without Secure cookies
def test_serve_refuses_https_public_url_without_secure_cookies(tmp_path: Path) -> None:
    # One server process, so that a server which wrongly starts is a single process the timeout ends.
    review = {"public_url": "https://bientap.tinhuy.example", "workers": 1}
    config = with_sections(write_settings(tmp_path), {"review": review})
    port = free_port()
    r = subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--config", str(config), "serve", "--host", HOST, "--port", str(port)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,  # only catches a server that started instead of refusing
    )
    assert r.returncode == 2, r.stderr
    assert "[review] secure_cookies" in r.stderr and "public_url" in r.stderr
    assert "Lỗi cấu hình" in r.stderr and "must be true" in r.stderr and "Traceback" not in r.stderr
    assert not listening(port)
    # Started by hand under uvicorn (`--factory toasoan.web:app_from_environment`): the same refusal.
    with pytest.raises(SettingsError, match=r"\[review\] secure_cookies"):
        build_app(load_settings(config))


def test_serve_accepts_https_with_secure_cookies_and_plain_http_for_local_use(tmp_path: Path) -> None:
    https: dict[str, Any] = {"public_url": "https://bientap.tinhuy.example", "secure_cookies": True}
    plain: dict[str, Any] = {"public_url": "http://127.0.0.1:8080"}
    for n, review in enumerate([https, plain]):
        folder = tmp_path / str(n)
        folder.mkdir()
        app = build_app(load_settings(with_sections(write_settings(folder), {"review": review})))
        assert app.state.web.secure is bool(review.get("secure_cookies", False))


# ------------------------------------------------------------------------------------ clear text off loopback
REMOTE = ["smtp.tinhuy.example", "10.0.0.5", "127.0.0.1.evil.example", "::2", "0.0.0.0"]
LOOPBACK = ["127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost", "LocalHost"]


def _mail_settings(tmp_path: Path, which: str, host: str) -> Path:
    if which == "smtp":
        return write_settings(tmp_path, smtp={"host": host, "port": 2525, "security": "none"})
    imap = {"backend": "imap", "host": host, "port": 143, "security": "none", "username": "bbt"}
    return write_settings(tmp_path, mailbox=imap)


@pytest.mark.parametrize("which", ["smtp", "mailbox"])
@pytest.mark.parametrize("host", REMOTE)
def test_plain_text_mail_to_a_remote_host_is_refused(tmp_path: Path, which: str, host: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(_mail_settings(tmp_path, which, host))
    message = str(err.value)
    assert f"[{which}] security" in message and "loopback" in message and "chỉ dùng cho máy chủ" in message


@pytest.mark.parametrize("which", ["smtp", "mailbox"])
@pytest.mark.parametrize("host", LOOPBACK)
def test_plain_text_mail_on_loopback_is_accepted(tmp_path: Path, which: str, host: str) -> None:
    settings = load_settings(_mail_settings(tmp_path, which, host))
    section = settings.smtp if which == "smtp" else settings.mailbox
    assert (section.security, section.host) == ("none", host)


def test_the_command_refuses_plain_text_smtp_to_a_remote_host(tmp_path: Path) -> None:
    config = _mail_settings(tmp_path, "smtp", "smtp.tinhuy.example")
    r = subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--config", str(config), "outbox", "send"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert r.returncode == 2, r.stderr
    assert "[smtp] security" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------ the database password
COMMANDS = [["inbox", "list"], ["ingest", "--once"], ["worker"], ["db", "upgrade"], ["serve", "--port", "0"]]


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--verbose", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def _assert_no_password(text: str) -> None:
    assert PASSWORD not in text and ENCODED not in text and "S3cret" not in text


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_database_that_refuses_the_connection_never_shows_the_password(tmp_path: Path, args: list[str]) -> None:
    closed = free_port()  # nothing listens there: a real "connection refused" from the driver
    url = f"postgresql+psycopg://toasoan:{ENCODED}@{HOST}:{closed}/toasoan"
    r = _run(write_settings(tmp_path, database_url=url), *args)
    assert r.returncode == 4, r.stderr
    _assert_no_password(r.stdout + r.stderr)
    assert f"toasoan:***@{HOST}:{closed}/toasoan" in r.stderr  # still says which database failed
    assert "Không mở được cơ sở dữ liệu" in r.stderr and "Traceback" not in r.stderr


def test_a_database_server_that_rejects_the_user_never_shows_the_password(
    tmp_path: Path, postgres_server: Postgres
) -> None:
    # The test server trusts local users; an unknown role is refused by the server itself.
    url = postgres_server.url("toasoan").replace("postgres@", f"no_such_role:{ENCODED}@")
    config = write_settings(tmp_path, database_url=url)
    r = _run(config, "inbox", "list")
    assert r.returncode == 4, r.stderr
    assert "no_such_role" in r.stderr  # the server's own reason reaches the administrator
    _assert_no_password(r.stdout + r.stderr)
    # The web app started by uvicorn: the error and its whole traceback (what uvicorn logs) are masked.
    with pytest.raises(Exception) as err:
        build_app(load_settings(config))
    _assert_no_password("".join(traceback.format_exception(err.value)))
    assert "no_such_role:***@" in str(err.value)


def test_an_unparsable_database_url_never_shows_the_password(tmp_path: Path) -> None:
    for n, url in enumerate(
        [f"postgresql+psycopg://toasoan:{ENCODED}@db.tinhuy.example:port/toasoan", f"postgresql//toasoan:{ENCODED}@db"]
    ):
        folder = tmp_path / str(n)
        folder.mkdir()
        r = _run(write_settings(folder, database_url=url), "inbox", "list")
        assert r.returncode == 4, r.stderr
        _assert_no_password(r.stdout + r.stderr)
        assert "Traceback" not in r.stderr
