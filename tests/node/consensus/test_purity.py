"""The consensus core stays a pure state machine: no I/O, clock, network or other project
package in its imports (the transport, signer and chain are adapters around it)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import node.consensus

ALLOWED = {"__future__", "collections", "dataclasses", "functools", "hashlib", "heapq",
           "itertools", "random", "typing", "node"}


def test_consensus_imports__standard_library_and_itself_only():
    package = Path(node.consensus.__file__).parent
    for source in package.glob("*.py"):
        for statement in ast.walk(ast.parse(source.read_text())):
            if isinstance(statement, ast.ImportFrom):
                names = [statement.module or ""]
            elif isinstance(statement, ast.Import):
                names = [alias.name for alias in statement.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in ALLOWED, f"{source.name} imports {name}"
                assert top in sys.stdlib_module_names or name.startswith(
                    ("node.consensus", "__future__")), f"{source.name} imports {name}"
