"""Content-addressed file store: the raw mail spool, Word files and images, named by sha256.

A write is durable before it returns (temp file, fsync, rename, fsync of the folder), so a database
row may point at it. Writing the same content twice is a no-op. Names never come from senders.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

AREAS = ("spool", "documents", "media")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, area: str, sha: str, suffix: str = "") -> Path:
        if area not in AREAS or len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
            raise ValueError(f"bad store reference {area}/{sha}")
        return self.root / area / sha[:2] / f"{sha}{suffix}"

    def put(self, area: str, data: bytes, *, sha: str | None = None, suffix: str = "", sync: bool = True) -> str:
        sha = sha or sha256_hex(data)
        final = self.path(area, sha, suffix)
        if final.exists():
            return sha
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if sync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:  # a full disk: the part written must not keep taking the space
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if sync:
            _fsync_dir(final.parent)
        return sha

    def get(self, area: str, sha: str, suffix: str = "") -> bytes:
        return self.path(area, sha, suffix).read_bytes()

    def exists(self, area: str, sha: str, suffix: str = "") -> bool:
        return self.path(area, sha, suffix).exists()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
