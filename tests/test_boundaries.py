"""Each table has one owning package, and only the owner reads its columns.

The rule this test holds, over every import in the application's packages (function-level and
TYPE_CHECKING imports included):

1. A module imports the `models` module of its own package and of `core` (the tables every stage
   shares: drafts, jobs, the outbox), never another package's. review/ and toasoan/ read ingest's,
   publish's and reports' tables (and toasoan reads review's) through the owner's functions, which
   return small views: `ingest.queries`, `publish.queries`, `reports.service`, `review.auth`, ...
2. No such function module hands a table class on: a name imported from another package (core
   aside) is never an SQLModel table.
3. The dependencies point one way (DESIGN.md): core/ imports none of the others, ingest/ only core/,
   publish/ and reports/ never import review/ or toasoan/. review/ does call reports' functions (the
   reports page, the status page), so that edge goes one way only: reports/ never imports review/.

The exception is toasoan/migrations: Alembic needs every table's metadata.

What it does not see: an owner's function that returns its own table rows (`review.auth.add_user`
returns the User it saved). Those are the owner's decision; new reads for other packages return views.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ingest", "publish", "reports", "review", "toasoan")
EXEMPT = (ROOT / "toasoan" / "migrations",)
# Which packages each may not import at all (DESIGN.md: toasoan -> review, reports -> publish -> ingest -> core).
NEVER = {
    "core": {"ingest", "publish", "reports", "review", "toasoan"},
    "ingest": {"publish", "reports", "review", "toasoan"},
    "publish": {"reports", "review", "toasoan"},
    "reports": {"review", "toasoan"},
    "review": {"toasoan"},  # review -> reports is allowed: the reports page and the status page
    "toasoan": set(),
}


@dataclass(frozen=True)
class Imported:
    line: int
    module: str  # the module imported from (absolute)
    names: tuple[str, ...]  # the names taken from it; empty for `import x.y`


def imports_in(tree: ast.AST) -> Iterator[Imported]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Imported(node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield Imported(node.lineno, node.module, tuple(a.name for a in node.names))


def package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def application_modules() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(path.is_relative_to(e) for e in EXEMPT):
                yield path


def foreign_models(imp: Imported, own: str) -> list[str]:
    """Rule 1: `X.models` (or `from X import models`) of another stage package."""
    found = []
    top = imp.module.split(".")[0]
    if top in PACKAGES and top not in (own, "core"):
        if imp.module == f"{top}.models" or imp.module.startswith(f"{top}.models."):
            found.append(imp.module)
        elif imp.module == top and "models" in imp.names:
            found.append(f"{top}.models")
    return found


def table_classes(imp: Imported, own: str) -> list[str]:
    """Rule 2: a table class taken from another package's module, whatever module re-exports it."""
    top = imp.module.split(".")[0]
    if top not in PACKAGES or top in (own, "core") or not imp.names:
        return []
    module = importlib.import_module(imp.module)
    out = []
    for name in imp.names:
        value = getattr(module, name, None)
        if isinstance(value, type) and hasattr(value, "__table__"):
            out.append(f"{imp.module}.{name}")
    return out


def violations_in(tree: ast.AST, own: str, where: str) -> list[str]:
    found = []
    for imp in imports_in(tree):
        at = f"{where}:{imp.line}"
        found += [f"{at}: imports {m}" for m in foreign_models(imp, own)]
        found += [f"{at}: imports the table {t}" for t in table_classes(imp, own)]
        if imp.module.split(".")[0] in NEVER[own]:
            found.append(f"{at}: {own}/ imports {imp.module}")
    return found


def test_each_package_reads_other_tables_through_their_owner() -> None:
    found = []
    for path in application_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += violations_in(tree, package_of(path), str(path.relative_to(ROOT)))
    assert found == []


def test_the_rule_sees_each_kind_of_breach() -> None:
    """The walker is not blind: each breach, in a function of a review/ module, is reported."""
    source = (
        "def f() -> None:\n"
        "    from ingest.models import InboundMessage\n"
        "    import publish.models\n"
        "    from reports import models\n"
        "    from ingest.queries import InboundMessage as M\n"  # a re-export is no way round it
        "    from toasoan.cli import main\n"
    )
    found = violations_in(ast.parse(source), "review", "probe.py")
    assert sorted(found) == [
        "probe.py:2: imports ingest.models",
        "probe.py:2: imports the table ingest.models.InboundMessage",
        "probe.py:3: imports publish.models",
        "probe.py:4: imports reports.models",
        "probe.py:5: imports the table ingest.queries.InboundMessage",
        "probe.py:6: review/ imports toasoan.cli",
    ]
    # In ingest/ the same lines: its own tables are its own, and it may import none of the later stages.
    assert sorted(violations_in(ast.parse(source), "ingest", "probe.py")) == [
        "probe.py:3: imports publish.models",
        "probe.py:3: ingest/ imports publish.models",
        "probe.py:4: imports reports.models",
        "probe.py:4: ingest/ imports reports",
        "probe.py:6: ingest/ imports toasoan.cli",
    ]
