"""A progress bar for long work (the first sweep of a year of mail, a backup, a restore): counts and
time left, drawn by tqdm on the terminal; nothing at all when stderr is not a terminal (a log, a pipe,
a service) or the command answers in JSON, so a script or a log never sees it.

    with progress_bar("Sao lưu", unit="tệp", quiet=args.json) as bar:
        for done, item in enumerate(items, 1):
            ...
            bar(done, len(items), "12,3 MB")
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any, Protocol, TextIO

__all__ = ["HANDFUL", "Progress", "ProgressBar", "progress_bar"]

# Fewer items than this finish before a bar is worth reading: an ordinary sweep stays one log line.
HANDFUL = 20


class Progress(Protocol):
    def __call__(self, done: int, total: int, detail: str = "") -> None: ...


class ProgressBar:
    """(done, total[, detail]) -> the bar redrawn; thread-safe. Opened on the first call with a total of
    at least `minimum`, closed (its last line kept) by `close` or at the end of the `with` block."""

    def __init__(self, label: str, unit: str, stream: TextIO | None, minimum: int) -> None:
        self.label, self.unit, self.stream, self.minimum = label, unit, stream, minimum
        self._bar: Any = None
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, detail: str = "") -> None:
        if self.stream is None or total < self.minimum:
            return
        with self._lock:
            if self._bar is None:
                from tqdm import tqdm  # only a terminal pays for the import

                self._bar = tqdm(
                    total=total, desc=self.label, unit=" " + self.unit, file=self.stream,
                    dynamic_ncols=True, mininterval=0.2, leave=True, ascii=False,
                )  # fmt: skip
            bar = self._bar
            bar.total = total
            if detail:
                bar.set_postfix_str(detail, refresh=False)
            bar.update(max(0, done - bar.n))  # redraws at most every mininterval; threads may report out of order

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.refresh()
                self._bar.close()
                self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def progress_bar(
    label: str, *, unit: str, quiet: bool = False, minimum: int = 0, stream: TextIO | None = None
) -> ProgressBar:
    """A bar on `stream` (stderr) when it is a terminal and not `quiet` (--json); else one that draws
    nothing. `minimum`: no bar for fewer items than that."""
    stream = stream if stream is not None else sys.stderr
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: no terminal
        terminal = False
    return ProgressBar(label, unit, stream if terminal and not quiet else None, minimum)
