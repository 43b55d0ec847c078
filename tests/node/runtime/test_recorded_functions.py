"""Every catalogue function a node runtime module records by name belongs to that module's node
type: the backend refuses (422) another type's function, and a guardian once recorded its halt
signature checks as the Validator's `validate_tx_signature`."""

from __future__ import annotations

import ast

import pytest

from noderr.catalogue import BY_NAME
from noderr.domain import NodeType
from noderr.settings import REPO_ROOT

RUNTIME = REPO_ROOT / "node" / "runtime"
MODULES = {"guardian.py": NodeType.GUARDIAN, "validator.py": NodeType.VALIDATOR,
           "attendance.py": NodeType.VALIDATOR, "consensus_watch.py": NodeType.VALIDATOR}


def recorded_names(source: str) -> set[str]:
    """String arguments of `….run("name")` and `executing(…, "name")` calls."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", "")
        if callee in ("run", "executing"):
            names |= {arg.value for arg in node.args
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return names


@pytest.mark.parametrize(("module", "node_type"), MODULES.items())
def test_recorded_functions__belong_to_the_modules_node_type(module, node_type):
    names = recorded_names((RUNTIME / module).read_text())
    assert names, f"{module} records no function by name"
    assert {name: BY_NAME[name].node_type for name in names
            if BY_NAME[name].node_type != node_type} == {}
