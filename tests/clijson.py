"""The CLI as the tests run it: `toasoan --config … ARGS` in this process, its exit code checked.

With `--json` among the arguments the answer is the parsed JSON the command printed (the shape the
CLI promises to keep); otherwise it is what the command wrote, as pytest captured it (out, err).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toasoan.cli import main


def cli(config: Path | str, *args: str, capsys: pytest.CaptureFixture[str], code: int = 0) -> Any:
    """Run the command and check its exit code: the JSON it printed with `--json`, else its output."""
    capsys.readouterr()  # what earlier steps printed is not this command's answer
    got = main(["--config", str(config), *args])
    out = capsys.readouterr()
    assert got == code, out
    return json.loads(out.out) if "--json" in args else out


def cli_json(config: Path | str, *args: str, capsys: pytest.CaptureFixture[str], code: int = 0) -> Any:
    """`cli` with `--json` added: the parsed answer."""
    return cli(config, *args, "--json", capsys=capsys, code=code)
