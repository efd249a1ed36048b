"""scripts/find-python: the interpreter `make` builds the venv with (issue 8: Python 3.11 to 3.13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "find-python"


def find(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{path}:/usr/bin:/bin", "PYENV_ROOT": str(path / "no-pyenv")}
    env.pop("PYENV_VERSION", None)
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False)


def stub(path: Path, name: str, body: str) -> None:
    (path / name).write_text(f"#!/bin/sh\n{body}\n")
    (path / name).chmod(0o755)


def test_a_python_that_does_not_start_is_passed_over(tmp_path: Path) -> None:
    # A pyenv shim for an inactive version is on PATH but fails: the next one that runs is taken.
    stub(tmp_path, "python3.13", "echo 'pyenv: python3.13: command not found' >&2; exit 127")
    stub(tmp_path, "python3.12", "exit 127")
    (tmp_path / "python3.11").symlink_to(sys.executable)
    found = find(tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(tmp_path / "python3.11")


def test_the_newest_supported_python_wins(tmp_path: Path) -> None:
    (tmp_path / "python3.11").symlink_to(sys.executable)
    stub(tmp_path, "python3.13", f'exec "{sys.executable}" "$@"')  # a working 3.13 (this interpreter)
    assert find(tmp_path).stdout.strip() == str(tmp_path / "python3.13")


def test_no_supported_python_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    stub(empty, "python3", "exit 1")  # an old python3 that cannot run the check
    found = subprocess.run(
        ["/bin/bash", str(SCRIPT), "3.10"],
        capture_output=True,
        text=True,
        env={"PATH": str(empty), "PYENV_ROOT": str(tmp_path / "no-pyenv"), "HOME": str(tmp_path)},
        check=False,
    )
    assert found.returncode == 1
    assert "no working Python 3.10" in found.stderr
