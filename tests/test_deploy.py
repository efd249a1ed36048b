"""The deployment files in deploy/ (issue 12): the systemd units, the nginx site, the secrets template
and the README's numbered steps, checked with the tools a server runs them with.

`systemd-analyze verify` reads unit files offline (no systemd as PID 1 needed); nginx is started for
real on loopback ports with a self-signed certificate. Both come from Debian (scripts/system-deps.sh,
run by `make test`); a missing one is an error naming the package, not a skip.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from core.settings import CATEGORY_KEYS, GENRE_KEYS, SCHEMA, UNIT_KEYS, check_serving, load_settings
from tests.servers import HOST, client_tls_context, free_port, make_cert, stop_child, wait_port
from toasoan.cli import build_parser

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
NGINX_SITE = DEPLOY / "nginx" / "toasoan.conf"
ENV_EXAMPLE = DEPLOY / "toasoan.env.example"

# Where the README installs things; the units, the nginx site and the settings block must agree.
INSTALLED_TOASOAN = "/opt/toasoan/.venv/bin/toasoan"
CONFIG = "/etc/toasoan/settings.toml"
ENV_FILE = "/etc/toasoan/toasoan.env"
DATA_DIR = "/var/lib/toasoan"
SITE_DIR = "/var/www/toasoan/site"
SERVER_NAME = "toasoan.example.vn"
UI_UPSTREAM = "127.0.0.1:8080"
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]")
# Variables the env file may name that are no `*_env` key of the settings (libpq reads PGPASSWORD).
ENV_EXTRAS = {"PGPASSWORD"}

HINT = "run `make test` (scripts/system-deps.sh installs {pkg} with apt-get), or: apt-get install -y {pkg}"
_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"])


def _tool(name: str, package: str) -> str:
    found = shutil.which(name, path=_SBIN_PATH)
    if found is None:
        pytest.fail(f"{name} is not installed: " + HINT.format(pkg=package))
    return found


# ------------------------------------------------------------------------------------------ units
def unit_entries(path: Path) -> list[tuple[str, str, str]]:
    return parse_unit(path.read_text(encoding="utf-8"))


def parse_unit(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of a unit file in order; keys may repeat (SystemCallFilter=), so no dict."""
    entries: list[tuple[str, str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def service_values(path: Path, key: str) -> list[str]:
    return [v for s, k, v in unit_entries(path) if s == "Service" and k == key]


def one(path: Path, key: str) -> str:
    values = service_values(path, key)
    assert len(values) == 1, f"{path.name}: {key}= set {len(values)} times: {values}"
    return values[0]


UNIT_FILES = sorted(UNITS.glob("*.service"))
# (unit, the subcommand its ExecStart runs)
EXPECTED_UNITS = {"toasoan-worker.service": "worker", "toasoan-web.service": "serve"}


def test_the_two_units_exist() -> None:
    assert {p.name for p in UNIT_FILES} == set(EXPECTED_UNITS)


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` wants ExecStart's binary to exist: the units are checked as shipped,
    with /opt/toasoan/.venv pointed at this checkout's venv."""
    analyze = _tool("systemd-analyze", "systemd")
    venv_toasoan = Path(sys.prefix, "bin", "toasoan")
    assert venv_toasoan.exists(), f"{venv_toasoan} missing: run `make install`"
    copies = []
    for unit in UNIT_FILES:
        text = unit.read_text(encoding="utf-8")
        assert INSTALLED_TOASOAN in text
        copy = tmp_path / unit.name
        copy.write_text(text.replace(INSTALLED_TOASOAN, str(venv_toasoan)), encoding="utf-8")
        copies.append(str(copy))
    done = subprocess.run(
        [analyze, "verify", "--man=no", *copies], capture_output=True, text=True, timeout=60, check=False
    )
    # An unknown or misspelt key is only a warning (status 0): any line naming our units fails too.
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "toasoan" in line]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


@pytest.mark.parametrize("unit", UNIT_FILES, ids=lambda p: p.name)
def test_unit_is_hardened(unit: Path) -> None:
    required = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "CapabilityBoundingSet": "",
        "EnvironmentFile": ENV_FILE,
        "StateDirectory": "toasoan",
        "User": "toasoan",
    }
    for key, value in required.items():
        assert one(unit, key) == value, f"{unit.name}: {key}="
    assert "@system-service" in service_values(unit, "SystemCallFilter")
    # Only the data dir and the site dir may be written; the data dir always.
    writable = one(unit, "ReadWritePaths").split()
    assert DATA_DIR in writable and set(writable) <= {DATA_DIR, SITE_DIR}, writable
    # AF_NETLINK is bubblewrap's (the LibreOffice jail's loopback), nothing else beyond IP and Unix.
    families = set(one(unit, "RestrictAddressFamilies").split())
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= families <= {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
    assert one(unit, "Restart") in ("on-failure", "always")
    restart_sec = one(unit, "RestartSec")
    assert re.fullmatch(r"\d+s?", restart_sec) and 1 <= int(restart_sec.rstrip("s")) <= 60, restart_sec
    assert f"HOME={DATA_DIR}" in service_values(unit, "Environment"), "LibreOffice's HOME: the state dir"
    assert ("Install", "WantedBy", "multi-user.target") in unit_entries(unit)


def test_worker_writes_the_site_and_the_ui_does_not() -> None:
    """The worker's publish jobs write the static site; the UI only queues them."""
    assert SITE_DIR in one(UNITS / "toasoan-worker.service", "ReadWritePaths").split()
    assert SITE_DIR not in one(UNITS / "toasoan-web.service", "ReadWritePaths").split()


def test_units_keep_what_bubblewrap_needs() -> None:
    """Both processes may run LibreOffice (the UI's "Xử lý lại" converts too), always inside bwrap,
    which needs mount() in its own namespaces and /proc fully visible to mount its own."""
    for unit in UNIT_FILES:
        assert "@mount" in service_values(unit, "SystemCallFilter"), unit.name
        for breaks_bwrap in ("RestrictNamespaces", "ProtectKernelTunables", "ProtectKernelLogs", "ProtectProc"):
            assert not service_values(unit, breaks_bwrap), f"{unit.name}: {breaks_bwrap}= stops bubblewrap"


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


@pytest.mark.parametrize("unit", UNIT_FILES, ids=lambda p: p.name)
def test_unit_execstart_is_a_real_command(unit: Path) -> None:
    argv = shlex.split(one(unit, "ExecStart"))
    assert argv[0] == INSTALLED_TOASOAN
    assert argv[1:3] == ["--config", CONFIG]
    args = build_parser().parse_args(argv[1:])  # SystemExit (a failure) on an unknown command or option
    assert args.command == EXPECTED_UNITS[unit.name]
    if args.command == "serve":
        assert (args.host, args.port) == ("127.0.0.1", 8080), "the UI listens on loopback, behind nginx"


def test_units_exposure_stays_low() -> None:
    """systemd's own hardening score (0 best, 10 worst) as a guard against a unit losing options."""
    analyze = _tool("systemd-analyze", "systemd")
    for unit in UNIT_FILES:
        done = subprocess.run(
            [analyze, "security", "--offline=yes", "--threshold=45", "--no-pager", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr


# ---------------------------------------------------------------------------------- secrets file
def secret_env_names() -> set[str]:
    """Every `*_env` key's default in the settings schema: the variables the service reads secrets from."""
    keys = [k for section in SCHEMA.values() for k in section]
    keys += [*UNIT_KEYS, *GENRE_KEYS, *CATEGORY_KEYS]
    names = {k.default for k in keys if k.name.endswith("_env")}
    assert names, "the schema declares no *_env key: this test reads the wrong thing"
    return names


def test_env_example_lists_every_secret() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    set_names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))
    commented = set(re.findall(r"^#([A-Z][A-Z0-9_]*)=", text, re.M))
    assert secret_env_names() <= set_names, secret_env_names() - set_names
    assert set_names | commented <= secret_env_names() | ENV_EXTRAS
    # systemd's EnvironmentFile= syntax: no `export`, no shell expansions.
    assert not re.search(r"^\s*export\s", text, re.M)


def test_env_example_comments_are_vietnamese() -> None:
    """Each variable has a comment above it, in Vietnamese (the person filling it in is the office's)."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for name in secret_env_names():
        at = lines.index(f"{name}=")
        above = []
        for line in reversed(lines[:at]):
            if not line.startswith("#"):
                break
            above.append(line)
        assert VIETNAMESE.search(" ".join(above)), name


def test_no_log_files_so_no_logrotate() -> None:
    """The app logs to stderr only (journald keeps and rotates it); a logrotate file would rotate nothing."""
    handlers = subprocess.run(
        ["grep", "-rlE", r"FileHandler|RotatingFileHandler|WatchedFileHandler", "core", "ingest", "review", "publish",
         "reports", "toasoan"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert handlers.stdout == "", handlers.stdout
    assert not (DEPLOY / "logrotate").exists()
    assert "journalctl -u toasoan-worker" in deploy_section()


# --------------------------------------------------------------------------------------- README
def deploy_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Triển khai trên máy chủ Debian 12")
    return text[start : text.index("\n## ", start)]


def test_readme_steps_are_numbered_and_cover_the_install() -> None:
    section = deploy_section()
    steps = [int(n) for n in re.findall(r"^(\d+)\. \*\*", section, re.M)]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 8, steps
    for needed in (
        "apt-get install",
        "useradd --system",
        "pip install -e .",
        CONFIG,
        ENV_FILE,
        "deploy/toasoan.env.example",
        "deploy/nginx/toasoan.conf",
        *(f"deploy/systemd/{name}" for name in EXPECTED_UNITS),
        "systemctl enable --now",
        "certbot",
        "nginx -t",
    ):
        assert needed in section, needed


def test_readme_toasoan_commands_exist() -> None:
    """Every toasoan command line of the steps parses with the real parser, and the steps include the
    migration, the first admin and the check."""
    section = deploy_section()
    lines = re.findall(re.escape(INSTALLED_TOASOAN) + r" (--config \S+ [^`\n]+)", section)
    commands = []
    for line in lines:
        argv = shlex.split(line)
        assert argv[:2] == ["--config", CONFIG], line
        args = build_parser().parse_args(argv)  # SystemExit fails the test on a wrong command
        commands.append((args.command, getattr(args, "db_cmd", None) or getattr(args, "users_cmd", None)))
    assert ("db", "upgrade") in commands
    assert ("users", "add") in commands
    assert ("status", None) in commands
    # The package list installs what the code runs: LibreOffice, bubblewrap, nginx, a venv.
    install = re.search(r"apt-get install -y ([^\n]+)", section)
    assert install is not None
    for package in ("python3-venv", "libreoffice-writer-nogui", "bubblewrap", "nginx", "certbot"):
        assert package in install.group(1).split(), package


def _sections(text: str) -> list[tuple[str, int, int]]:
    """(header, start, end) of each table of a TOML text, by its header lines."""
    heads = [(m.group(1), m.start()) for m in re.finditer(r"^\[\[?([^\]]+)\]\]?[ \t]*$", text, re.M)]
    ends = [start for _, start in heads[1:]] + [len(text)]
    return [(name, start, end) for (name, start), end in zip(heads, ends, strict=True)]


def test_readme_production_settings_load(tmp_path: Path) -> None:
    """The settings block of step 5, put into the shipped settings.toml (its sections replacing the
    file's), is valid, serves behind HTTPS, and names the folders the units and nginx use."""
    block = re.search(r"```toml\n(.*?)```", deploy_section(), re.S)
    assert block is not None
    production = block.group(1)
    replaced = set(tomllib.loads(production)) | {
        f"{a}.{b}" for a, v in tomllib.loads(production).items() for b in v if isinstance(v[b], dict)
    }
    text = (ROOT / "settings.toml").read_text(encoding="utf-8")
    for name, start, end in reversed(_sections(text)):
        if name in replaced:
            text = text[:start] + text[end:]
    config = tmp_path / "etc" / "settings.toml"
    config.parent.mkdir()
    config.write_text(text + "\n" + production, encoding="utf-8")
    settings = load_settings(config)
    check_serving(settings)
    assert settings.database_url == f"sqlite:///{DATA_DIR}/toasoan.db"
    assert str(settings.storage_dir).startswith(DATA_DIR + "/")
    assert str(settings.resolve(settings.publish_static.path)) == SITE_DIR
    assert settings.publish_static.base_url == f"https://{SERVER_NAME}/site/"
    assert f"{settings.review.host}:{settings.review.port}" == UI_UPSTREAM
    assert settings.review.public_url == f"https://{SERVER_NAME}"


# ---------------------------------------------------------------------------------------- nginx
class _EchoHeaders(BaseHTTPRequestHandler):
    """Stands in for `toasoan serve`: answers with the request line and headers nginx forwarded."""

    def _answer(self) -> None:
        body = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer((HOST, 0), _EchoHeaders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def site_for_test(tmp: Path, *, http_port: int, https_port: int, upstream_port: int) -> tuple[Path, Path]:
    """deploy/nginx/toasoan.conf with its placeholders pointed into `tmp` and loopback ports, inside a
    minimal nginx.conf of its own. Each placeholder must be found: a changed site fails here first."""
    cert, key = make_cert(tmp, "site")
    site_dir = tmp / "www" / "site"
    acme = tmp / "acme"
    site_dir.mkdir(parents=True)
    acme.mkdir()
    site = NGINX_SITE.read_text(encoding="utf-8")
    replacements = {
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl http2;\n": "",
        "listen 80;": f"listen {HOST}:{http_port};",
        "listen 443 ssl http2;": f"listen {HOST}:{https_port} ssl http2;",
        f"/etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem;": f"{cert};",
        f"/etc/letsencrypt/live/{SERVER_NAME}/privkey.pem;": f"{key};",
        f"alias {SITE_DIR}/;": f"alias {site_dir}/;",
        "root /var/www/html;": f"root {acme};",
        f"proxy_pass http://{UI_UPSTREAM};": f"proxy_pass http://{HOST}:{upstream_port};",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/toasoan.conf no longer has {old!r}: update this test"
        site = site.replace(old, new)
    (tmp / "toasoan.conf").write_text(site, encoding="utf-8")
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would switch to `nobody`, who cannot read pytest's 0700 tmp folders.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'};\n"
        "events { worker_connections 64; }\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {tmp / 'access.log'};\n{temp_paths}\n    include {tmp / 'toasoan.conf'};\n}}\n",
        encoding="utf-8",
    )
    return conf, site_dir


def _nginx_cmd(nginx: str, conf: Path, *extra: str) -> list[str]:
    # -e: nginx opens its error log before reading the configuration (the default is under /var/log).
    return [nginx, "-p", str(conf.parent), "-c", str(conf), "-e", str(conf.parent / "error.log"), *extra]


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _tool("nginx", "nginx")
    conf, _ = site_for_test(tmp_path, http_port=free_port(), https_port=free_port(), upstream_port=free_port())
    done = subprocess.run(_nginx_cmd(nginx, conf, "-t"), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr
    # nginx 1.25+ deprecates `listen ... http2` (the only form 1.22 knows): that warning alone is fine.
    warnings = [line for line in done.stderr.splitlines() if "[warn]" in line and "http2" not in line]
    assert not warnings, done.stderr


def test_nginx_serves_the_site_and_proxies_the_ui(tmp_path: Path, upstream: int) -> None:
    nginx = _tool("nginx", "nginx")
    http_port, https_port = free_port(), free_port()
    conf, site = site_for_test(tmp_path, http_port=http_port, https_port=https_port, upstream_port=upstream)
    (site / "index.html").write_text("<!doctype html><title>Trang chủ</title>", encoding="utf-8")
    (site / "tin-hoat-dong").mkdir()
    (site / "tin-hoat-dong" / "bai-viet-12.html").write_text("<p>Bài viết</p>", encoding="utf-8")
    (site / "_data").mkdir()
    (site / "_data" / "catalog.json").write_text("{}", encoding="utf-8")
    (site / ".tmp-index.html.1.2").write_text("half", encoding="utf-8")
    (site / "media" / "ab").mkdir(parents=True)
    (site / "media" / "ab" / "ab12.w.jpg").write_bytes(b"\xff\xd8\xff\xe0 photo")
    (site / "media" / "ab" / ".hidden").write_bytes(b"x")
    cert = str(tmp_path / "site.pem")

    proc = subprocess.Popen(
        _nginx_cmd(nginx, conf, "-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_port(https_port, proc=proc)
        wait_port(http_port, proc=proc)
        headers = {"Host": SERVER_NAME}
        with httpx.Client(verify=client_tls_context(cert), headers=headers, timeout=10) as client:
            # HTTP: everything moves to HTTPS under the same address.
            r = client.get(f"http://{HOST}:{http_port}/drafts?tab=1")
            assert r.status_code == 301
            assert r.headers["location"] == f"https://{SERVER_NAME}/drafts?tab=1"

            base = f"https://{HOST}:{https_port}"
            # The review UI, with the headers uvicorn's proxy_headers and the app rely on.
            r = client.get(f"{base}/drafts?tab=1", headers={"X-Forwarded-For": "203.0.113.9"})
            assert r.status_code == 200
            seen = r.json()
            assert seen["path"] == "/drafts?tab=1"
            assert seen["headers"]["host"] == SERVER_NAME
            assert seen["headers"]["x-forwarded-proto"] == "https"
            assert seen["headers"]["x-forwarded-for"] == f"203.0.113.9, {HOST}"
            assert seen["headers"]["x-real-ip"] == HOST

            # The static site, from its folder.
            r = client.get(f"{base}/site/")
            assert r.status_code == 200 and "Trang chủ" in r.text
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["strict-transport-security"].startswith("max-age=")
            assert "content-security-policy" in r.headers
            assert client.get(f"{base}/site").headers["location"].endswith("/site/")
            r = client.get(f"{base}/site/tin-hoat-dong/bai-viet-12.html")
            assert r.status_code == 200 and r.text == "<p>Bài viết</p>"
            assert r.headers["content-type"].startswith("text/html")
            r = client.get(f"{base}/site/media/ab/ab12.w.jpg")
            assert r.status_code == 200 and r.content.startswith(b"\xff\xd8")
            assert "immutable" in r.headers["cache-control"]
            assert r.headers["x-content-type-options"] == "nosniff"

            # The catalog and files being written are never served.
            for hidden in ("_data/catalog.json", "_data/", ".tmp-index.html.1.2", "media/ab/.hidden"):
                assert client.get(f"{base}/site/{hidden}").status_code == 404, hidden

            # A request body over client_max_body_size is refused before it reaches the UI.
            r = client.post(f"{base}/drafts/1/edit", content=b"x" * (11 * 1024 * 1024))
            assert r.status_code == 413
    finally:
        stop_child(proc)
        assert proc.stderr is not None
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
    assert "[emerg]" not in err, err


# ------------------------------------------------------------------- LibreOffice in the sandbox
def _expand_syscalls(analyze: str, names: list[str], seen: set[str] | None = None) -> set[str]:
    """System calls of SystemCallFilter= entries, groups (@system-service) expanded by systemd itself."""
    seen = set() if seen is None else seen
    calls: set[str] = set()
    for name in names:
        if not name.startswith("@"):
            calls.add(name)
            continue
        if name in seen:
            continue
        seen.add(name)
        listing = subprocess.run(
            [analyze, "syscall-filter", name], capture_output=True, text=True, timeout=60, check=True
        ).stdout.splitlines()[1:]
        members = [line.strip() for line in listing if line.strip() and not line.strip().startswith("#")]
        calls |= _expand_syscalls(analyze, members, seen)
    return calls


def _python_for_service_user() -> tuple[str, str]:
    """(interpreter, PYTHONPATH) that user 65534 can run with this venv's packages: this venv's own
    Python, or the system's of the same version when the venv's lives under a private home (pyenv)."""
    import sysconfig

    path = os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]])
    for python in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run(
            ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env", f"PYTHONPATH={path}",
             python, "-c", f"import sys, lxml; sys.exit(sys.version_info[:2] != {tuple(sys.version_info[:2])})"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        if probe.returncode == 0:
            return python, path
    pytest.skip(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that user 65534 can run with {path}")


# The units' sandbox as far as it matters to bubblewrap, built by hand: a private mount namespace with
# the whole system read-only but /proc, /sys, /dev and the one writable folder (ProtectSystem=strict,
# ReadWritePaths=), then an unprivileged user with no capabilities that cannot gain any
# (User=, CapabilityBoundingSet=, NoNewPrivileges=), then the unit's seccomp policy.
_SANDBOX = r"""
set -e
mount --bind "$W" "$W"
awk '{print $5}' /proc/self/mountinfo | sort -u | while read -r mp; do
  case "$mp" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$W") continue;; esac
  mount -o remount,bind,ro "$mp" 2>/dev/null || true
done
if [ -w /usr ] || [ -w /etc ]; then echo "the system is not read-only" >&2; exit 97; fi
cd "$W"
exec setpriv --reuid 65534 --regid 65534 --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all \
  env -i PATH=/usr/bin:/bin HOME="$W" TMPDIR="$W" LANG=C.UTF-8 PYTHONPATH="$TOASOAN_PATH" \
  "$PY" "$SECCOMP_EXEC" "$W/policy.json" "$PY" -c "$CONVERT"
"""
_CONVERT = """
from ingest.word.libreoffice import convert
out = convert(rb"{\\rtf1\\ansi Xin ch\\u224?o}", "docx", confinement="required")
assert out[:2] == b"PK", out[:20]
print("converted", len(out))
"""


def _convert_in_sandbox(unit_text: str) -> subprocess.CompletedProcess[str]:
    import socket
    import tempfile

    analyze = _tool("systemd-analyze", "systemd")
    for tool, package in (("unshare", "util-linux"), ("setpriv", "util-linux"), ("bwrap", "bubblewrap")):
        _tool(tool, package)
    if shutil.which("soffice") is None:
        pytest.fail("soffice is not installed: " + HINT.format(pkg="libreoffice-writer-nogui"))
    if os.geteuid() != 0:
        pytest.skip("building the units' sandbox by hand (mount namespace, another user) needs root")
    python, path = _python_for_service_user()
    entries = [(k, v) for s, k, v in parse_unit(unit_text) if s == "Service"]
    filters = [word for k, v in entries if k == "SystemCallFilter" for word in v.split()]
    families = [getattr(socket, f) for k, v in entries if k == "RestrictAddressFamilies" for f in v.split()]
    # Outside pytest's tmp_path: its parents are private to root, and the service user must get in.
    with tempfile.TemporaryDirectory(prefix="toasoan-unit-") as w:
        os.chown(w, 65534, 65534)
        policy = {"syscalls": sorted(_expand_syscalls(analyze, filters)), "families": families}
        Path(w, "policy.json").write_text(json.dumps(policy), encoding="utf-8")
        env = {
            **os.environ,
            "W": w,
            "PY": python,
            "TOASOAN_PATH": path,
            "SECCOMP_EXEC": str(ROOT / "tests" / "seccomp_exec.py"),
            "CONVERT": _CONVERT,
        }
        return subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", _SANDBOX],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


@pytest.mark.parametrize("unit", UNIT_FILES, ids=lambda p: p.name)
def test_libreoffice_converts_inside_the_unit_sandbox(unit: Path) -> None:
    """Both services may run LibreOffice (the worker, and the UI's "Xử lý lại"), and always inside
    bubblewrap: under the unit's policy a file still converts, confined."""
    done = _convert_in_sandbox(unit.read_text(encoding="utf-8"))
    assert done.returncode == 0 and "converted" in done.stdout, done.stdout + done.stderr[-3000:]


@pytest.mark.parametrize("removed", ["SystemCallFilter=@mount\n", " AF_NETLINK"])
def test_bubblewrap_needs_what_the_units_add(removed: str) -> None:
    """Why the units allow more than @system-service and IP sockets: without mount() or a netlink
    socket bubblewrap cannot build its jail, and .doc files would wait as converter_missing."""
    text = (UNITS / "toasoan-worker.service").read_text(encoding="utf-8")
    assert removed in text
    done = _convert_in_sandbox(text.replace(removed, ""))
    assert done.returncode != 0 and "LibreOfficeMissing" in done.stderr, done.stdout + done.stderr[-3000:]
