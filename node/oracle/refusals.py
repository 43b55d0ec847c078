"""Refusals particular to market data, beside the general ones of node.errors."""

from __future__ import annotations

from node.errors import FunctionInputError


class MalformedInput(FunctionInputError):
    """Numbers that do not fit together: arrays of unequal length, times out of order, a book
    whose levels are out of order or crossed, a bar whose high is below its close."""


class ImplausiblePrice(FunctionInputError):
    """A price outside the feed's bounds, or a jump of more standard deviations than allowed."""
