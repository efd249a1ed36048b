"""The editorial board's web UI (server-rendered FastAPI + Jinja2, in Vietnamese)."""

from review.web.app import create_app

__all__ = ["create_app"]
