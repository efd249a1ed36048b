"""Live markup in a page: what could run or load something the page's own code did not write.

One checker for the review UI and the static site; each says which scripts, images and style sheets
are its own."""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcset", "poster", "xlink:href", "background"}
FORBIDDEN_TAGS = {"iframe", "frame", "object", "embed", "svg", "math", "base", "applet", "style"}

Allowed = Callable[[str], bool]


def live_markup(html: str, *, script: Allowed, img: Allowed, link: Allowed) -> list[str]:
    """Everything in `html` that is not the page's own: should be empty. `script`, `img` and `link`
    say which src/href values are the page's own."""
    soup = BeautifulSoup(html, "lxml")
    found: list[str] = []
    for tag in soup.find_all(True):
        if tag.name == "script" and (not script(str(tag.get("src", ""))) or tag.get_text().strip()):
            found.append(f"script: {tag}")
        if tag.name in FORBIDDEN_TAGS:
            found.append(f"tag: {tag.name}")
        if tag.name == "meta" and tag.get("http-equiv"):
            found.append(f"meta refresh: {tag}")
        if tag.name == "link" and not link(str(tag.get("href", ""))):
            found.append(f"link: {tag}")
        if tag.name == "img" and not img(str(tag.get("src", ""))):
            found.append(f"img: {tag}")
        for name, value in tag.attrs.items():
            if name.lower().startswith("on") or name.lower() == "style":
                found.append(f"handler: {tag.name}[{name}]")
            if name.lower() in URL_ATTRIBUTES:
                text = value if isinstance(value, str) else " ".join(value)
                squashed = re.sub(r"[\s\x00-\x1f]", "", text).lower()  # browsers skip these in a scheme
                if squashed.startswith(("javascript:", "vbscript:", "data:")):
                    found.append(f"url: {tag.name}[{name}]={text}")
    return found
