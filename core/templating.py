"""The Jinja2 environment for everything users read (emails now; pages and documents later)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.formats import format_date, format_datetime, format_money, format_size

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),  # stays on: only sanitized fields are |safe
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date=format_date, datetime=format_datetime, money=format_money, size=format_size)
    return env


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
