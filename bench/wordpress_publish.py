"""WordPress publishing: toasoan's own time per article beyond the REST calls themselves.

A real WordPress (Debian's package, php -S with 4 workers, a throwaway MariaDB; tests/wordpress.py)
on loopback. N articles (`--n`), each a one-page body with two 1200x800 photos (the web renditions
ingest makes), are published through `WordPressTarget.publish` as the job runner calls it: first with
`previous=None` (identity lookup, media lookup, two uploads, the post), then again as a corrected
revision (lookup of the photos, the post updated). The target's HTTP seam counts the wall time spent
inside httpx requests; toasoan's overhead is the rest of each publish call (rendering the body through
`compose`, reading the photos, building payloads, JSON). Printed: per-article median and p90 of both,
and overhead / total for each leg. Target: overhead ≤ 20% of the time per article.

    .venv/bin/python -m bench.wordpress_publish [--n 30] [--quick]
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, BenchError, load_before, median, parser, percentile, print_table, verdict, write_result
from bench.summary import headline

NAME = "wordpress_publish"
TARGET_OVERHEAD = 0.20  # share of the time per article spent outside HTTP requests
PHOTOS = 2


def run(*, n: int | None = None, quick: bool = False, results_dir: Path = RESULTS_DIR) -> dict[str, Any]:
    from publish.targets import PublishArticle
    from publish.wordpress import WordPressTarget
    from tests.publish.articles import article, photo_file
    from tests.wordpress import wordpress

    n = n or (3 if quick else 30)
    load = load_before()
    print(f"{NAME}: {n} articles with {PHOTOS} photos each, created then updated, against a real WordPress")
    with tempfile.TemporaryDirectory(prefix="toasoan-bench-") as tmp, wordpress() as wp:
        print(f"  WordPress ready in {wp.start_seconds:.2f} s")
        workdir = Path(tmp)
        articles = []
        for i in range(n + 1):  # photos are built before anything is timed; the first article warms up
            a = article(workdir / str(i), photos=0, title=f"Hội nghị sơ kết công tác xây dựng Đảng số {i}")
            photos = []
            for k in range(PHOTOS):
                sha, path = photo_file(workdir, seed=i * 10 + k, width=1200, height=800)
                photos.append(_photo(sha, path, k))
            body = a.body_html + "".join(
                f'<figure><img src="/media/{p.sha256}"><figcaption>c</figcaption></figure>' for p in photos
            )
            articles.append(dataclasses.replace(a, photos=tuple(photos), body_html=body))
        target = WordPressTarget(wp.url, wp.editor, wp.editor_password, timeout=60)
        try:
            target.publish(articles[0], None)  # credentials check, category created: not timed
            create, placed = _leg(target, articles[1:], [None] * n)
            revised: list[PublishArticle] = [
                dataclasses.replace(a, revision=2, title=a.title + " (đính chính)") for a in articles[1:]
            ]
            update, again = _leg(target, revised, placed)
        finally:
            target.close()
        if [p.remote_id for p in again] != [p.remote_id for p in placed]:
            raise BenchError("an update created a new post instead of updating the first one")
        ours = [p for p in wp.posts() if "<!-- toasoan: toasoan-" in p["content"]["raw"]]
        media = [m for m in wp.all("/wp/v2/media") if m["slug"].startswith("toasoan-")]
        if len(ours) != n + 1 or len(media) != (n + 1) * PHOTOS:
            expected = f"{n + 1} posts and {(n + 1) * PHOTOS} photos"
            raise BenchError(f"expected {expected}, found {len(ours)} posts and {len(media)} photos")
        if not target.verify(again[-1], revised[-1].title):
            raise BenchError("the last post's public page does not show its corrected title")
        start_seconds = wp.start_seconds

    legs = {"create": create, "update": update}
    rows = []
    figures: dict[str, Any] = {}
    for name, samples in legs.items():
        total = [s["total"] for s in samples]
        http = [s["http"] for s in samples]
        own = [s["total"] - s["http"] for s in samples]
        share = sum(own) / sum(total)
        figures[name] = {
            "articles": len(samples),
            "requests_per_article": sum(s["requests"] for s in samples) / len(samples),
            "total_median_ms": median(total) * 1000,
            "total_p90_ms": percentile(total, 90) * 1000,
            "http_median_ms": median(http) * 1000,
            "own_median_ms": median(own) * 1000,
            "own_p90_ms": percentile(own, 90) * 1000,
            "overhead_share": share,
            "samples": samples,
        }
        rows.append(
            [
                name,
                figures[name]["requests_per_article"],
                figures[name]["total_median_ms"],
                figures[name]["http_median_ms"],
                figures[name]["own_median_ms"],
                figures[name]["own_p90_ms"],
                f"{share:.1%}",
            ]
        )
    print_table(
        f"Per article, {n} articles (milliseconds)",
        ["leg", "requests", "total median", "in HTTP median", "own median", "own p90", "own / total"],
        rows,
    )
    met = {name: figures[name]["overhead_share"] <= TARGET_OVERHEAD for name in legs}
    print_table(
        "Targets",
        ["figure", "measured", "target", "verdict"],
        [
            [f"{name}: toasoan's own share", f"{figures[name]['overhead_share']:.1%}", "≤ 20%", verdict(met[name])]
            for name in legs
        ],
    )
    print(f"  WordPress start (not timed above): {start_seconds:.2f} s")
    result = {
        "quick": quick,
        "load_average_before": load,
        "n": n,
        "photos_per_article": PHOTOS,
        "wordpress_start_seconds": start_seconds,
        **figures,
        "ratio": max(figures[name]["overhead_share"] for name in legs),
        "targets": {"overhead_share": TARGET_OVERHEAD},
        "met": met,
        "headline": [
            headline(
                NAME,
                f"WordPress {name}: toasoan's own share",
                figures[name]["overhead_share"],
                "%",
                f"≤ {TARGET_OVERHEAD:.0%}",
                met[name],
                baseline="time in HTTP",
                baseline_value=1 - figures[name]["overhead_share"],
            )
            for name in legs
        ],
    }
    write_result(results_dir, NAME, result)
    return result


def _photo(sha: str, path: Path, k: int) -> Any:
    """A photo as ingest leaves it: the original and its web rendition (here the same 1200 px file)."""
    from publish.targets import PublishPhoto

    return PublishPhoto(
        sha256=sha,
        caption=f"Ảnh {k + 1}: quang cảnh hội nghị",
        alt=None,
        content_type="image/jpeg",
        path=path,
        width=1200,
        height=800,
        web_path=path,
        web_content_type="image/jpeg",
        web_width=1200,
        web_height=800,
    )


def _leg(target: Any, articles: list[Any], previous: list[Any]) -> tuple[list[dict[str, float]], list[Any]]:
    samples = []
    placed = []
    for a, prev in zip(articles, previous, strict=True):
        requests, seconds = target.stats.requests, target.stats.seconds
        started = time.perf_counter()
        placed.append(target.publish(a, prev))
        total = time.perf_counter() - started
        samples.append(
            {"total": total, "http": target.stats.seconds - seconds, "requests": target.stats.requests - requests}
        )
    return samples, placed


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=None, help="articles (default 30, quick 3)")
    args = p.parse_args(argv)
    try:
        run(n=args.n, quick=args.quick, results_dir=args.results)
    except BenchError as exc:
        print(f"\n{NAME}: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
