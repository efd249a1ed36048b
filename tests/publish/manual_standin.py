"""STAND-IN for publish/manual.py, which another engineer is writing in parallel (the lead wires the
real one at merge). It has the agreed API only: `build_package(article) -> ManualPackage` (title, lead,
body_html, captions, photos, zip_bytes) and a `ManualTarget` whose `publish` raises AwaitingManual.
Its `verify` reads the page from the test target's folder (tests/publish/filetarget.py) instead of
over HTTP. Installed as the module `publish.manual` by the web tests' fixture, for those tests only."""

from __future__ import annotations

import importlib.machinery
import io
import types
import zipfile
from dataclasses import dataclass, field

from core.settings import Settings
from publish.targets import AwaitingManual, Placed, PublishArticle
from tests.publish import filetarget


@dataclass(frozen=True)
class ManualPackage:
    title: str
    lead: str | None
    body_html: str
    captions: list[str] = field(default_factory=list)
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    zip_bytes: bytes = b""


def build_package(article: PublishArticle) -> ManualPackage:
    body = article.body(lambda sha: f"anh/{sha}.jpg")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("bai.html", f"<h1>{article.title}</h1>\n{body}")
    captions = [p.caption for p in article.photos if p.caption]
    return ManualPackage(article.title, article.lead, body, captions, [], buffer.getvalue())


class ManualTarget:
    name = "manual"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        raise AwaitingManual("chờ biên tập viên đăng thủ công")

    def withdraw(self, article: PublishArticle, placed: Placed) -> None:
        raise AwaitingManual("chờ biên tập viên gỡ bài thủ công")

    def verify(self, placed: Placed, title: str) -> bool:
        return filetarget.FileTarget(self.settings).verify(placed, title)


def module() -> types.ModuleType:
    standin = types.ModuleType("publish.manual")
    standin.__spec__ = importlib.machinery.ModuleSpec("publish.manual", None)
    standin.ManualPackage = ManualPackage  # type: ignore[attr-defined]
    standin.build_package = build_package  # type: ignore[attr-defined]
    standin.ManualTarget = ManualTarget  # type: ignore[attr-defined]
    return standin


__all__ = ["ManualPackage", "ManualTarget", "build_package", "module"]
