"""Typed refusals of a node function's input: each names what was wrong with it."""

from __future__ import annotations


class FunctionInputError(ValueError):
    """The input cannot be computed on; the function refused it and computed nothing."""


class EmptyInput(FunctionInputError):
    """No data where some is needed (no observations, an empty book, a too-short series)."""


class NonFiniteInput(FunctionInputError):
    """A NaN or an infinity among the numbers."""


class NonPositivePrice(FunctionInputError):
    """A price (or size, or volume) at or below zero where only positive values make sense."""


class StaleInput(FunctionInputError):
    """Data older than the function's bound."""


class UnknownInstrument(FunctionInputError):
    """An instrument or feed no source knows."""


class InvalidParameter(FunctionInputError):
    """A parameter out of its range (a window of 0, a quantile above 1, ...)."""
