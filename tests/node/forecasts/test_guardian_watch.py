"""A guardian watching a desk with NODERR_ML_TARGET set: the EWMA VaR it computes is the pure
function's given the ML forecast of what the desk holds; refused by the ML service, it is the
EWMA's, and the gRPC status is on record."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np
import pytest
from eth_account import Account

from node.execution import ExecutionLog
from node.guardian.risk import compute_var_ewma
from node.guardian.watch import Assessment
from node.runtime.forecasts import VolatilityForecasts
from node.runtime.guardian import GuardianDuties
from node.settings import GuardianSettings
from node.sources.replay import load_tape
from tests.node.forecasts.conftest import DEADLINE_S, sp500_time

LAST_BAR = 805
POINTS = 30
WEIGHT = 0.5
"""The desk holds S&P 500 worth half its equity."""


class NoObserver:
    async def step(self) -> int:
        return 0


def follow(forecasts: VolatilityForecasts) -> tuple[Assessment, list[float]]:
    """A desk's equity at WEIGHT in the S&P 500 over POINTS days, as the guardian reads it:
    the last assessment and the equity curve."""
    desk = Account.create().address
    duties = GuardianDuties(SimpleNamespace(), ExecutionLog(), GuardianSettings(), NoObserver(),
                            forecasts=forecasts)
    closes = load_tape("SP500").bars.close
    bars = range(LAST_BAR - POINTS + 1, LAST_BAR + 1)
    curve = [1e6 * (1 + WEIGHT * (closes[bar] / closes[bars[0]] - 1)) for bar in bars]

    async def run() -> Assessment:
        assessment = None
        for bar, equity in zip(bars, curve, strict=True):
            assessment = await duties.on_equity(SimpleNamespace(sender=desk, payload={
                "desk": desk, "run": "run-1", "equity": str(equity), "initial": "1000000",
                "at": sp500_time(bar).isoformat(), "cash": str((1 - WEIGHT) * equity),
                "exposure": {"SP500": str(WEIGHT * equity)}}))
        assert assessment is not None
        return assessment
    return asyncio.run(run()), curve


def var_ewma(assessment: Assessment) -> float:
    return next(each.value for each in assessment.triggers if each.check == "var_ewma")


def returns_of(curve: list[float]) -> np.ndarray:
    values = np.asarray(curve)
    return values[1:] / values[:-1] - 1


def test_on_equity__ml_forecast__var_ewma_is_the_pure_function_given_it(
        guardian_forecasts: VolatilityForecasts):
    assessment, curve = follow(guardian_forecasts)
    sigma = guardian_forecasts.sigma("SP500", sp500_time(LAST_BAR))
    returns = returns_of(curve)

    assert sigma is not None and guardian_forecasts.fell_back == 0
    expected = compute_var_ewma([1.0], returns, 0.99, sigma_forecast=[WEIGHT * sigma])
    assert var_ewma(assessment) == pytest.approx(expected.var, rel=1e-12)
    assert var_ewma(assessment) != pytest.approx(compute_var_ewma([1.0], returns, 0.99).var)


def test_on_equity__ml_refuses_the_key__var_ewma_is_the_ewmas_and_the_status_kept(
        target: str):
    forecasts = VolatilityForecasts(target, lambda: "unlicensed", DEADLINE_S)
    assessment, curve = follow(forecasts)
    forecasts.close()

    assert var_ewma(assessment) == pytest.approx(
        compute_var_ewma([1.0], returns_of(curve), 0.99).var, rel=1e-12)
    assert forecasts.answered == 0 and forecasts.fell_back == POINTS
    assert {fallback.code for fallback in forecasts.fallbacks} == {"PERMISSION_DENIED"}
