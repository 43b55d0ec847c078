from __future__ import annotations

import inspect

from node.guardian.registry import GUARDIAN_FUNCTIONS
from noderr.catalogue import of_type
from noderr.domain import NodeType


def test_registry__names_are_exactly_the_catalogue_guardian_rows() -> None:
    assert set(GUARDIAN_FUNCTIONS) == {spec.name for spec in of_type(NodeType.GUARDIAN)}
    assert len(GUARDIAN_FUNCTIONS) == 20


def test_registry__every_function_is_documented_and_typed() -> None:
    for name, function in GUARDIAN_FUNCTIONS.items():
        assert inspect.getdoc(function), name
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty, name
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, (name, parameter.name)
