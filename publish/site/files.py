"""Atomic file writes for the site: a reader (or the web server) sees the old file or the new one, never half.

The site is derived data (`toasoan site rebuild` makes it again), so pages are not fsynced one by one;
the rename is what makes each write all-or-nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

__all__ = ["TMP_MARK", "copy_atomic", "read_json", "write_atomic", "write_if_changed", "write_json"]

TMP_MARK = ".tmp-"


def _tmp_name(path: Path) -> Path:
    return path.parent / f"{TMP_MARK}{path.name}.{os.getpid()}.{threading.get_ident()}"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temp file in the same folder and a rename."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """`write_atomic` unless the file already holds exactly `data` (small files rewritten by every change)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.read_bytes() == raw:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, raw)
    return True


def copy_atomic(source: Path, target: Path) -> None:
    """`target` becomes a copy of `source` (a hard link when both are on one file system)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(target)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return default
