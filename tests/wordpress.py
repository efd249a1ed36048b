"""A real WordPress on 127.0.0.1 for tests and benchmarks (no pytest imports here).

Debian's `wordpress` package served by PHP's built-in server (`php -S` with PHP_CLI_SERVER_WORKERS
workers) from a private hard-linked copy of /usr/share/wordpress with a generated wp-config.php, over a
throwaway MariaDB (`mariadbd` with its own datadir and unix socket, no TCP). The site is installed
through the real installer form; an admin and an editor get Application Passwords over REST.
Both servers are children of this process in their own process groups and are stopped by their PIDs.
Recipe and its measurements: research/wordpress.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.servers import HOST, free_port, wait_port

WP_SRC = Path("/usr/share/wordpress")
INSTALL_HINT = (
    "run `make test` (scripts/system-deps.sh installs them with apt-get), or: apt-get install -y wordpress "
    "wordpress-theme-twentytwentythree php-cli php-mysql php-gd mariadb-server"
)
SITE_TITLE = "Cổng thông tin thử nghiệm"

_WP_CONFIG = """<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'wp');
define('DB_PASSWORD', 'wp');
define('DB_HOST', 'localhost:{sock}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
define('WP_ENVIRONMENT_TYPE', 'local');  // Application Passwords over plain http
define('WP_HOME', '{url}');
define('WP_SITEURL', '{url}');
define('WP_DEBUG', false);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISABLE_WP_CRON', true);         // no wp-cron.php loopback request on every page view
define('WP_HTTP_BLOCK_EXTERNAL', true);  // never reach wordpress.org; loopback stays allowed
define('FS_METHOD', 'direct');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""

# php -S router: existing files as usual, every other path (pretty permalinks) to WordPress.
_ROUTER = r"""<?php
$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
if ($path !== '/' && file_exists(__DIR__ . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = __DIR__ . '/index.php';
require __DIR__ . '/index.php';
"""


def require_wordpress() -> None:
    """Raise with the install hint when a piece of the stack is missing."""
    missing = [
        name
        for name, ok in (
            ("wordpress", (WP_SRC / "wp-settings.php").is_file()),
            ("php-cli", shutil.which("php") is not None),
            ("mariadb-server", _mariadbd() is not None and shutil.which("mariadb-install-db") is not None),
        )
        if not ok
    ]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not installed: {INSTALL_HINT}")


def _mariadbd() -> str | None:
    return shutil.which("mariadbd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


_SMALL_REDO = "--innodb-log-file-size=10M"  # a 28 MB datadir instead of 114 MB


def _db_template() -> Path:
    """An empty MariaDB datadir made once per MariaDB build and copied for each server (0.1 s).

    `mariadb-install-db` is fsync-bound: 0.6 s on an idle machine, 3-8 s while other test suites
    write. The template is keyed by the server binary, built under a file lock (xdist workers start
    together) into a temp name and renamed into place, so a half-built one is never used."""
    server = Path(_mariadbd() or "mariadbd")
    stat = server.stat()
    key = hashlib.sha256(f"{server}:{stat.st_size}:{stat.st_mtime_ns}:{_SMALL_REDO}".encode()).hexdigest()[:16]
    template = Path(tempfile.gettempdir()) / f"toasoan-mariadb-template-{key}"
    if template.is_dir():
        return template
    with (template.parent / f"{template.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.is_dir():
            building = Path(tempfile.mkdtemp(prefix=f"{template.name}.", dir=template.parent))
            try:
                _run(
                    [
                        "mariadb-install-db", "--no-defaults", f"--datadir={building / 'db'}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
                        _SMALL_REDO,
                    ]
                )  # fmt: skip
                (building / "db").rename(template)
            finally:
                shutil.rmtree(building, ignore_errors=True)
    return template


def _dies_with_us(cmd: list[str], sig: str) -> list[str]:
    """The server gets `sig` if this process dies (even SIGKILLed): no orphaned mariadbd or php -S.
    PR_SET_PDEATHSIG fires when the forking *thread* exits, so only from the main thread."""
    setpriv = shutil.which("setpriv")
    if setpriv and threading.current_thread() is threading.main_thread():
        return [setpriv, "--pdeathsig", sig, *cmd]
    return cmd


def _salts() -> str:
    alphabet = string.ascii_letters + string.digits + "!#%&()*+,-.:;<=>?@[]^_{|}~"
    names = (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
        "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT",
    )  # fmt: skip
    return "\n".join(f"define('{n}', '{''.join(secrets.choice(alphabet) for _ in range(64))}');" for n in names)


def _wait_unix(path: str, proc: subprocess.Popen[Any], timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while True:
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(path)
                return
            except OSError:
                pass
        if proc.poll() is not None:
            raise RuntimeError(f"mariadbd exited with code {proc.returncode} before its socket was up")
        if time.monotonic() >= end:
            raise TimeoutError(f"mariadbd socket {path} not up after {timeout} s")
        time.sleep(0.02)


def _run(cmd: list[str], **kwargs: Any) -> None:
    done = subprocess.run(cmd, capture_output=True, check=False, timeout=120, **kwargs)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise RuntimeError(f"{cmd[0]} failed with code {done.returncode}: {err}")


def rest(client: httpx.Client, method: str, route: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
    """A REST call as `?rest_route=...` (works with plain and pretty permalinks). httpx replaces a URL's
    own query string when params= is given, so rest_route travels in params."""
    return client.request(method, "/", params={"rest_route": route, **(params or {})}, **kw)


@dataclass
class WordPress:
    """A running WordPress: `url`, an admin and an editor (`editor`, `editor_password` = its
    Application Password), `start_seconds` (nothing to ready)."""

    workers: int = 4  # >= 2: WordPress' own loopback requests (installer, permalinks) need a free worker
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="toasoan-wp-")))
    port: int = 0
    admin: str = "admin"
    admin_login_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    admin_password: str = ""  # Application Password
    editor: str = "bientap"
    editor_password: str = ""  # Application Password
    editor_id: int = 0
    start_seconds: float = 0.0
    _db: subprocess.Popen[bytes] | None = None
    _php: subprocess.Popen[bytes] | None = None
    _guard: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def root(self) -> Path:
        return self.dir / "wp"

    @property
    def socket(self) -> str:
        return str(self.dir / "mysqld.sock")  # a unix socket path must stay under 108 bytes

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self._db, self._php) if p is not None]

    @property
    def web_running(self) -> bool:
        return self._php is not None and self._php.poll() is None

    # ------------------------------------------------------------------------------ start / stop
    def start(self) -> WordPress:
        require_wordpress()
        started = time.perf_counter()
        try:
            self._start_db()
            self.port = free_port()  # WP_HOME pins it: chosen before the config is written
            self._copy_tree()
            self.start_web()
            self._install()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - started
        return self

    def _start_db(self) -> None:
        datadir = self.dir / "db"
        shutil.copytree(_db_template(), datadir, symlinks=True)
        self._db = subprocess.Popen(
            _dies_with_us(
                [
                str(_mariadbd()), "--no-defaults", f"--datadir={datadir}", f"--socket={self.socket}",
                "--skip-networking", "--user=root", f"--pid-file={self.dir / 'mysqld.pid'}",
                f"--log-error={self.dir / 'mysqld.err'}", "--skip-name-resolve", "--skip-log-bin",
                "--innodb-buffer-pool-size=64M", _SMALL_REDO,
                # a throwaway database: no fsync per commit (the installer commits a few hundred times)
                "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                ],
                "TERM",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        _wait_unix(self.socket, self._db)
        _run(
            [
                "mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-e",
                "CREATE DATABASE wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
                "CREATE USER 'wp'@'localhost' IDENTIFIED BY 'wp'; GRANT ALL ON wordpress.* TO 'wp'@'localhost';",
            ]
        )  # fmt: skip

    def _copy_tree(self) -> None:
        # Hard links (~0.2 s); a symlinked tree would load Debian's own config (PHP resolves __DIR__).
        if subprocess.run(["cp", "-al", str(WP_SRC), str(self.root)], capture_output=True, check=False).returncode:
            shutil.rmtree(self.root, ignore_errors=True)  # another filesystem: a real copy
            _run(["cp", "-a", str(WP_SRC), str(self.root)])
        config = self.root / "wp-config.php"
        config.unlink()  # never write through a hard link into /usr/share/wordpress
        config.write_text(_WP_CONFIG.format(sock=self.socket, url=self.url, keys=_salts()), encoding="utf-8")
        (self.root / "router.php").write_text(_ROUTER, encoding="utf-8")

    def start_web(self) -> None:
        """(Re)start `php -S` on the same port (the database keeps running)."""
        if self.web_running:
            return
        log = (self.dir / "php.log").open("ab")
        try:
            php_ini = ["-d", "upload_max_filesize=32M", "-d", "post_max_size=40M", "-d", "memory_limit=256M"]
            self._php = subprocess.Popen(
                ["php", *php_ini, "-S", f"{HOST}:{self.port}", "-t", str(self.root), str(self.root / "router.php")],
                env={**os.environ, "PHP_CLI_SERVER_WORKERS": str(self.workers)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        # php's workers outlive a killed master, and a signal to the master alone stops nothing: a guard
        # that dies with us sends php's Ctrl-C (SIGINT) to the whole group, and leaves when php does.
        pgid = self._php.pid
        self._guard = subprocess.Popen(
            _dies_with_us(
                [
                    "sh", "-c",
                    f'trap "kill -INT -{pgid} 2>/dev/null; exit 0" TERM; '
                    f"while kill -0 {pgid} 2>/dev/null; do sleep 1; done",
                ],
                "TERM",
            ),
            start_new_session=True,
        )  # fmt: skip
        wait_port(self.port, timeout=120, proc=self._php)

    def stop_web(self) -> None:
        """Stop `php -S` (WordPress unreachable: connection refused), keep the database."""
        # SIGINT to the group is php's Ctrl-C: the workers exit and the master reaps them. SIGTERM to
        # the master alone would leave the workers holding the port.
        _stop_group(self._php, signal.SIGINT)
        self._php = None
        if self._guard is not None:
            _stop_group(self._guard, signal.SIGKILL)
            self._guard = None

    @contextlib.contextmanager
    def web_down(self) -> Iterator[None]:
        """WordPress unreachable inside the block (php -S stopped), back on the same port afterwards."""
        self.stop_web()
        try:
            yield
        finally:
            self.start_web()

    def stop(self) -> None:
        self.stop_web()
        _stop_group(self._db, signal.SIGTERM)
        self._db = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------------------ install
    def _install(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as c:
            r = c.post(
                "/wp-admin/install.php?step=2",
                data={
                    "weblog_title": SITE_TITLE,
                    "user_name": self.admin,
                    "admin_password": self.admin_login_password,
                    "admin_password2": self.admin_login_password,
                    "pw_weak": "1",
                    "admin_email": "admin@example.test",
                    "blog_public": "0",
                    "language": "",
                },
            )
            if r.status_code != 200 or "Success!" not in r.text:
                raise RuntimeError(f"WordPress install failed: HTTP {r.status_code}: {r.text[-500:]}")
            self.admin_password = self._admin_app_password(c)
        with self.client(self.admin, self.admin_password) as c:
            r = rest(c, "POST", "/wp/v2/settings", json={"timezone": "Asia/Ho_Chi_Minh"})
            _expect(r, 200)
            r = rest(
                c,
                "POST",
                "/wp/v2/users",
                json={
                    "username": self.editor,
                    "email": "bientap@example.test",
                    "password": secrets.token_urlsafe(16),
                    "name": "Biên tập viên",
                    "roles": ["editor"],
                },
            )
            _expect(r, 201)
            self.editor_id = int(r.json()["id"])
            self.editor_password = self.app_password(self.editor_id, "toasoan")

    def _admin_app_password(self, c: httpx.Client) -> str:
        """The first Application Password needs a cookie session: log in, get a REST nonce, mint it."""
        c.cookies.set("wordpress_test_cookie", "WP Cookie check")
        r = c.post(
            "/wp-login.php",
            data={
                "log": self.admin,
                "pwd": self.admin_login_password,
                "wp-submit": "Log In",
                "redirect_to": self.url + "/wp-admin/",
                "testcookie": "1",
            },
        )
        if r.status_code != 302:
            raise RuntimeError(f"WordPress login failed: HTTP {r.status_code}")
        nonce = c.get("/wp-admin/admin-ajax.php", params={"action": "rest-nonce"}).text.strip()
        r = rest(c, "POST", "/wp/v2/users/me/application-passwords", headers={"X-WP-Nonce": nonce}, json={"name": "t"})
        _expect(r, 201)
        return str(r.json()["password"])

    # ------------------------------------------------------------------------------ helpers
    def app_password(self, user_id: int, name: str) -> str:
        """A new Application Password for a user (minted by the admin)."""
        with self.client(self.admin, self.admin_password) as c:
            r = rest(c, "POST", f"/wp/v2/users/{user_id}/application-passwords", json={"name": name})
            _expect(r, 201)
            return str(r.json()["password"])

    def client(self, user: str | None = None, password: str | None = None) -> httpx.Client:
        """An authenticated client (the admin's by default) for checking what the target did."""
        return httpx.Client(
            base_url=self.url,
            auth=(user or self.admin, password or self.admin_password),
            timeout=60,
        )

    def get(self, route: str, **params: Any) -> Any:
        """GET a REST route as the admin with context=edit; the JSON answer."""
        with self.client() as c:
            r = rest(c, "GET", route, params={"context": "edit", **params})
            _expect(r, 200)
            return r.json()

    def all(self, route: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a collection route (all pages), as the admin with context=edit."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.get(route, per_page=100, page=page, **params)
            found += batch
            if len(batch) < 100:
                return found
            page += 1

    def posts(self, **params: Any) -> list[dict[str, Any]]:
        """Every post of any status, trash included (newest first)."""
        found: list[dict[str, Any]] = []
        for status in ("any", "trash"):
            found += self.all("/wp/v2/posts", status=status, **params)
        return sorted(found, key=lambda p: -int(p["id"]))

    def permalinks(self) -> str:
        """The permalink structure the installer chose ('' = plain links)."""
        with self.client() as c:
            link = c.get("/").headers.get("link", "")
        return "pretty" if re.search(r"/wp-json/>", link) else "plain"


def _expect(r: httpx.Response, status: int) -> None:
    if r.status_code != status:
        raise RuntimeError(f"{r.request.method} {r.request.url.params.get('rest_route')}: HTTP {r.status_code}")


def _stop_group(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
    """Signal the process group the server leads (its PID) and reap it; SIGKILL the group if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def wordpress(workers: int = 4) -> Iterator[WordPress]:
    """A started WordPress, stopped (both servers, by PID) and deleted afterwards."""
    server = WordPress(workers=workers).start()
    try:
        yield server
    finally:
        server.stop()
