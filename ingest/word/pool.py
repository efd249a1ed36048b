"""The persistent pool of conversion worker processes behind `convert_document_isolated`.

One pool per process, started on first use; the worker, CLI and web server stop it on exit.
"""

from __future__ import annotations

import os
import threading

from ingest.word import sandbox

# The only classes a worker may send back (the pool unpickles nothing else).
_CLASSES = (
    ("ingest.word", "ConvertedDocument"),
    ("ingest.word", "ConvertedImage"),
    ("ingest.word.sniff", "DocumentError"),
    ("ingest.word.libreoffice", "LibreOfficeError"),
    ("ingest.word.libreoffice", "LibreOfficeMissing"),
    ("ingest.word.libreoffice", "LibreOfficeTimeout"),
    ("ingest.word.libreoffice", "LibreOfficeFailed"),
)

_pool: sandbox.WorkerPool | None = None
_lock = threading.Lock()
_size: int | None = None


def set_pool_size(size: int | None) -> None:
    """Number of worker processes (the `[ingest] workers` setting); None = one per CPU."""
    global _size
    _size = size if size and size > 0 else None


def get_pool() -> sandbox.WorkerPool:
    """The running pool; a new one when there is none or the last one became unusable."""
    global _pool
    with _lock:
        if _pool is None or not _pool.usable:
            size = int(os.environ.get("TOASOAN_WORD_WORKERS") or 0) or _size
            _pool = sandbox.WorkerPool(size, allowed_classes=_CLASSES, preload=("ingest.word", "ingest.word.docx"))
        return _pool


def shutdown_pool() -> None:
    """Stop the worker processes (they also exit on their own when this process ends)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown()
