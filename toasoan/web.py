"""The web application as `toasoan serve` runs it: settings -> database -> the review UI.

For a server started by hand: `uvicorn --factory toasoan.web:app_from_environment` (settings from
$TOASOAN_CONFIG, else ./settings.toml).
"""

from __future__ import annotations

from fastapi import FastAPI

from core.settings import Settings, check_serving, default_config_path, load_settings
from publish.site.serve import mount_site
from review.web import create_app
from toasoan.database import open_database


def build_app(settings: Settings) -> FastAPI:
    check_serving(settings)  # also when started by hand under uvicorn, not only by `toasoan serve`
    app = create_app(settings, open_database(settings))
    mount_site(app, settings)  # the static site at /site/
    return app


def app_from_environment() -> FastAPI:
    return build_app(load_settings(default_config_path()))
