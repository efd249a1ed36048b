"""The raw mail spool: every email exactly as it was received, named by its sha256 (core.storage's
"spool" area). The one place that spells where a message's raw copy lives: intake writes it before
anything is acknowledged, and the CLI, the review UI and the diagnostics read it through here."""

from __future__ import annotations

from pathlib import Path

from core.storage import Store

__all__ = ["path", "put", "read"]

AREA = "spool"
SUFFIX = ".eml"


def put(store: Store, raw: bytes, sha: str) -> str:
    """Store `raw` durably (fsync'd) under its sha256 and return it."""
    return store.put(AREA, raw, sha=sha, suffix=SUFFIX)


def path(store: Store, raw_sha256: str) -> Path:
    return store.path(AREA, raw_sha256, SUFFIX)


def read(store: Store, raw_sha256: str) -> bytes:
    return path(store, raw_sha256).read_bytes()
