"""What the site holds, kept beside it in `<site>/_data/` as small JSON files (written atomically).

    _data/articles/<k>.json        {draft id: record} for the ids k*1000 ... k*1000+999 (withdrawn ones too)
    _data/sections.json            {section slug: {"name", "pages", "count"}}
    _data/pages/<section>/<n>.json the entries of archive page n of a section, oldest first
    _data/feed.json                the newest entries across sections, newest first

Archive pages are numbered from the oldest: page 1 holds a section's first PAGE_SIZE articles and
never changes when an article is added; a new article goes on the newest page (a new page when that
one is full). An article shard is also the unit of the sitemap and of the search index: publishing
one article rewrites one shard of each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publish.site.files import read_json, write_json

__all__ = ["FEED_KEEP", "PAGE_SIZE", "SHARD_SIZE", "Catalog", "entry_of", "shard_of"]

PAGE_SIZE = 20  # articles per archive page
SHARD_SIZE = 1000  # article ids per catalog / sitemap / search shard
FEED_KEEP = 100  # entries kept for the feed and the home page (the feed shows FEED_SIZE)

Record = dict[str, Any]
Entry = dict[str, Any]

_ENTRY_KEYS = ("id", "path", "title", "lead", "date", "day", "thumb", "section", "section_name", "byline", "unit")


def shard_of(draft_id: int) -> int:
    return draft_id // SHARD_SIZE


def entry_of(record: Record) -> Entry:
    """What a list (section page, home, feed) shows of an article."""
    return {k: record.get(k) for k in _ENTRY_KEYS}


class Catalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "_data"

    # --- articles
    def shard_path(self, k: int) -> Path:
        return self.data / "articles" / f"{k}.json"

    def shard(self, k: int) -> dict[str, Record]:
        return dict(read_json(self.shard_path(k), {}))

    def write_shard(self, k: int, records: dict[str, Record]) -> None:
        write_json(self.shard_path(k), records)

    def shards(self) -> list[int]:
        folder = self.data / "articles"
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    def all_records(self) -> dict[int, Record]:
        out: dict[int, Record] = {}
        for k in self.shards():
            out.update({int(i): r for i, r in self.shard(k).items()})
        return out

    # --- sections
    def sections(self) -> dict[str, dict[str, Any]]:
        return dict(read_json(self.data / "sections.json", {}))

    def write_sections(self, sections: dict[str, dict[str, Any]]) -> None:
        write_json(self.data / "sections.json", sections)

    def page_path(self, section: str, n: int) -> Path:
        return self.data / "pages" / section / f"{n}.json"

    def page(self, section: str, n: int) -> list[Entry]:
        return list(read_json(self.page_path(section, n), []))

    def write_page(self, section: str, n: int, entries: list[Entry]) -> None:
        write_json(self.page_path(section, n), entries)

    def newest(self, section: str, pages: int, count: int) -> list[Entry]:
        """The `count` newest entries of a section, newest first (from its newest page or two)."""
        out: list[Entry] = []
        n = pages
        while n >= 1 and len(out) < count:
            out.extend(reversed(self.page(section, n)))
            n -= 1
        return out[:count]

    # --- feed
    def feed(self) -> list[Entry]:
        return list(read_json(self.data / "feed.json", []))

    def write_feed(self, entries: list[Entry]) -> None:
        write_json(self.data / "feed.json", entries[:FEED_KEEP])
