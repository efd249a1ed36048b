"""The suite's parallel run keeps its groups: under `--dist loadgroup` (`make test`) the tests marked
`xdist_group` run on one worker, so one WordPress, one fresh clone serves them all. A pytest upgrade
once broke that without a word (pytest 9.2, pytest-xdist issue 1386): each worker then started its own
servers and the suite ran minutes longer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.no_database


@pytest.mark.xdist_group(name="parallel_check")
def test_a_grouped_test_is_scheduled_with_its_group(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not a parallel run with --dist loadgroup (make test runs one)")
    # xdist schedules by the "@group" suffix it gives the node ids of grouped tests.
    assert request.node.nodeid.endswith("@parallel_check"), request.node.nodeid
