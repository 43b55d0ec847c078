"""The revisions are frozen and in one line: each carries its own SQL (it imports nothing but
Alembic, SQLAlchemy and the standard library, so editing the application never rewrites an
applied revision), and they form one chain whose revision ids and file names sort in the order
they apply."""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path

from alembic.script import Script, ScriptDirectory

from noderr.migrate import MIGRATIONS_DIR, alembic_config

ALLOWED_IMPORTS = {"alembic", "sqlalchemy", *sys.stdlib_module_names}


def _revision_files() -> list[Path]:
    return sorted((MIGRATIONS_DIR / "versions").glob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    packages = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            packages.add("." if node.level else (node.module or "").split(".")[0])
    return packages


def _chain_base_first() -> list[Script]:
    return list(reversed(list(ScriptDirectory.from_config(alembic_config("")).walk_revisions())))


def test_revision_files__import_only_alembic_sqlalchemy_and_the_standard_library():
    assert _revision_files()
    for path in _revision_files():
        assert _imported_packages(path) <= ALLOWED_IMPORTS, path.name


def test_revisions__one_linear_chain():
    chain = _chain_base_first()
    assert chain[0].down_revision is None
    for previous, revision in itertools.pairwise(chain):
        assert revision.down_revision == previous.revision
        assert not revision.branch_labels and not revision.dependencies
    assert len(chain) == len(_revision_files())


def test_revisions__ids_and_file_names_sort_in_the_order_they_apply():
    chain = _chain_base_first()
    ids = [revision.revision for revision in chain]
    assert ids == sorted(ids)
    assert [Path(revision.path) for revision in chain] == _revision_files()
