"""node/runtime/forecasts.py against a real ML server: a guardian's question is the replayed
instrument's daily history up to the bar in progress, answered once per bar; a refusal, a dead
service or a missing session is no answer, with the gRPC status named."""

from __future__ import annotations

import asyncio
import logging

import pytest

from client import AsyncBackendClient
from client.forecasts import ForecastClient
from node.runtime.forecasts import (
    HISTORY_BARS,
    NO_SESSION,
    VolatilityForecasts,
    daily_history,
)
from node.sources.replay import load_tape
from noderr.ports import free_port
from tests.node.forecasts.conftest import DEADLINE_S, sp500_time

BAR = 800


def test_daily_history__mid_bar__ends_with_the_bar_in_progress():
    bars = load_tape("SP500").bars
    history = daily_history("SP500", sp500_time(BAR).replace(hour=15))

    assert len(history["close"]) == HISTORY_BARS
    assert history["close"][-1] == bars.close[BAR]
    assert history["open"][0] == bars.open[BAR - HISTORY_BARS + 1]


def test_sigma__licensed_guardian__is_the_services_forecast_of_that_history(
        guardian_forecasts: VolatilityForecasts, target: str):
    at = sp500_time(BAR)
    with ForecastClient(target, "guardian", DEADLINE_S) as direct:
        expected = direct.predict("SP500", daily_history("SP500", at)).volatility

    assert guardian_forecasts.sigma("SP500", at) == pytest.approx(expected)
    assert (guardian_forecasts.answered, guardian_forecasts.fell_back) == (1, 0)


def test_sigma__same_bar_asked_again__answered_from_the_cache(target: str):
    asked = []
    forecasts = VolatilityForecasts(target, lambda: asked.append(1) or "guardian", DEADLINE_S)
    first = forecasts.sigma("SP500", sp500_time(BAR))
    again = forecasts.sigma("SP500", sp500_time(BAR).replace(hour=20))
    next_day = forecasts.sigma("SP500", sp500_time(BAR + 1))
    forecasts.close()

    assert first == again and next_day != first
    assert len(asked) == 2


@pytest.mark.parametrize(("token", "code"), [("unlicensed", "PERMISSION_DENIED"),
                                             ("validator", "PERMISSION_DENIED"),
                                             ("no-such-session", "UNAUTHENTICATED")])
def test_sigma__refused__none_and_the_grpc_status_logged(
        target: str, token: str, code: str, caplog: pytest.LogCaptureFixture):
    forecasts = VolatilityForecasts(target, lambda: token, DEADLINE_S)
    with caplog.at_level(logging.WARNING, "noderr.node.forecasts"):
        sigma = forecasts.sigma("SP500", sp500_time(BAR))
    forecasts.close()

    assert sigma is None
    assert forecasts.fallbacks[-1].code == code and forecasts.fallbacks[-1].reason
    assert code in caplog.text and "EWMA" in caplog.text


def test_sigma__too_early_in_the_data__invalid_argument_and_none(
        guardian_forecasts: VolatilityForecasts):
    assert guardian_forecasts.sigma("SP500", sp500_time(10)) is None
    assert guardian_forecasts.fallbacks[-1].code == "INVALID_ARGUMENT"


def test_sigma__no_service_listening__none_within_the_deadline():
    forecasts = VolatilityForecasts(f"127.0.0.1:{free_port()}", lambda: "guardian", 0.5)

    assert forecasts.sigma("SP500", sp500_time(BAR)) is None
    assert forecasts.fallbacks[-1].code in {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
    forecasts.close()


def test_sigma__not_signed_in__none_without_asking(target: str):
    forecasts = VolatilityForecasts(target, lambda: None, DEADLINE_S)

    assert forecasts.sigma("SP500", sp500_time(BAR)) is None
    assert forecasts.fallbacks[-1].code == NO_SESSION


def test_sigma__node_clients_session__presented_until_it_logs_out(target: str):
    client = AsyncBackendClient("http://127.0.0.1:9")
    client.use_token("guardian")
    forecasts = VolatilityForecasts(target, lambda: client.token, DEADLINE_S)

    assert forecasts.sigma("SP500", sp500_time(BAR)) is not None
    client.use_token(None)
    assert forecasts.sigma("SP500", sp500_time(BAR + 1)) is None
    assert forecasts.fallbacks[-1].code == NO_SESSION
    forecasts.close()
    asyncio.run(client.aclose())
