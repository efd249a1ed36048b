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

__all__ = ["TMP_MARK", "Staged", "copy_atomic", "read_json", "write_atomic", "write_if_changed", "write_json"]

TMP_MARK = ".tmp-"


def _tmp_name(path: Path) -> Path:
    return path.parent / f"{TMP_MARK}{path.name}.{os.getpid()}.{threading.get_ident()}"


def _write_tmp(path: Path, raw: bytes) -> Path:
    """`raw` in a temp file beside `path` (its folder made when missing); the caller renames it."""
    tmp = _tmp_name(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        fd = os.open(tmp, flags, 0o666)
    except FileNotFoundError:  # the folder's first file: one mkdir then, not one per write
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temp file in the same folder and a rename."""
    tmp = _write_tmp(path, data.encode("utf-8") if isinstance(data, str) else data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


class Staged:
    """Files written now under temp names and renamed into place together by `commit`: a rebuild
    renders its lists while the article pages are being written, and links them only once those exist."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def write(self, path: Path, data: str | bytes) -> None:
        self._pending.append((_write_tmp(path, data.encode("utf-8") if isinstance(data, str) else data), path))

    def commit(self) -> None:
        for tmp, path in self._pending:
            os.replace(tmp, path)
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._pending.clear()


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
