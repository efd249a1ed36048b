"""Errors a person reads: the Vietnamese for the pages, the English beside it for logs and the CLI.

The web layer shows `exc.vi` alone; `str(exc)` stays "tiếng Việt / English", which is what the CLI
prints and the logs record. Keeping the halves apart means no page ever splits a message at " / ".
"""

from __future__ import annotations


class Bilingual(Exception):
    """An error with its Vietnamese and its English apart; without English, `str()` is the Vietnamese."""

    def __init__(self, vi: str, en: str = "") -> None:
        super().__init__(vi, en)  # both in args: a copied or pickled error keeps its two halves
        self.vi = vi
        self.en = en

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}" if self.en else self.vi
