"""Reading a published page back, as a reader's browser would (anonymous GET), for `Target.verify`."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from publish.targets import TargetUnavailable

__all__ = ["PAGE_MAX", "fetch_page"]

PAGE_MAX = 5 * 1024 * 1024  # what verify reads of a page at most


def fetch_page(url: str, timeout: float) -> str | None:
    """The page at a public http(s) URL as text, redirects followed (at most 5); None for a 4xx, too
    many redirects or a URL that is not http(s). Network errors, timeouts and 5xx are
    `TargetUnavailable` (ask again later). At most `PAGE_MAX` bytes are read.

    Only a yes/no about the page ever leaves this function's callers: the URL may have been typed by
    a person (the manual target), so nothing fetched is shown or stored.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    host = urlsplit(url).netloc
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", url, headers={"User-Agent": "toasoan"}) as r,
        ):
            if r.status_code >= 500 or r.status_code in (408, 429):
                raise TargetUnavailable(f"{host} đang lỗi (HTTP {r.status_code})")
            if r.status_code != 200:
                return None
            body = bytearray()
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) >= PAGE_MAX:
                    break
            return bytes(body[:PAGE_MAX]).decode(r.encoding or "utf-8", "replace")
    except httpx.TooManyRedirects:
        return None
    except httpx.TransportError as exc:
        raise TargetUnavailable(f"Không mở được {host}: {type(exc).__name__}") from None
