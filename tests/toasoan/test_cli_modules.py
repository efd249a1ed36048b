"""The subcommands live in their own modules (toasoan/cli_*.py) and share toasoan.cli_common: run as
`python -m toasoan.cli` (the module is then `__main__`, a second copy of toasoan.cli), a refusal
raised in a subcommand module is still the CliError that main() catches, so the user reads a message
and an exit code, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.appkit import write_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["publish", "retry", "999"], "Không có việc đăng bài số 999 / no publish job 999"),
        (["inbox", "show", "999"], "Không có thư số 999 / no inbound message 999"),
        (["drafts", "show", "999"], "Không có bài số 999 / no draft 999"),
    ],
)
def test_a_refusal_under_python_m_is_a_message_and_exit_1(tmp_path: Path, args: list[str], message: str) -> None:
    config = write_settings(tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == message
