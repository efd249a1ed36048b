"""The `toasoan` command. Every subcommand is safe to run twice.

Exit codes: 0 success (a quarantined message is not a failure), 1 bad usage or not found,
2 configuration error (or a backup or restore refused), 3 mailbox unreachable, 4 database
unreachable, 5 a publish job failed (`publish --once`), 6 `status` has a warning, 7 the mailbox is
reachable but a folder cannot be created or opened (the processed folder refused: a setting to change).

Each area registers its own subcommands (toasoan/cli_*.py, publish.site.cli, reports.cli); this
module only assembles the parser and runs the chosen command.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.db import redact
from core.settings import Settings, SettingsError, default_config_path, load_settings
from ingest.mailbox import FolderError, MailboxError
from publish.site.cli import add_parser as add_site_parser
from reports import cli as reports_cli
from toasoan.backup import add_backup_commands
from toasoan.cli_common import (
    EXIT_CONFIG,
    EXIT_DATABASE,
    EXIT_FOLDER,
    EXIT_MAILBOX,
    EXIT_USAGE,
    CliError,
    deliver_quietly,
    open_engine,
    print_json,
)
from toasoan.cli_drafts import add_drafts_command
from toasoan.cli_inbox import add_inbox_command
from toasoan.cli_outbox import add_outbox_command
from toasoan.cli_publish import add_publish_commands
from toasoan.cli_run import add_ingest_commands, add_serve_command
from toasoan.cli_run import serve as serve  # the benchmark starts the product's server through here
from toasoan.cli_setup import add_db_command, add_demo_command, add_seed_command
from toasoan.cli_status import add_status_command
from toasoan.cli_users import add_users_command

__all__ = [
    "EXIT_CONFIG",
    "EXIT_DATABASE",
    "EXIT_FOLDER",
    "EXIT_MAILBOX",
    "EXIT_USAGE",
    "CliError",
    "build_parser",
    "main",
    "serve",
]

# The names the subcommand modules of other areas (toasoan.backup) import from here.
_print_json, _engine, _deliver_quietly = print_json, open_engine, deliver_quietly

# In the order `toasoan --help` lists them; each adds its subparsers to the main parser's.
REGISTRATIONS: tuple[Callable[[Any], None], ...] = (
    add_ingest_commands,  # ingest, worker
    add_inbox_command,
    add_drafts_command,
    add_users_command,
    add_serve_command,
    add_demo_command,
    add_outbox_command,
    add_publish_commands,
    add_status_command,
    add_backup_commands,
    add_seed_command,
    add_db_command,
    lambda sub: add_site_parser(sub, open_engine),  # site rebuild
    lambda sub: reports_cli.register(sub, open_engine),  # report ...
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="toasoan", description="Tòa soạn: tiếp nhận, biên tập, đăng bài cộng tác.")
    p.add_argument("--config", "-c", type=Path, default=None, help="settings.toml (default: $TOASOAN_CONFIG)")
    p.add_argument("--verbose", "-v", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    for register in REGISTRATIONS:
        register(sub)
    return p


def _configure_logs(fmt: str, database_url: str) -> None:
    """The log format of the settings, with the ids of the work and without the database password.
    Only the stderr handler basicConfig made: a host's own handlers (pytest's capture) keep theirs."""
    from core.logs import configure

    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            configure(handler, fmt, database_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema checks run on every command
    func: Callable[[Settings, argparse.Namespace], int] = args.func
    database_url = ""
    try:
        settings = load_settings(args.config or default_config_path())
        database_url = settings.database_url
        _configure_logs(settings.logging.format, database_url)
        return func(settings, args)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except FolderError as exc:  # before MailboxError, its base: not the network, a folder setting
        print(str(exc), file=sys.stderr)
        return EXIT_FOLDER
    except MailboxError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_MAILBOX
    except SQLAlchemyError as exc:
        print(f"Lỗi cơ sở dữ liệu / database error: {redact(str(exc), database_url)}", file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
