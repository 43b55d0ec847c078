from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from ml import baselines, walkforward
from ml.panel import Panel


def test_ewma_is_the_riskmetrics_recursion() -> None:
    returns = np.array([np.nan, *np.linspace(-0.02, 0.03, 30)])
    path = baselines.ewma_path(returns, 0.94)
    level = np.mean(returns[1:21] ** 2)
    for t in range(1, 31):
        level = 0.94 * level + 0.06 * returns[t] ** 2
        assert path[t] == pytest.approx(level)


def test_garch_forecasts_follow_the_fitted_recursion(small_panel: Panel) -> None:
    garch = baselines.Garch()
    garch.fit(small_panel, 700)
    forecasts = garch.predict(small_panel, 700, 720)
    percent = small_panel.returns[1:] * 100
    params = garch.result.params
    fixed = arch_model(percent, mean="Constant", vol="GARCH", p=1, q=1).fix(params)
    sigma2 = fixed.conditional_volatility ** 2
    for offset, row in enumerate(range(700, 720)):
        shock = percent[row - 1] - params["mu"]
        expected = params["omega"] + params["alpha[1]"] * shock ** 2 \
            + params["beta[1]"] * sigma2[row - 1]
        assert forecasts[offset] == pytest.approx(expected / 1e4, rel=1e-6)


def test_har_regressors_and_ordinary_least_squares(small_panel: Panel) -> None:
    gk = small_panel.gk
    regressors = baselines.har_regressors(gk)
    assert regressors[100, 0] == pytest.approx(np.log(gk[100]))
    assert regressors[100, 1] == pytest.approx(np.log(gk[96:101].mean()))
    assert regressors[100, 2] == pytest.approx(np.log(gk[79:101].mean()))
    har = baselines.Har()
    har.fit(small_panel, 700)
    rows = slice(small_panel.first, 700)
    design = np.column_stack([np.ones(700 - small_panel.first), regressors[rows]])
    ols, *_ = np.linalg.lstsq(design, np.log(small_panel.target[rows]), rcond=None)
    np.testing.assert_allclose(har.coefficients, ols, rtol=1e-8)
    residuals = np.log(small_panel.target[rows]) - design @ ols
    forecast = har.predict(small_panel, 700, 701)[0]
    assert forecast == pytest.approx(np.exp(ols[0] + regressors[700] @ ols[1:])
                                     * np.exp(residuals).mean())


def test_ridge_shrinks_towards_the_mean(small_panel: Panel) -> None:
    loose, tight = baselines.Ridge(alpha=1e-6), baselines.Ridge(alpha=1e9)
    for ridge in (loose, tight):
        ridge.fit(small_panel, 700)
    assert np.abs(tight.coefficients[1:]).max() < 1e-6
    assert np.abs(loose.coefficients[1:]).max() > 1e-2
    spread = [np.std(np.log(r.predict(small_panel, 700, 800))) for r in (loose, tight)]
    assert spread[1] < 1e-5 < spread[0]


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.stops: list[int] = []

    def fit(self, panel: Panel, stop: int) -> None:
        self.stops.append(stop)

    def predict(self, panel: Panel, start: int, stop: int) -> np.ndarray:
        return np.full(stop - start, float(start))


def test_walk_forward_refits_on_an_expanding_window_without_peeking(
        small_panel: Panel) -> None:
    recorder = Recorder()
    start = small_panel.dates[700]
    evaluation = walkforward.evaluate(small_panel, [recorder], start, refit_every=50)
    first_row = small_panel.rows_from(start)
    assert first_row == 699 and evaluation.dates[0] == start
    assert recorder.stops == list(range(699, small_panel.last, 50))
    # each block was forecast by the fit whose training targets end the day before its origin
    blocks = evaluation.forecasts["recorder"]
    assert set(blocks) == {float(s) for s in recorder.stops}
    assert (evaluation.dates == small_panel.dates[700:small_panel.last + 1]).all()
    np.testing.assert_array_equal(evaluation.proxy, small_panel.gk[700:])


def test_default_test_window_is_the_last_four_years(sp500: pd.DataFrame) -> None:
    from ml.panel import build

    assert walkforward.default_test_start(build(sp500)) == pd.Timestamp("2015-01-01")
    short = build(sp500.iloc[:900])
    start = walkforward.default_test_start(short)
    assert short.rows_from(start) == short.first + int((short.last - short.first) * 0.8)


def test_validation_walk_forward__never_reads_the_test_years(
        sp500: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    from ml import train

    monkeypatch.setattr(train, "VolatilityModel", lambda *args, **kwargs: Recorder())
    monkeypatch.setattr(train, "all_baselines", list)
    outcome = train.validation_walk_forward(sp500, quiet=True)
    assert outcome.panel.dates[-1] == pd.Timestamp("2014-12-31")
    assert outcome.test_start == pd.Timestamp("2011-01-01")
    dates = outcome.evaluation.dates
    assert (dates[0], dates[-1]) == (pd.Timestamp("2011-01-03"), pd.Timestamp("2014-12-31"))
