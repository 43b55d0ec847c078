from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.guardian import checks
from node.oracle.refusals import MalformedInput
from tests.node.oracle.builders import PROPERTIES

hex_digits = st.text("0123456789abcdefABCDEF", min_size=40, max_size=40)
valid = hex_digits.map(lambda digits: "0x" + digits)
near_misses = st.one_of(
    st.text("0123456789abcdefxX \n", min_size=38, max_size=46),
    st.builds(lambda digits, cut: "0x" + digits[:cut], hex_digits, st.integers(0, 39)),
    st.builds(lambda digits: "a0x" + digits, hex_digits),
    st.builds(lambda digits, char, at: "0x" + digits[:at] + char + digits[at + 1:],
              hex_digits, st.sampled_from(["g", "x", "X", " ", "\n", "é"]), st.integers(0, 39)),
)


def _one_by_one(values: list[str]) -> list[str] | type[MalformedInput]:
    try:
        return [checks.address(value) for value in values]
    except MalformedInput:
        return MalformedInput


@PROPERTIES
@given(st.lists(st.one_of(valid, near_misses), max_size=12))
def test_addresses__batch_check_agrees_with_one_by_one(values) -> None:
    expected = _one_by_one(values)
    if expected is MalformedInput:
        with pytest.raises(MalformedInput):
            checks.addresses(values)
    else:
        assert checks.addresses(values) == expected


def test_addresses__misaligned_items_that_concatenate_to_valid_ones_are_refused() -> None:
    with pytest.raises(MalformedInput):
        checks.addresses(["0x" + "a" * 39, "a0x" + "b" * 40])


def test_addresses__non_strings_are_refused() -> None:
    with pytest.raises(MalformedInput):
        checks.addresses(["0x" + "a" * 40, 5])  # type: ignore[list-item]
