"""The portfolio watch on replayed S&P 500 data (arch.data.sp500, shipped): a buy-and-hold desk
through 2008 is reduced and calls for the halt, one through 2017 never is, nor through any
calm quarter (annualised volatility under 15%); and its readings against references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from node.errors import InvalidParameter
from node.guardian.risk import compute_exposure_concentration, compute_var_ewma
from node.guardian.shutdown import TradingState
from node.guardian.watch import (
    FLAT,
    PortfolioWatch,
    ReportedBook,
    RiskLimits,
    assess,
    book_exposure,
    forecast_sigma,
    report_trigger,
    var_triggers,
)
from node.oracle.refusals import MalformedInput
from node.sources.replay import load_tape
from tests.node.guardian import pandas_reference as reference

INITIAL = 1_000_000.0
CALM_VOLATILITY = 0.15


@pytest.fixture(scope="module")
def sp500() -> pd.Series:
    bars = load_tape("SP500").bars
    return pd.Series(bars.close, index=pd.DatetimeIndex(bars.time))


def buy_and_hold(closes: pd.Series) -> pd.Series:
    """The equity of a desk fully invested in the index from the first close."""
    return INITIAL * closes / closes.iloc[0]


def replay(equity: pd.Series, limits: RiskLimits = RiskLimits()) -> tuple[
        list[tuple[pd.Timestamp, TradingState]], list[tuple[pd.Timestamp, str]]]:
    """The state changes and the halt calls of a watch over the curve."""
    watch = PortfolioWatch(float(equity.iloc[0]), limits)
    changes, halts = [], []
    for at, value in equity.items():
        assessment = watch.observe(float(value))
        if assessment.state is not assessment.previous:
            changes.append((at, assessment.state))
        if watch.calls_for_halt(assessment):
            halts.append((at, assessment.reason()))
    return changes, halts


def test_replay__2008_crash__reduced_and_the_halt_called_once(sp500: pd.Series):
    changes, halts = replay(buy_and_hold(sp500["2008"]))

    assert changes and changes[0][1] is TradingState.REDUCING
    assert changes[0][0] < pd.Timestamp("2008-10-01")
    [(halted_at, reason)] = halts
    assert pd.Timestamp("2008-09-01") < halted_at < pd.Timestamp("2008-11-01")
    assert "max_drawdown" in reason
    print(f"2008: reduced on {changes[0][0].date()}, halt called on {halted_at.date()}: "
          f"{reason}")


def test_replay__calm_2017__never_reduced_nor_halted(sp500: pd.Series):
    assert replay(buy_and_hold(sp500["2017"])) == ([], [])


def test_replay__calm_quarters__no_false_halt(sp500: pd.Series):
    quarters = sp500.index.to_period("Q")
    volatility = sp500.pct_change().groupby(quarters).std() * np.sqrt(252)
    calm = volatility[volatility < CALM_VOLATILITY].index
    false_halts = [str(quarter) for quarter in calm
                   if replay(buy_and_hold(sp500[quarters == quarter])) != ([], [])]

    print(f"false-halt rate over calm quarters (annualised volatility < "
          f"{CALM_VOLATILITY:.0%}): {len(false_halts)}/{len(calm)}")
    assert len(calm) > 30
    assert false_halts == []


def test_assess__var_readings__match_pandas_on_the_curve_returns(sp500: pd.Series):
    equity = buy_and_hold(sp500["2008-01":"2008-10"])
    limits = RiskLimits(window=120)

    assessment = assess(equity.tolist(), INITIAL, TradingState.ACTIVE, limits)

    returns = equity.pct_change().iloc[-120:].to_frame()
    readings = {trigger.check: trigger for trigger in assessment.triggers}
    var, es = reference.var_historical([1.0], returns, 0.99)
    ewma_var, ewma_es, _ = reference.var_ewma([1.0], returns, 0.99, 0.94)
    assert readings["var_historical"].value == pytest.approx(var, rel=1e-9)
    assert assessment.es["var_historical"] == pytest.approx(es, rel=1e-9)
    assert readings["var_ewma"].value == pytest.approx(ewma_var, rel=1e-9)
    assert assessment.es["var_ewma"] == pytest.approx(ewma_es, rel=1e-9)
    drawdown = 1 - equity.iloc[-1] / equity.max()
    assert readings["max_drawdown"].value == pytest.approx(drawdown, rel=1e-9)


def test_assess__fewer_returns_than_the_ewma_needs__no_var_reading():
    equity = [100.0, 90.0, 110.0, 80.0]

    checks = [trigger.check for trigger in
              assess(equity, 100.0, TradingState.ACTIVE, RiskLimits()).triggers]

    assert checks == ["max_drawdown", "kill_switch"]


def test_watch__volatility_burst_then_calm__reduces_then_returns_to_active():
    rng = np.random.default_rng(3)
    returns = np.concatenate([rng.normal(0, 0.003, 40), [0.09, -0.08, 0.09, -0.08],
                              rng.normal(0, 0.003, 300)])
    equity = INITIAL * np.cumprod(1 + returns)
    limits = RiskLimits(window=60)

    changes, halts = replay(pd.Series(equity), limits)

    assert [state for _, state in changes] == [TradingState.REDUCING, TradingState.ACTIVE]
    assert halts == []


def test_watch__concentrated_book__reduces_without_calling_the_halt():
    exposure = compute_exposure_concentration(["A", "B"], [5.0, 1.0], [100.0, 100.0])
    watch = PortfolioWatch(INITIAL, RiskLimits(max_concentration=0.5))

    assessment = watch.observe(INITIAL, exposure)

    assert assessment.state is TradingState.REDUCING and not assessment.halt
    assert [each.check for each in assessment.crossed] == ["concentration"]
    assert assessment.crossed[0].value == pytest.approx(26 / 36)


def test_watch__loss_past_the_kill_switch__calls_for_the_halt_once_per_run():
    watch = PortfolioWatch(INITIAL, RiskLimits(max_drawdown=0.1))

    calls = [watch.calls_for_halt(watch.observe(value))
             for value in (INITIAL, 0.85 * INITIAL, 0.8 * INITIAL)]

    assert calls == [False, True, False]


@pytest.mark.parametrize("limits", [
    {"max_drawdown": 0.0}, {"max_drawdown": 1.0}, {"max_var": 0.0},
    {"max_concentration": 0.0}, {"max_concentration": 1.5}, {"confidence": 1.0},
    {"min_returns": 1}, {"window": 10, "min_returns": 20},
])
def test_limits__out_of_range__refused(limits):
    with pytest.raises(InvalidParameter):
        RiskLimits(**limits)


def test_var_triggers__sigma_forecast__is_the_ewma_vars_volatility(sp500: pd.Series):
    equity = buy_and_hold(sp500["2017-01":"2017-03"]).tolist()
    returns = np.diff(equity) / np.asarray(equity[:-1])

    triggers, es = var_triggers(equity, RiskLimits(), sigma_forecast=0.03)

    ewma = next(each for each in triggers if each.check == "var_ewma")
    expected = compute_var_ewma([1.0], returns, 0.99, sigma_forecast=[0.03])
    assert (ewma.value, es["var_ewma"]) == (expected.var, expected.es)
    assert ewma.triggered  # 2.33 * 3% > 5%; the calm quarter's own EWMA is far below
    assert not next(each for each in var_triggers(equity, RiskLimits())[0]
                    if each.check == "var_ewma").triggered


def test_forecast_sigma__weights_and_instrument_sigmas__sum_of_absolute_products():
    assert forecast_sigma({"SP500": 0.5, "GOOG": -0.25}, {"SP500": 0.02, "GOOG": 0.04}) == (
        pytest.approx(0.5 * 0.02 + 0.25 * 0.04))


def test_forecast_sigma__an_instrument_held_without_forecast__none():
    assert forecast_sigma({"SP500": 0.5, "GOOG": 0.1}, {"SP500": 0.02}) is None


def test_forecast_sigma__flat_book__zero():
    assert forecast_sigma({"SP500": 0.0}, {}) == 0.0


def test_book_exposure__long_and_short_book__herfindahl_of_the_gross_weights():
    book = ReportedBook(1_000.0, 600.0, {"A": 600.0, "B": -300.0, "C": 100.0})

    exposure = book_exposure(book)

    assert (exposure.gross, exposure.net, exposure.largest) == (1_000.0, 400.0, "A")
    assert exposure.herfindahl == pytest.approx(0.6**2 + 0.3**2 + 0.1**2)


def test_book_exposure__flat_book__no_concentration():
    assert book_exposure(ReportedBook(1_000.0, 1_000.0, {})) == FLAT


@pytest.mark.parametrize("book", [
    ReportedBook(1_000.0, 600.0, {"B": -300.0, "C": 100.0}),
    ReportedBook(1_000.0, 600.0, {"A": 600.0, "B": -300.0, "C": 100.01}),
    ReportedBook(1_000.0, None, {"A": 400.0}),
    ReportedBook(1_000.0, 600.0, None),
    ReportedBook(1_000.0, 600.0, {"A": float("inf")}),
], ids=["position_left_out", "notional_off_by_a_cent", "no_cash", "no_positions",
        "infinite_notional"])
def test_book_exposure__positions_not_adding_up__refused(book: ReportedBook):
    with pytest.raises(MalformedInput):
        book_exposure(book)
    assert report_trigger(book).triggered


def test_watch__refused_report__reduces_without_taking_the_equity():
    watch = PortfolioWatch(INITIAL, RiskLimits())
    watch.observe(INITIAL)
    book = ReportedBook(INITIAL, 0.0, None)

    assessment = watch.refuse(report_trigger(book))

    assert (assessment.previous, assessment.state) == (TradingState.ACTIVE,
                                                       TradingState.REDUCING)
    assert assessment.reason().startswith("exposure_report inf (limit 1e-06)")
    assert watch.equity == [INITIAL] and not assessment.halt
