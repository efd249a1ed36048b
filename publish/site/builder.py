"""`Site`: the static site on disk. Publishing one article rewrites only the pages it appears on.

One article published (or updated, or withdrawn) touches: its own page, the archive page of its
section that lists it and the section's index, the home page, the feed, one sitemap shard and the
sitemap index, one search shard and the search index, one catalog shard — a constant amount of work
whatever the size of the site. `rebuild` writes everything again from the articles given, the
article pages in worker processes (one per core).

Operations on one site take an exclusive lock (`_data/.lock`, flock), so two publish jobs in two
processes never interleave their read-modify-write of the catalog.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.site import render
from publish.site.catalog import FEED_KEEP, PAGE_SIZE, SHARD_SIZE, Catalog, Entry, Record, entry_of, shard_of
from publish.site.files import TMP_MARK, Staged, copy_atomic, read_json, write_atomic, write_if_changed, write_json
from publish.site.images import make_renditions
from publish.site.render import ASSETS, SiteContext
from publish.targets import PublishArticle

__all__ = ["Progress", "RebuildReport", "Site", "article_path"]

Progress = Callable[[int, int], None]  # (done, total) article pages
CHUNK = 250  # article pages per task handed to a worker process


def article_path(article: PublishArticle) -> str:
    """Where an article first goes: `<section>/<slug>-<id>.html` (kept for good once the catalog has it)."""
    return f"{article.section}/{article.slug}-{article.draft_id}.html"


@dataclass(frozen=True)
class RebuildReport:
    articles: int
    withdrawn: int
    section_pages: int
    seconds: float = 0.0


class Site:
    def __init__(self, root: Path, context: SiteContext) -> None:
        self.root = Path(root)
        self.context = context
        self.catalog = Catalog(self.root)

    def url(self, path: str) -> str:
        return self.context.base_url + path

    def path_of_url(self, url: str) -> str | None:
        """The site-relative path a URL of this site names (None for another address)."""
        if not url.startswith(self.context.base_url):
            return None
        rel = url[len(self.context.base_url) :]
        return rel if rel and ".." not in rel.split("/") and not rel.startswith("/") else None

    def file(self, path: str) -> Path:
        return self.root / path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.catalog.data.mkdir(parents=True, exist_ok=True)
        with open(self.catalog.data / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ================================================================================ one article
    def publish(self, article: PublishArticle, fallback_path: str | None = None) -> str:
        """Put the article (or its newer revision) on the site; its site-relative path."""
        with self._locked():
            cat = self.catalog
            sections = cat.sections()
            ctx = self.context.with_sections({**sections, article.section: {"name": article.section_name}})
            k = shard_of(article.draft_id)
            shard = cat.shard(k)
            old = shard.get(str(article.draft_id))
            path = old["path"] if old else (fallback_path or article_path(article))
            record = render.article_record(article, path, ctx.tz)
            _copy_photos(self.root, article, ctx.image_widths)
            write_atomic(self.file(path), render.article_page(ctx, article, path))
            if old and not old["withdrawn"] and old.get("page") and old["section"] == article.section:
                record["page"] = old["page"]
                self._replace_on_page(ctx, sections, record)
            else:
                if old and not old["withdrawn"] and old.get("page"):
                    self._remove_from_page(ctx, sections, old)
                self._append(ctx, sections, record)
            cat.write_sections(sections)
            shard[str(article.draft_id)] = record
            cat.write_shard(k, shard)
            feed = [e for e in cat.feed() if e["id"] != article.draft_id]
            feed.append(entry_of(record))
            feed.sort(key=lambda e: (e["date"], e["id"]), reverse=True)
            touched = {article.section} | ({old["section"]} if old and old.get("page") else set())
            self._lists_changed(ctx, sections, touched, feed, k, shard)
            return path

    def withdraw(self, draft_id: int, fallback_path: str | None = None) -> str | None:
        """Replace the article's page with the withdrawal notice and take it out of every list."""
        with self._locked():
            cat = self.catalog
            sections = cat.sections()
            ctx = self.context.with_sections(sections)
            k = shard_of(draft_id)
            shard = cat.shard(k)
            record = shard.get(str(draft_id))
            path = record["path"] if record else fallback_path
            if path is None:
                return None
            write_atomic(self.file(path), render.withdrawn_page(ctx, path))
            if record is None:
                return path
            if not record["withdrawn"] and record.get("page"):
                self._remove_from_page(ctx, sections, record)
                cat.write_sections(sections)
            record.update(withdrawn=True, page=None)
            cat.write_shard(k, shard)
            feed = [e for e in cat.feed() if e["id"] != draft_id]
            self._lists_changed(ctx, sections, {record["section"]}, feed, k, shard)
            return path

    def record(self, draft_id: int) -> Record | None:
        got: Record | None = self.catalog.shard(shard_of(draft_id)).get(str(draft_id))
        return got

    # --- section pages
    def _append(self, ctx: SiteContext, sections: dict[str, Any], record: Record) -> None:
        slug = record["section"]
        meta = sections.setdefault(slug, {"name": record["section_name"], "pages": 0, "count": 0})
        meta["name"] = record["section_name"]
        pages = meta["pages"]
        entries = self.catalog.page(slug, pages) if pages else []
        if not pages or len(entries) >= PAGE_SIZE:
            pages += 1
            entries = []
        record["page"] = pages
        entries.append(entry_of(record))
        meta.update(pages=pages, count=meta["count"] + 1)
        self._write_page(ctx, slug, meta, pages, entries)

    def _replace_on_page(self, ctx: SiteContext, sections: dict[str, Any], record: Record) -> None:
        slug, n = record["section"], record["page"]
        meta = sections[slug]
        entries = [entry_of(record) if e["id"] == record["id"] else e for e in self.catalog.page(slug, n)]
        self._write_page(ctx, slug, meta, n, entries)

    def _remove_from_page(self, ctx: SiteContext, sections: dict[str, Any], record: Record) -> None:
        slug, n = record["section"], record["page"]
        meta = sections.get(slug)
        if meta is None:
            return
        entries = [e for e in self.catalog.page(slug, n) if e["id"] != record["id"]]
        meta["count"] = max(0, meta["count"] - 1)
        self._write_page(ctx, slug, meta, n, entries)

    def _write_page(self, ctx: SiteContext, slug: str, meta: dict[str, Any], n: int, entries: list[Entry]) -> None:
        self.catalog.write_page(slug, n, entries)
        write_atomic(
            self.file(f"{slug}/trang-{n}.html"), render.section_page(ctx, slug, meta["name"], meta["pages"], entries, n)
        )

    def _write_index(self, ctx: SiteContext, slug: str, meta: dict[str, Any]) -> None:
        newest = self.catalog.newest(slug, meta["pages"], PAGE_SIZE)
        write_atomic(
            self.file(f"{slug}/index.html"), render.section_page(ctx, slug, meta["name"], meta["pages"], newest, None)
        )

    # --- what every change rewrites
    def _lists_changed(
        self,
        ctx: SiteContext,
        sections: dict[str, Any],
        touched: set[str],
        feed: list[Entry],
        k: int,
        shard: dict[str, Record],
    ) -> None:
        """The lists after one article changed in the sections `touched` and in shard `k`."""
        cat = self.catalog
        cat.write_feed(feed)
        for s in ctx.sections:  # the touched sections' index pages; the others' only once (the menu links them)
            if s.slug in touched or not self.file(f"{s.slug}/index.html").exists():
                meta = sections.get(s.slug) or {"name": s.name, "pages": 0, "count": 0}
                self._write_index(ctx, s.slug, meta)
        write_atomic(self.file("feed.xml"), render.feed(ctx, feed))
        self._write_home(ctx, sections, feed)
        records = list(shard.values())
        write_atomic(self.file(f"sitemap-{k}.xml"), render.sitemap(ctx, _urls(records)))
        lastmods = dict(read_json(cat.data / "sitemap.json", {}))
        lastmods[str(k)] = max((r["date"] for r in records), default=None)
        write_json(cat.data / "sitemap.json", lastmods)
        self._write_sitemap_index(ctx, lastmods)
        write_json(self.file(f"search/{k}.json"), render.search_rows(records))
        known = {int(x) for x in lastmods}
        write_if_changed(self.file("search/index.json"), _json({"shards": sorted(known, reverse=True)}))
        self._write_fixed(ctx, only_missing=True)

    def _write_home(self, ctx: SiteContext, sections: dict[str, Any], feed: list[Entry]) -> None:
        blocks = []
        for s in ctx.sections:
            meta = sections.get(s.slug)
            entries = self.catalog.newest(s.slug, meta["pages"], render.HOME_PER_SECTION) if meta else []
            blocks.append({"slug": s.slug, "name": s.name, "entries": entries})
        write_atomic(self.file("index.html"), render.home_page(ctx, feed, blocks))

    def _write_sitemap_index(self, ctx: SiteContext, lastmods: dict[str, Any]) -> None:
        write_atomic(self.file("sitemap.xml"), render.sitemap_index(ctx, self._sitemap_shards(lastmods)))
        write_if_changed(self.file("sitemap-trang.xml"), render.sitemap(ctx, self._fixed_pages(ctx)))

    @staticmethod
    def _sitemap_shards(lastmods: dict[str, Any]) -> list[dict[str, Any]]:
        shards = [{"name": "sitemap-trang.xml", "lastmod": None}]
        return shards + [{"name": f"sitemap-{k}.xml", "lastmod": lastmods[k]} for k in sorted(lastmods, key=int)]

    @staticmethod
    def _fixed_pages(ctx: SiteContext) -> list[dict[str, Any]]:
        pages = [{"path": "index.html", "date": None}, {"path": "tim-kiem.html", "date": None}]
        return pages + [{"path": f"{s.slug}/index.html", "date": None} for s in ctx.sections]

    def _write_fixed(self, ctx: SiteContext, *, only_missing: bool) -> None:
        """The pages and assets that do not depend on the articles: the search page, CSS, JS."""
        for asset in sorted(ASSETS.iterdir()):
            target = self.file(f"assets/{asset.name}")
            if not only_missing or not target.exists():
                write_atomic(target, asset.read_bytes())
        if not only_missing or not self.file("tim-kiem.html").exists():
            write_atomic(self.file("tim-kiem.html"), render.search_page(ctx))

    # ===================================================================================== rebuild
    def rebuild(
        self, articles: Iterable[PublishArticle], progress: Progress | None = None, workers: int | None = None
    ) -> RebuildReport:
        """Write the whole site (pages, lists, feed, sitemap, search, catalog) from `articles`.

        Articles the catalog knew and `articles` no longer holds keep their URL with the withdrawal
        notice. The article pages are written by worker processes while this one renders the lists;
        the lists are staged under temp names and renamed into place once every page they link exists.
        Files of the lists that the new site no longer has (archive pages past the last, old shards)
        are removed at the end, so readers see the old site until the new one is complete.
        """
        import time

        started = time.perf_counter()
        with self._locked():
            cat = self.catalog
            old = cat.all_records()
            latest: dict[int, PublishArticle] = {}
            for a in articles:
                if a.draft_id not in latest or a.revision >= latest[a.draft_id].revision:
                    latest[a.draft_id] = a
            ordered = sorted(latest.values(), key=lambda a: (a.published_at, a.draft_id))
            ctx = self.context.with_sections({a.section: {"name": a.section_name} for a in ordered})
            jobs = [(a, old[a.draft_id]["path"] if a.draft_id in old else article_path(a)) for a in ordered]
            staged = Staged()
            with _ArticleWriter(self.root, ctx, jobs, progress, workers) as pages:
                try:
                    withdrawn, section_pages, written = self._stage_lists(ctx, jobs, old, staged)
                    done = pages.wait()
                except BaseException:
                    staged.discard()
                    raise
            if done != len(jobs):
                staged.discard()
                raise RuntimeError(f"rebuilt {done} article pages of {len(jobs)}")
            staged.commit()
            self._write_fixed(ctx, only_missing=False)
            self._remove_stale(written, {s.slug for s in ctx.sections})
            return RebuildReport(len(jobs), withdrawn, section_pages, time.perf_counter() - started)

    def _stage_lists(
        self, ctx: SiteContext, jobs: list[tuple[PublishArticle, str]], old: dict[int, Record], staged: Staged
    ) -> tuple[int, int, set[Path]]:
        """Every file of the site but the article pages and the fixed ones, staged: (withdrawn
        articles, archive pages, the files written)."""
        cat = self.catalog
        written: set[Path] = set()

        def put(path: Path, data: str | bytes) -> None:
            staged.write(path, data)
            written.add(path)

        records: dict[int, Record] = {}
        by_section: dict[str, list[Record]] = {s.slug: [] for s in ctx.sections}
        for a, path in jobs:
            r = render.article_record(a, path, ctx.tz)
            records[a.draft_id] = r
            by_section.setdefault(a.section, []).append(r)
        withdrawn = 0
        for draft_id, r in old.items():
            if draft_id not in records:
                r.update(withdrawn=True, page=None)
                records[draft_id] = r
                put(self.file(r["path"]), render.withdrawn_page(ctx, r["path"]))
                withdrawn += 1
        sections: dict[str, Any] = {}
        blocks = []
        section_pages = 0
        for s in ctx.sections:
            recs = by_section.get(s.slug, [])
            pages = (len(recs) + PAGE_SIZE - 1) // PAGE_SIZE
            sections[s.slug] = {"name": s.name, "pages": pages, "count": len(recs)}
            for n in range(1, pages + 1):
                chunk = recs[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]
                for r in chunk:
                    r["page"] = n
                entries = [entry_of(r) for r in chunk]
                put(cat.page_path(s.slug, n), _json(entries))
                put(self.file(f"{s.slug}/trang-{n}.html"), render.section_page(ctx, s.slug, s.name, pages, entries, n))
                section_pages += 1
            newest = [entry_of(r) for r in reversed(recs[-PAGE_SIZE:])]
            put(self.file(f"{s.slug}/index.html"), render.section_page(ctx, s.slug, s.name, pages, newest, None))
            blocks.append({"slug": s.slug, "name": s.name, "entries": newest[: render.HOME_PER_SECTION]})
        put(cat.data / "sections.json", _json(sections))
        shards: dict[int, dict[str, Record]] = {}
        for draft_id, r in records.items():
            shards.setdefault(shard_of(draft_id), {})[str(draft_id)] = r
        lastmods: dict[str, Any] = {}
        for k, shard in sorted(shards.items()):
            put(cat.shard_path(k), _json(shard))
            recs = list(shard.values())
            put(self.file(f"sitemap-{k}.xml"), render.sitemap(ctx, _urls(recs)))
            put(self.file(f"search/{k}.json"), _json(render.search_rows(recs)))
            lastmods[str(k)] = max((r["date"] for r in recs), default=None)
        put(cat.data / "sitemap.json", _json(lastmods))
        put(self.file("search/index.json"), _json({"shards": sorted(shards, reverse=True)}))
        put(self.file("sitemap.xml"), render.sitemap_index(ctx, self._sitemap_shards(lastmods)))
        put(self.file("sitemap-trang.xml"), render.sitemap(ctx, self._fixed_pages(ctx)))
        live = [r for r in records.values() if not r["withdrawn"]]
        live.sort(key=lambda r: (r["date"], r["id"]), reverse=True)
        feed = [entry_of(r) for r in live[:FEED_KEEP]]
        put(cat.data / "feed.json", _json(feed))
        put(self.file("feed.xml"), render.feed(ctx, feed))
        put(self.file("index.html"), render.home_page(ctx, feed, blocks))
        return withdrawn, section_pages, written

    def _remove_stale(self, written: set[Path], sections: Iterable[str]) -> None:
        candidates: list[Path] = [
            *self.catalog.data.glob("pages/*/*.json"),
            *self.catalog.data.glob("articles/*.json"),
            *self.root.glob("sitemap-[0-9]*.xml"),
            *self.root.glob("search/[0-9]*.json"),
        ]
        for slug in sections:
            candidates += self.root.glob(f"{slug}/trang-*.html")
        for path in candidates:
            if path not in written:
                path.unlink(missing_ok=True)
        for leftover in self.root.rglob(f"{TMP_MARK}*"):  # a crashed writer's temp file
            leftover.unlink(missing_ok=True)


def _json(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _urls(records: list[Record]) -> list[dict[str, Any]]:
    return [
        {"path": r["path"], "date": r["date"]} for r in sorted(records, key=lambda r: r["id"]) if not r["withdrawn"]
    ]


def _copy_photos(root: Path, article: PublishArticle, widths: tuple[int, ...]) -> None:
    """The files the article's page names: each photo's stored files and its smaller copies (made once)."""
    for photo in article.photos:
        for source, rel, _width in render.photo_files(photo):
            target = root / rel
            if not target.exists() and source.is_file():
                copy_atomic(source, target)
        make_renditions(root, render.photo_renditions(photo, widths))


# The jobs of the rebuild in progress, for workers made by fork: they inherit this list and take ranges of
# it, instead of unpickling every article's text from a pipe (spawned workers get their jobs pickled).
_FORKED_JOBS: list[tuple[PublishArticle, str]] = []

Task = tuple[Path, SiteContext, "list[tuple[PublishArticle, str]] | range"]


def _render_chunk(task: Task) -> int:
    root, ctx, items = task
    jobs = [_FORKED_JOBS[i] for i in items] if isinstance(items, range) else items
    for article, path in jobs:
        _copy_photos(root, article, ctx.image_widths)
        write_atomic(root / path, render.article_page(ctx, article, path))
    return len(jobs)


class _ArticleWriter:
    """The article pages, CHUNK at a time, in `workers` processes (default: one per core), started on
    entry; `wait` returns how many were written. A thread reports progress as chunks finish, so the
    caller is free to render the lists meanwhile."""

    def __init__(
        self,
        root: Path,
        ctx: SiteContext,
        jobs: list[tuple[PublishArticle, str]],
        progress: Progress | None,
        workers: int | None,
    ) -> None:
        self.total = len(jobs)
        self.progress = progress
        self.done = 0
        self.error: BaseException | None = None
        n = workers if workers is not None else (os.cpu_count() or 1)
        chunks = [range(i, min(i + CHUNK, self.total)) for i in range(0, self.total, CHUNK)]
        self.inline = n <= 1 or len(chunks) <= 1
        # fork is cheap and keeps the imports; with other threads alive (a server) forking is unsafe: spawn.
        self.method = "fork" if threading.active_count() == 1 else "spawn"
        if self.inline or self.method == "spawn":
            self.tasks: list[Task] = [(root, ctx, [jobs[i] for i in r]) for r in chunks]
        else:
            self.tasks = [(root, ctx, r) for r in chunks]
        self.jobs = jobs
        self.workers = min(n, len(chunks))
        self.pool: Any = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _ArticleWriter:
        if self.progress:
            self.progress(0, self.total)
        if self.inline:
            return self
        global _FORKED_JOBS
        _FORKED_JOBS = self.jobs
        try:
            self.pool = multiprocessing.get_context(self.method).Pool(self.workers)
        finally:
            _FORKED_JOBS = []  # the forked workers hold their copy
        results = self.pool.imap_unordered(_render_chunk, self.tasks)
        self.thread = threading.Thread(target=self._collect, args=(results,), name="site-rebuild", daemon=True)
        self.thread.start()
        return self

    def _collect(self, results: Iterator[int]) -> None:
        try:
            for count in results:
                self.done += count
                if self.progress:
                    self.progress(self.done, self.total)
        except BaseException as exc:  # re-raised by wait()
            self.error = exc

    def wait(self) -> int:
        if self.inline:
            for task in self.tasks:
                self.done += _render_chunk(task)
                if self.progress:
                    self.progress(self.done, self.total)
            return self.done
        assert self.thread is not None
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.done

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate() if exc[0] is not None else self.pool.close()
            self.pool.join()


__all__ += ["SHARD_SIZE"]
