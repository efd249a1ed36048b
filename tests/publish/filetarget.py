"""A small publish target for the runner's tests, registered as "filetest".

Why a test target: the real targets (static site, WordPress, manual) are tested on their own; the
runner's tests need a target that can be told to fail in each of the seam's ways (TargetUnavailable,
TargetRefused, CredentialsRefused, AwaitingManual) to drive the job state machine. It is a real target
all the same: it writes each article to a file, removes it on withdrawal, and reads pages back to verify.

The script of outcomes is a file (one outcome a line, consumed one a call): "ok", "unavailable",
"refused <message>", "credentials", "manual". Every call is appended to calls.jsonl.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

from core.settings import Settings
from publish.targets import (
    AwaitingManual,
    CredentialsRefused,
    Placed,
    PublishArticle,
    TargetRefused,
    TargetUnavailable,
    register,
)

NAME = "filetest"
BASE_URL = "https://portal.test/"
_LOCK = threading.Lock()


def root_of(settings: Settings) -> Path:
    return settings.base_dir / "filetest"


def script(settings: Settings, *outcomes: str) -> None:
    root = root_of(settings)
    root.mkdir(parents=True, exist_ok=True)
    (root / "script.txt").write_text("".join(f"{o}\n" for o in outcomes), encoding="utf-8")


def calls(settings: Settings) -> list[dict[str, object]]:
    path = root_of(settings) / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def page(settings: Settings, url: str) -> Path:
    return root_of(settings) / "site" / urlsplit(url).path.rsplit("/", 1)[-1]


class FileTarget:
    name = NAME

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = root_of(settings)

    def _next(self, call: dict[str, object]) -> None:
        with _LOCK:
            self.root.mkdir(parents=True, exist_ok=True)
            with (self.root / "calls.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(call, ensure_ascii=False) + "\n")
            path = self.root / "script.txt"
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            outcome = lines.pop(0) if lines else "ok"
            path.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
        kind, _, message = outcome.partition(" ")
        if kind == "unavailable":
            raise TargetUnavailable(message or "503 Service Unavailable")
        if kind == "refused":
            raise TargetRefused(message or "400 Bad Request")
        if kind == "credentials":
            raise CredentialsRefused(message or "401 Unauthorized")
        if kind == "manual":
            raise AwaitingManual("chờ biên tập viên đăng thủ công")

    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        self._next(
            {
                "action": "publish",
                "draft_id": article.draft_id,
                "revision": article.revision,
                "previous": previous.url if previous else None,
                "published_at": article.published_at.isoformat(),
            }
        )
        url = previous.url if previous else f"{BASE_URL}{article.section}/{article.slug}-{article.draft_id}.html"
        target = page(self.settings, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        body = article.body(lambda sha: f"{BASE_URL}media/{sha}")
        target.write_text(f"<h1>{article.title}</h1>\n{body}\n", encoding="utf-8")
        return Placed(url=url, remote_id=article.identity)

    def withdraw(self, article: PublishArticle, placed: Placed) -> None:
        self._next({"action": "withdraw", "draft_id": article.draft_id, "url": placed.url})
        page(self.settings, placed.url).unlink(missing_ok=True)

    def verify(self, placed: Placed, title: str) -> bool:
        path = page(self.settings, placed.url)
        return placed.url.startswith(BASE_URL) and path.is_file() and title in path.read_text(encoding="utf-8")


register(NAME)(FileTarget)
