"""Fixtures of the web UI tests: a fresh office (settings, database, one account per role, the app)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.review.webkit import Office, make_office


@pytest.fixture
def new_office(tmp_path: Path) -> Iterator[Callable[..., Office]]:
    """make(**review_settings) -> Office; several offices per test get their own folders."""
    made: list[Office] = []

    def make(**review: Any) -> Office:
        office = make_office(tmp_path / f"office{len(made)}", review=review)
        made.append(office)
        return office

    yield make
    for office in made:
        office.close()


@pytest.fixture
def office(new_office: Callable[..., Office]) -> Office:
    return new_office()
