"""A fresh clone, with nothing beside it, collects the whole suite without an error and says why the
tests of the corpus files outside the repository are skipped (issue 8). It clones the committed HEAD:
what is not committed is not checked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import corpus as real

pytestmark = [
    pytest.mark.xdist_group(name="fresh_clone"),  # both tests on one worker: one clone
    pytest.mark.no_database,
]

REPO = Path(__file__).resolve().parents[1]
# fast modules whose tests read real files both inside and outside the repository
CORPUS_MODULES = ["tests/test_real_corpus.py", "tests/ingest/word/test_sniff.py"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    inside = subprocess.run([git, "-C", str(REPO), "rev-parse", "--is-inside-work-tree"], capture_output=True)
    if inside.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout: no committed HEAD to clone")
    target = tmp_path_factory.mktemp("fresh") / "toasoan"
    subprocess.run([git, "clone", "--quiet", str(REPO), str(target)], check=True, capture_output=True)
    return target


def pytest_in(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """This venv's pytest run inside the clone, whose code comes first on sys.path, with no corpus."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # not an xdist worker in there
    env["TOASOAN_REAL_CORPUS"] = str(clone.parent / "no-corpus")
    env["PYTHONPATH"] = str(clone)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # only catches a hang; the two runs take seconds
    )


def test_a_fresh_clone_collects_every_test_without_an_error(clone: Path) -> None:
    run = pytest_in(clone, "--collect-only", "-q")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "error" not in run.stdout.splitlines()[-1], run.stdout[-3000:]
    ids = set(run.stdout.splitlines())
    # the clone's own code was collected, and the tests of outside files are still there (to be skipped)
    assert "tests/test_fresh_clone.py::test_a_fresh_clone_collects_every_test_without_an_error" in ids
    assert "tests/ingest/word/test_sniff.py::test_every_real_docx_is_docx[khoach_bia_cover-page.docx]" in ids
    assert "tests/ingest/test_parse.py::test_every_corpus_email_parses[gitlist_windows-1258-8bit.eml]" in ids


def test_a_fresh_clone_prints_why_corpus_tests_are_skipped(clone: Path) -> None:
    run = pytest_in(clone, "-q", "-rs", *CORPUS_MODULES)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    reason = f"real corpus not found at {clone.parent / 'no-corpus'}: set TOASOAN_REAL_CORPUS"
    skip_lines = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED [")]
    assert skip_lines and all(line.endswith(reason) for line in skip_lines), run.stdout[-3000:]
    # at least one skip per file outside the repository that test_sniff.py sniffs (docx, doc, odt)
    outside = [n for n in real.EXTERNAL_ONLY if n.endswith((".docx", ".doc", ".odt"))]
    assert sum(int(line.split("[")[1].split("]")[0]) for line in skip_lines) >= len(outside)
