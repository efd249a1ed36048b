"""What every `toasoan` subcommand module shares: the usage error with its exit code, the database
opened for a command, JSON on stdout, and the quiet mail delivery after an action.

A module of its own (not toasoan.cli) so that the subcommand modules import it at the top without a
cycle, and `python -m toasoan.cli` catches the same CliError class the subcommands raise.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from core.formats import json_text
from core.settings import Settings

log = logging.getLogger("toasoan")

EXIT_USAGE, EXIT_CONFIG, EXIT_MAILBOX, EXIT_DATABASE = 1, 2, 3, 4
EXIT_FOLDER = 7  # 5 and 6 are cli_publish's and cli_status's


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data))


def open_engine(settings: Settings) -> Any:
    """The database of the settings, its schema brought up to date (exit 4 when it cannot be reached)."""
    from toasoan.database import DatabaseUnavailable, open_database

    try:
        return open_database(settings)
    except DatabaseUnavailable as exc:  # its message names the database without the password
        raise CliError(str(exc), EXIT_DATABASE) from None


def deliver_quietly(settings: Settings, engine: Any) -> None:
    """Send the mail an action queued now; a failure is logged and retried later by the worker."""
    from core.outbox import deliver_due

    try:
        deliver_due(engine, settings)
    except Exception as exc:  # sending is retried later; it never fails the command
        log.warning("outbox delivery failed: %s", exc)
