"""Helpers of the end-to-end tests in a real Chromium (plain module; the fixtures are in test_browser.py).

- The review UI runs as a real uvicorn server in a child process, one per test with its own settings
  and database. A *launcher* child imports the web app once per session and forks a server per test
  (`toasoan.web.app_from_environment()` with TOASOAN_CONFIG, exactly what `uvicorn --factory` runs):
  a fork starts in ~50 ms where `python -m uvicorn` needs ~1.5 s, almost all of it imports. The
  listening socket is bound before the fork, so there is no port race and no waiting for the port.
- Debian's chromium driven by Playwright (`executable_path`, never `playwright install`), with the flags
  that keep it off the network (research/infra.md §4).
- What a user does in the pages (signing in, the named decision forms, the facts of a draft), the
  contributor's emailed reply, and the checks of screenshots.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from review.auth import add_user
from review.web import create_app
from tests.appkit import open_app, toml, write_settings
from tests.fixtures.intake.build import DOCX_TYPE
from tests.review.webkit import CATEGORIES, PASSWORD, USERS, Office
from tests.servers import HOST, _foreground_cmd, free_port, pid_alive, stop_child, wait_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google services on a closed network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP: ViewportSize = {"width": 1366, "height": 768}  # the office screen of the issue
PHONE: ViewportSize = {"width": 390, "height": 844}

_PR_SET_PDEATHSIG = 1
_ANSWER_TIMEOUT = 60.0  # the first answer includes the launcher's imports


# =============================================================================== the launcher (child side)
def launcher_main() -> None:
    """Run as `python -c 'from tests.review.browserkit import launcher_main; launcher_main()'`.

    Protocol, one JSON object per line: {"config": path, "env": {...}} -> {"pid": n, "port": n} (or
    {"error": text}); {"stop": pid} -> {"stopped": pid}. End of stdin stops every server left.
    """
    import uvicorn  # noqa: F401

    import toasoan.web  # noqa: F401 - the expensive imports, done once before any fork

    servers: set[int] = set()
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if "stop" in request:
                pid = int(request["stop"])
                _stop_child(pid)
                servers.discard(pid)
                answer: dict[str, Any] = {"stopped": pid}
            else:
                pid, port = _fork_server(str(request["config"]), dict(request.get("env") or {}))
                servers.add(pid)
                answer = {"pid": pid, "port": port}
        except Exception as exc:  # reported to the test, which raises it there
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()  # nothing may stay buffered at the next fork (the child would inherit it)
    for pid in servers:
        _stop_child(pid)


def _fork_server(config: str, env: dict[str, str]) -> tuple[int, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    port = int(sock.getsockname()[1])
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the server
        code = 1
        try:
            os.close(ready_r)
            _serve(sock, config, env, ready_w)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(ready_w)
    sock.close()
    with os.fdopen(ready_r, "rb") as ready:
        said = ready.read().decode("utf-8", "replace")
    if said != "ok":
        _stop_child(pid)
        raise RuntimeError(f"the web app did not start for {config}:\n{said or '(no output)'}")
    return pid, port


def _serve(sock: socket.socket, config: str, env: dict[str, str], ready_w: int) -> None:
    import uvicorn

    import toasoan.web

    # Die with the launcher, whatever kills it; and do not keep its protocol pipe (stdout) open.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # its own output goes to the launcher's log
    os.environ.update(env)
    os.environ["TOASOAN_CONFIG"] = config
    try:
        app = toasoan.web.app_from_environment()
    except BaseException:
        os.write(ready_w, traceback.format_exc().encode())
        raise
    os.write(ready_w, b"ok")
    os.close(ready_w)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    )
    server.run(sockets=[sock])


def _stop_child(pid: int, grace: float = 5.0) -> None:
    """SIGTERM by PID, reap it; SIGKILL if it outlives the grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


# ================================================================================ the launcher (test side)
@dataclass(frozen=True)
class LiveServer:
    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class ServerLauncher:
    """The launcher child of the test session; `start(config)` gives a fresh server of that office."""

    def __init__(self, log: Path) -> None:
        self.log = log
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(
                _foreground_cmd(
                    [sys.executable, "-c", "from tests.review.browserkit import launcher_main; launcher_main()"]
                ),
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        readable, _, _ = select.select([self.proc.stdout], [], [], _ANSWER_TIMEOUT)
        line = self.proc.stdout.readline() if readable else b""
        if not line:
            raise RuntimeError(f"the server launcher did not answer {request}:\n{self.log_tail()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{answer['error']}\n{self.log_tail()}")
        return answer

    def start(self, config: Path, env: dict[str, str] | None = None) -> LiveServer:
        answer = self._ask({"config": str(config), "env": env or {}})
        return LiveServer(pid=int(answer["pid"]), port=int(answer["port"]))

    def stop(self, server: LiveServer) -> None:
        self._ask({"stop": server.pid})
        assert not pid_alive(server.pid), f"server {server.pid} still running"

    def close(self) -> None:
        """End of stdin: the launcher stops what is left and exits; then it is gone by its PID."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def server_launcher(log: Path) -> Iterator[ServerLauncher]:
    launcher = ServerLauncher(log)
    try:
        yield launcher
    finally:
        launcher.close()


@contextlib.contextmanager
def uvicorn_command(config: Path, log: Path) -> Iterator[LiveServer]:
    """The documented way, for comparison and as a check of it: `python -m uvicorn --factory
    toasoan.web:app_from_environment` with TOASOAN_CONFIG, a child stopped by its PID (~1.5 s to start)."""
    for attempt in range(3):
        port = free_port()
        factory = ["-m", "uvicorn", "--factory", "toasoan.web:app_from_environment", "--log-level", "warning"]
        with open(log, "ab") as err:
            proc = subprocess.Popen(
                _foreground_cmd([sys.executable, *factory, "--host", HOST, "--port", str(port)]),
                cwd=REPO,
                env={**os.environ, "TOASOAN_CONFIG": str(config)},
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        try:
            wait_port(port, timeout=30.0, proc=proc)
            break
        except RuntimeError:  # exited: another process took the port in between, or a real failure
            if attempt == 2 or "address already in use" not in log.read_text(errors="replace").lower():
                raise RuntimeError(f"uvicorn did not start:\n{log.read_text(errors='replace')}") from None
        except BaseException:
            stop_child(proc)
            raise
    try:
        yield LiveServer(pid=proc.pid, port=port)
    finally:
        stop_child(proc)


# ================================================================================================ browser
@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium under Playwright; a clear error (not a skip) when it is missing."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make test`, or apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


# ================================================================================================ offices
def build_office(
    root: Path,
    *,
    review: dict[str, Any] | None = None,
    smtp: dict[str, Any] | None = None,
    mailbox: dict[str, Any] | None = None,
) -> Office:
    """Settings (the test units, the two categories, optional [review], [smtp], [mailbox]) and a migrated
    database; no accounts yet (`Site.signed_in` adds the ones a test uses: hashing one costs ~0.13 s)."""
    root.mkdir(parents=True, exist_ok=True)
    config = write_settings(root, smtp=smtp, mailbox=mailbox)
    extra = [toml({"review": review}, []) if review else ""]
    extra += [f'[[categories]]\nslug = "{slug}"\nname = "{name}"\n' for slug, name in CATEGORIES]
    config.write_text(config.read_text(encoding="utf-8") + "\n" + "\n".join(extra), encoding="utf-8")
    settings, engine = open_app(config)
    return Office(root=root, config=config, settings=settings, engine=engine, app=create_app(settings, engine))


@dataclass
class Site:
    """One test's office served live, and the browser contexts the test opened on it."""

    office: Office
    server: LiveServer
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # console errors and uncaught page errors
    users: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.server.url

    def new_page(self, *, phone: bool = False) -> Page:
        """A page in a fresh context (its own cookies): another person at another computer."""
        context = self.browser.new_context(
            base_url=self.url,
            viewport=PHONE if phone else DESKTOP,
            device_scale_factor=1,  # screenshots come out at exactly the viewport size
            is_mobile=phone,
            has_touch=phone,
            locale="vi-VN",
            timezone_id="Asia/Ho_Chi_Minh",
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx/5xx main-frame response as an error; those statuses are the UI's
        # intended answers (wrong password 401, invalid form 422, stale page 409) and are checked by
        # the tests on the page itself. Anything else (a CSP violation, a script error) is a problem.
        if message.type == "error" and not _HTTP_STATUS_LOG.match(message.text):
            self.problems.append(f"console: {message.text}")

    def account(self, role: str) -> tuple[str, str]:
        """(username, full name) of the test account of `role`, created on first use."""
        username, full_name = USERS[role]
        if role not in self.users:
            add_user(self.office.engine, username, PASSWORD, role=role, full_name=full_name)
            self.users.add(role)
        return username, full_name

    def signed_in(self, role: str, *, phone: bool = False) -> Page:
        page = self.new_page(phone=phone)
        sign_in(page, self.account(role)[0])
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()

    def screenshots(self, folder: Path, stem: str) -> list[Path]:
        """Every open page as a PNG (for a failed test)."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for i, context in enumerate(self.contexts):
            for j, page in enumerate(context.pages):
                path = folder / f"{stem}-{i}-{j}.png"
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(path), full_page=True)
                    written.append(path)
        return written


_HTTP_STATUS_LOG = re.compile(r"^Failed to load resource: the server responded with a status of (401|409|422)\b")


# ================================================================================== what a user does
def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def decision_form(page: Page, name: str) -> Locator:
    """A decision form by its heading ("Duyệt bài", "Không sử dụng bài", ...)."""
    return page.get_by_role("form", name=name, exact=True)


def fact(page: Page, term: str) -> Locator:
    """The value beside `term` in the draft's facts ("Trạng thái", "Đơn vị", "Hệ số nhuận bút"...)."""
    return page.locator("dl.facts").locator(f"dt:text-is('{term}') + dd")


def history_rows(page: Page) -> Locator:
    """The rows of the draft's history table (without its header)."""
    return page.get_by_role("region", name="Lịch sử xử lý").locator("tbody tr")


def queue_titles(page: Page) -> Locator:
    """The title links of the queue table, in the order shown."""
    return page.get_by_role("table").get_by_role("link")


def draft_id_of(page: Page) -> int:
    match = re.search(r"/drafts/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


# ========================================================================================= contributor
def reply_to(decision: EmailMessage, *, sender: tuple[str, str], text: str, attachment: tuple[str, bytes]) -> bytes:
    """The contributor answering the office's email from their mail client, with a revised Word file:
    `Re:` its subject, In-Reply-To and References its Message-ID."""
    msg = EmailMessage()
    msg["From"] = formataddr(sender)
    msg["To"] = str(decision["From"])
    msg["Subject"] = f"Re: {decision['Subject']}"
    msg["Message-ID"] = make_msgid(domain=sender[1].split("@", 1)[1])
    msg["In-Reply-To"] = str(decision["Message-ID"])
    msg["References"] = str(decision["Message-ID"])
    msg.set_content(text)
    filename, data = attachment
    maintype, subtype = DOCX_TYPE.split("/", 1)
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)


# ========================================================================================== screenshots
def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a complete, valid PNG file; fails on anything else."""
    assert path.is_file(), f"{path} was not written"
    with Image.open(path) as image:
        assert image.format == "PNG", (path, image.format)
        size = image.size
        image.verify()  # the whole file is read: a truncated PNG fails here
    return size
