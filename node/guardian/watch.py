"""Continuous portfolio risk: a desk's equity, point after point, read as a guardian reads it.

Each new point of the equity curve (a guarded desk publishes one per step) is assessed with
the Guardian functions:
  - drawdown from the run's peak (compute_drawdown) and the loss since the run's start
    (evaluate_kill_switch), each against `max_drawdown`: crossing either calls for the
    on-chain halt, which a quorum of guardians must sign;
  - value at risk of the equity over the next step, historical (compute_var_historical over
    the last `window` returns, once there are enough for the confidence's tail) and EWMA
    (compute_var_ewma, RiskMetrics, from `min_returns` returns on), each as a fraction of the
    equity against `max_var`; the matching ES is reported beside it. A forecast sigma of the
    next step's equity return (the ML service's, node/runtime/forecasts.py), when the caller
    has one, replaces the EWMA's volatility in compute_var_ewma's (its `sigma_forecast`);
    forecast_sigma derives it from the instruments' forecasts and the book's weights;
  - exposure concentration (compute_exposure_concentration's Herfindahl on the gross weights
    |notional| / gross) of the positions the desk reports with the point (book_exposure),
    against `max_concentration`. Reported positions that do not add up to the point's equity
    less its cash are refused: the point is not assessed and trading reduces (refuse), so
    leaving a position out never lowers the concentration read.
The equity curve is the book: its step returns are the portfolio's returns at the positions it
held, so VaR needs no position-by-position revaluation. Any crossed limit takes trading to
REDUCING (set_trading_state without halt votes: only risk-reducing orders pass), none back to
ACTIVE; HALTED comes only from the on-chain halt."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from node.errors import EmptyInput
from node.guardian.decisions import Trigger
from node.guardian.risk import (
    Exposure,
    compute_drawdown,
    compute_exposure_concentration,
    compute_var_ewma,
    compute_var_historical,
)
from node.guardian.shutdown import TradingState, evaluate_kill_switch, set_trading_state
from node.oracle import checks
from node.oracle.refusals import MalformedInput

HALTING_CHECKS = frozenset({"max_drawdown", "kill_switch"})
EXPOSURE_TOLERANCE = 1e-6
"""How far reported positions may miss the equity less the cash, as a fraction of the larger
of the equity and the gross exposure: room for decimal amounts sent as text and read as
floats (about 1e-15), far below a cent of any book."""
READING_FORMATS = {"kill_switch": ".2f", "exposure_report": ".3g"}
FLAT = Exposure(0.0, 0.0, 0.0, 0.0, None)


@dataclass(frozen=True)
class RiskLimits:
    max_drawdown: float = 0.25
    """Drawdown from the peak, or loss of the initial equity, that calls for the halt."""
    max_var: float = 0.05
    """VaR over one step, as a fraction of the equity, that reduces trading."""
    max_concentration: float = 1.0
    """Herfindahl of the gross exposure above which trading reduces (1.0: never)."""
    confidence: float = 0.99
    window: int = 250
    """Returns the historical VaR looks back over."""
    min_returns: int = 20
    """Returns the EWMA VaR waits for."""

    def __post_init__(self) -> None:
        checks.require(0 < self.max_drawdown < 1, "max_drawdown must be in (0, 1)")
        checks.require(self.max_var > 0, "max_var must be > 0")
        checks.require(0 < self.max_concentration <= 1, "max_concentration must be in (0, 1]")
        checks.require(0.5 <= self.confidence < 1, "confidence must be in [0.5, 1)")
        checks.count("min_returns", self.min_returns, 2)
        checks.require(self.window >= self.min_returns, "window must be >= min_returns")


@dataclass(frozen=True)
class ReportedBook:
    """What a desk says with an equity point: its equity, cash and the signed notional of each
    position by instrument (cash or notionals None when it sent none or nothing readable)."""

    equity: float
    cash: float | None
    notionals: Mapping[str, float] | None

    def gap(self) -> float:
        """|equity - cash - sum of notionals| over max(|equity|, gross, 1); infinite when a
        part is missing or not a finite number."""
        if self.cash is None or self.notionals is None:
            return math.inf
        amounts = [self.equity, self.cash, *self.notionals.values()]
        if not all(math.isfinite(amount) for amount in amounts):
            return math.inf
        gross = math.fsum(abs(value) for value in self.notionals.values())
        held = math.fsum(self.notionals.values())
        return abs(self.equity - self.cash - held) / max(abs(self.equity), gross, 1.0)


def book_exposure(book: ReportedBook, tolerance: float = EXPOSURE_TOLERANCE) -> Exposure:
    """The exposure and Herfindahl of the reported positions, once they add up to the equity
    less the cash within `tolerance`; MalformedInput otherwise (a position left out, a
    notional forged apart from the cash and equity, or no positions sent at all)."""
    gap = book.gap()
    if not gap <= tolerance:
        raise MalformedInput(f"reported positions do not add up to the equity less the cash "
                             f"(gap {gap:.3g} of the book, tolerance {tolerance:g})")
    if not book.notionals:
        return FLAT
    names = list(book.notionals)
    return compute_exposure_concentration(names, [book.notionals[name] for name in names],
                                          [1.0] * len(names))


def report_trigger(book: ReportedBook, tolerance: float = EXPOSURE_TOLERANCE) -> Trigger:
    """The reading of a report: crossed when its positions do not add up."""
    gap = book.gap()
    return Trigger(not gap <= tolerance, "exposure_report", gap, tolerance)


@dataclass(frozen=True)
class Assessment:
    """One point's reading: every trigger (crossed or not), the state it leads to, whether it
    calls for the on-chain halt, and the ES beside each VaR (fractions of the equity)."""

    triggers: tuple[Trigger, ...]
    state: TradingState
    previous: TradingState
    halt: bool
    es: dict[str, float]

    @property
    def crossed(self) -> tuple[Trigger, ...]:
        return tuple(trigger for trigger in self.triggers if trigger.triggered)

    def reason(self) -> str:
        """The crossed readings, fractions as percentages, the kill switch's P&L as is and a
        report's gap in plain digits."""
        return ", ".join(
            f"{each.check} {each.value:{form}} (limit {each.limit:{form}})"
            for each in self.crossed
            for form in [READING_FORMATS.get(each.check, ".2%")]) or "no limit crossed"


Timing = Callable[[str], AbstractContextManager[object]]
"""Wraps each Guardian function's call, by its catalogue name (a node's ExecutionLog.run)."""


def untimed(_: str) -> AbstractContextManager[object]:
    return nullcontext()


def drawdown_triggers(equity: Sequence[float], initial: float, limits: RiskLimits,
                      run: Timing = untimed) -> list[Trigger]:
    """The drawdown of the curve and its loss since `initial`, each against max_drawdown."""
    with run("compute_drawdown"):
        drawdown = compute_drawdown(equity).current
    with run("evaluate_kill_switch"):
        kill = evaluate_kill_switch(equity[-1] - initial, -limits.max_drawdown * initial)
    return [Trigger(drawdown >= limits.max_drawdown, "max_drawdown", drawdown,
                    limits.max_drawdown), kill]


def forecast_sigma(weights: Mapping[str, float], sigmas: Mapping[str, float]) -> float | None:
    """The sigma of the next step's equity return from each held instrument's forecast sigma
    and its weight (signed market value over equity): sum |w_i| sigma_i, the bound of perfectly
    correlated instruments (exact for one, never below the truth for more: the equity curve
    carries no cross-instrument history to correlate them). None when an instrument held has
    no forecast (the EWMA's volatility then), 0.0 for a flat book."""
    held = {name: weight for name, weight in weights.items() if weight != 0}
    if any(name not in sigmas for name in held):
        return None
    if not held:
        return 0.0
    forecast = checks.non_negative_array("sigma forecasts", [sigmas[name] for name in held])
    size = checks.finite_array("weights", list(held.values()))
    return float(np.abs(size) @ forecast)


def var_triggers(equity: Sequence[float], limits: RiskLimits, run: Timing = untimed,
                 sigma_forecast: float | None = None) -> tuple[list[Trigger], dict[str, float]]:
    """EWMA and historical VaR of the next step as fractions of the last equity, those the
    history is long enough for, and their ES; `sigma_forecast` (the next step return's, when
    known) is the EWMA VaR's volatility."""
    curve = np.asarray(equity[-(limits.window + 1):], dtype=np.float64)
    returns = curve[1:] / curve[:-1] - 1
    if returns.size < limits.min_returns:
        return [], {}
    forecast = None if sigma_forecast is None else [sigma_forecast]
    triggers, es = [], {}
    for check, compute in (("var_ewma", partial(compute_var_ewma, sigma_forecast=forecast)),
                           ("var_historical", compute_var_historical)):
        try:
            with run(f"compute_{check}"):
                value_at_risk = compute([1.0], returns, limits.confidence)
        except EmptyInput:
            continue
        triggers.append(Trigger(value_at_risk.var > limits.max_var, check, value_at_risk.var,
                                limits.max_var))
        es[check] = value_at_risk.es
    return triggers, es


def concentration_trigger(exposure: Exposure, limits: RiskLimits) -> Trigger:
    return Trigger(exposure.herfindahl > limits.max_concentration, "concentration",
                   exposure.herfindahl, limits.max_concentration)


def assess(equity: Sequence[float], initial: float, current: TradingState, limits: RiskLimits,
           exposure: Exposure | None = None, run: Timing = untimed,
           sigma_forecast: float | None = None) -> Assessment:
    """The reading of the curve's last point, from the state trading is in now."""
    triggers = drawdown_triggers(equity, initial, limits, run)
    at_risk, es = var_triggers(equity, limits, run, sigma_forecast)
    triggers += at_risk
    if exposure is not None:
        triggers.append(concentration_trigger(exposure, limits))
    with run("set_trading_state"):
        transition = set_trading_state(current, triggers, (), 1)
    halt = any(each.triggered and each.check in HALTING_CHECKS for each in triggers)
    return Assessment(tuple(triggers), transition.state, transition.previous, halt, es)


@dataclass
class PortfolioWatch:
    """One run of a desk as a guardian follows it: its equity so far, the state it led to, and
    whether the halt was already called for (once per run)."""

    initial: float
    limits: RiskLimits
    equity: list[float] = field(default_factory=list)
    state: TradingState = TradingState.ACTIVE
    halt_called: bool = False

    def observe(self, equity: float, exposure: Exposure | None = None,
                run: Timing = untimed, sigma_forecast: float | None = None) -> Assessment:
        """Add a point and assess it; the state moves to the assessment's."""
        self.equity.append(checks.positive_scalar("equity", equity))
        assessment = assess(self.equity, self.initial, self.state, self.limits, exposure, run,
                            sigma_forecast)
        self.state = assessment.state
        return assessment

    def refuse(self, report: Trigger) -> Assessment:
        """A point whose positions do not add up: its equity is not taken into the curve and
        trading reduces, until a point that adds up is assessed."""
        transition = set_trading_state(self.state, [report], (), 1)
        self.state = transition.state
        return Assessment((report,), transition.state, transition.previous, False, {})

    def calls_for_halt(self, assessment: Assessment) -> bool:
        """True the first time in this run a point calls for the halt."""
        if not assessment.halt or self.halt_called:
            return False
        self.halt_called = True
        return True
