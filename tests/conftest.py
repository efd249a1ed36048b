"""Shared fixtures: real mail servers on loopback (see tests/servers.py).

Session-scoped servers are per pytest-xdist worker (each worker is its own session); per-test isolation
comes from a fresh mailbox user (`mail_user`) or a fresh server (`smtp_sink`, `dovecot_private`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests import appkit, servers
from tests.wordpress import WordPress, wordpress

# Property tests check rules, not speed. Hypothesis's own clocks (a deadline per example, the "input
# generation is slow" health check) fail good code on a loaded machine: seen once in a full suite run
# beside another one. Both off, for every property test.
hypothesis_settings.register_profile("toasoan", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("toasoan")
# Intake fuzzing (tests/fuzz): a bounded run in `make test`, a long one in `make fuzz` (TOASOAN_FUZZ=1).
# Each example is a whole intake sweep, so the counts are of batches of messages, not of messages.
# Generated messages are large by design (huge headers, Word files): the size health checks are off.
_FUZZ_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
hypothesis_settings.register_profile(
    "fuzz-quick", parent=hypothesis_settings.get_profile("toasoan"), max_examples=12, suppress_health_check=_FUZZ_CHECKS
)
hypothesis_settings.register_profile(
    "fuzz",
    parent=hypothesis_settings.get_profile("toasoan"),
    max_examples=int(os.environ.get("TOASOAN_FUZZ_EXAMPLES") or 400),
    suppress_health_check=_FUZZ_CHECKS,
)


# The database of the tests' offices: `make test` runs the suite once on SQLite, then again with
# TOASOAN_TEST_DATABASE=postgresql, leaving out the tests marked `no_database` (they open none),
# `sqlite_only` (they are about SQLite itself: its file, its locks, its FTS5 index) and `picks_databases`
# (they name their SQLite and PostgreSQL databases themselves, so the first pass ran them on both).
BACKEND = os.environ.get("TOASOAN_TEST_DATABASE") or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"TOASOAN_TEST_DATABASE={BACKEND!r}: sqlite or postgresql")


def pytest_configure(config: pytest.Config) -> None:
    # aiosmtpd warns whenever AUTH is allowed without *STARTTLS*, including on an implicit-TLS sink.
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


def pytest_report_header(config: pytest.Config) -> str:
    return f"toasoan: the offices of this run are on {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "sqlite":
        return
    marks = ("no_database", "sqlite_only", "picks_databases")
    left_out = {i for i in items if any(i.get_closest_marker(m) for m in marks)}
    if left_out:
        config.hook.pytest_deselected(items=[i for i in items if i in left_out])
        items[:] = [i for i in items if i not in left_out]


@pytest.fixture(scope="session", autouse=True)
def _database_of_the_run(request: pytest.FixtureRequest) -> None:
    """Points `appkit.write_settings` at this run's backend (see BACKEND), for the whole session: module
    fixtures write their offices before any test's own fixtures run."""
    if BACKEND == "postgresql":
        appkit.use_database(postgres=request.getfixturevalue("postgres_at_head"))


@pytest.fixture(autouse=True)
def _no_database_means_none(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked `no_database` that writes an office fails: the mark would hide it from the
    PostgreSQL pass."""
    appkit.opens_no_database(bool(request.node.get_closest_marker("no_database")))
    yield
    appkit.opens_no_database(False)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[servers.Dovecot]:
    """One Dovecot per worker. Never stop/restart it in a test: use `dovecot_private` for that."""
    with servers.dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def lmtp_bridge(dovecot_server: servers.Dovecot) -> Iterator[servers.LmtpBridge]:
    """SMTP -> LMTP bridge into `dovecot_server`, on its submission relay port (so submission works too)."""
    with servers.lmtp_bridge(dovecot_server, port=dovecot_server.relay_port) as bridge:
        yield bridge


@pytest.fixture
def mail_user(dovecot_server: servers.Dovecot, lmtp_bridge: servers.LmtpBridge) -> servers.MailUser[servers.Dovecot]:
    """A fresh user on the shared Dovecot; `.deliver(raw)` goes through the bridge (a real SMTP hop)."""
    if not dovecot_server.running:
        raise RuntimeError("a test stopped the shared dovecot_server; tests that stop it must use dovecot_private")
    return servers.new_mail_user(dovecot_server, lmtp_bridge)


@pytest.fixture
def smtp_sink(request: pytest.FixtureRequest) -> Iterator[servers.SmtpSink]:
    """A fresh, started SMTP sink. Options via indirect parametrization, e.g.
    `@pytest.mark.parametrize("smtp_sink", [{"security": "tls", "username": "u", "password": "p"}],
    indirect=True)`.
    """
    options = getattr(request, "param", None) or {}
    with servers.smtp_sink(**options) as sink:
        yield sink


@pytest.fixture
def dovecot_private() -> Iterator[servers.Dovecot]:
    """A Dovecot of this test alone: restart it, stop it, reset mailboxes at will (≈1 s to stop)."""
    with servers.dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def cyrus_server() -> Iterator[servers.Cyrus]:
    """One Cyrus IMAP per worker, laid out as Debian's default (folders under "INBOX."). Never stop it in
    a test: start a `servers.cyrus()` of the test's own for that."""
    with servers.cyrus() as server:
        yield server


@pytest.fixture
def cyrus_user(cyrus_server: servers.Cyrus) -> servers.MailUser[servers.Cyrus]:
    """A fresh user on the shared Cyrus; `.deliver(raw)` goes over Cyrus's LMTP."""
    if not cyrus_server.running:
        raise RuntimeError("a test stopped the shared cyrus_server")
    return servers.new_mail_user(cyrus_server)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One Chromium per test process, for every browser test: Playwright's sync API refuses a second
    instance while one is running in the same thread (two module-scoped browsers on one worker did)."""
    from tests.review.browserkit import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.Postgres]:
    """One PostgreSQL per worker; tests take a fresh database each with `.new_database()`."""
    with servers.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_at_head(postgres_server: servers.Postgres) -> Callable[[], str]:
    """New databases already migrated to the head revision: a copy of one database migrated once per
    worker (migrating each test's database would add seconds to every test)."""
    from core.db import make_engine
    from toasoan.database import upgrade

    url = postgres_server.new_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    template = url.rsplit("/", 1)[1]
    return lambda: postgres_server.new_database(template=template)


@pytest.fixture(scope="session")
def wordpress_server() -> Iterator[WordPress]:
    """A real WordPress (MariaDB + php -S) with an editor account, one per worker session (≈2 s to
    start, measured with load average 9; the first start on a machine adds ≈1–5 s to build the
    MariaDB datadir template). Tests that use it carry `pytest.mark.xdist_group("wordpress")`, so under
    `--dist loadgroup` they run on one worker and one WordPress serves them all. A test may take the web
    server down only through `wordpress_server.web_down()`, which brings it back on the same port."""
    with wordpress() as server:
        yield server
