"""The real-file corpus is where tests/corpus.py says: 49 files in the repository with their licences,
21 outside it, 70 in all; the in-repository copies are the external files' exact bytes."""

from __future__ import annotations

import re

import pytest

from tests import corpus as real

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

SOURCES = (real.IN_REPO / "SOURCES.md").read_text(encoding="utf-8")


def documented_copies() -> set[str]:
    """folder/name of every entry (### `name` under ## folder/) before the left-out list."""
    copies, folder = set(), None
    for line in SOURCES.split("## Left out")[0].splitlines():
        if m := re.match(r"## (\S+)/ ", line):
            folder = m[1]
        elif m := re.match(r"### `([^`]+)`", line):
            copies.add(f"{folder}/{m[1]}")
    return copies


def test_in_repo_and_external_only_make_the_whole_corpus() -> None:
    here = set(real.in_repo_names())
    assert len(here) == 49
    assert here.isdisjoint(real.EXTERNAL_ONLY)
    assert len(real.names()) == real.TOTAL == len(here) + len(real.EXTERNAL_ONLY)


def test_sources_md_documents_each_copy_and_each_file_left_out() -> None:
    assert documented_copies() == set(real.in_repo_names())
    left_out = set(re.findall(r"(?m)^- `([^`]+)` \(", SOURCES.split("## Left out")[1]))
    assert left_out == set(real.EXTERNAL_ONLY)
    for notice in set(re.findall(r"`(LICENSES/[^`]+)`", SOURCES)):
        assert (real.IN_REPO / notice).is_file(), notice


def test_the_external_folder_holds_the_corpus_and_the_copies_are_its_bytes() -> None:
    if not real.external_present():
        pytest.skip(real.SKIP_REASON)
    there = sorted(
        f"{p.parent.name}/{p.name}" for p in real.EXTERNAL.glob("*/*") if p.is_file() and p.parent.name in real.FOLDERS
    )
    assert there == real.names("*")
    for name in real.in_repo_names():
        assert (real.IN_REPO / name).read_bytes() == (real.EXTERNAL / name).read_bytes(), name


def test_a_missing_external_folder_skips_only_the_files_outside_the_repository() -> None:
    # The same rules the tests rely on, checked on this machine whatever it has.
    assert real.path("tnef/mimekit_panic.tnef") == real.IN_REPO / "tnef" / "mimekit_panic.tnef"
    assert len(real.available()) == (real.TOTAL if real.external_present() else 49)
    skipped = [p for p in real.params("docx/*.docx", "legacy-font/*") if p.marks]
    assert len(skipped) == (0 if real.external_present() else 15)
    assert all(m.kwargs["reason"] == real.SKIP_REASON for p in skipped for m in p.marks)
