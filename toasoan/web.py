"""The web application as `toasoan serve` runs it: settings -> database -> the review UI.

For a server started by hand: `uvicorn --factory toasoan.web:app_from_environment` (settings from
$TOASOAN_CONFIG, else ./settings.toml).
"""

from __future__ import annotations

from fastapi import FastAPI

from core.settings import Settings, check_serving, default_config_path, load_settings
from review.web import create_app
from toasoan.database import open_database


def build_app(settings: Settings) -> FastAPI:
    check_serving(settings)  # also when started by hand under uvicorn, not only by `toasoan serve`
    return create_app(settings, open_database(settings))


def app_from_environment() -> FastAPI:
    return build_app(load_settings(default_config_path()))
