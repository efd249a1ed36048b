"""The site under /site/ of `toasoan serve` (what `make run` shows; production serves the folder itself).

The catalog (`_data/`) and temp files sit inside the site folder: never served. A front web server
serving the folder must refuse them too (see the README: `location ~ /[_.]` → 404).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from core.settings import Settings

__all__ = ["MOUNT", "SiteFiles", "mount_site"]

MOUNT = "/site"


class SiteFiles(StaticFiles):
    """StaticFiles that answers 404 for anything under a name starting with '_' or '.'."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(("_", ".")) for part in PurePosixPath(path).parts):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def mount_site(app: Starlette, settings: Settings) -> None:
    folder = settings.resolve(settings.publish_static.path)
    folder.mkdir(parents=True, exist_ok=True)
    app.mount(MOUNT, SiteFiles(directory=folder, html=True), name="site")
