"""Risk benchmark (`make bench-risk`): what guarding an order costs.

1. The full pre-trade check set in process, per order, exactly as a Guardian node answers a
   request (GuardianDuties.decide: license, deny list of 1,000, trading state, notional,
   position, balance, price band, rate, each recorded in the execution log): p50 / p99 latency
   and orders/s on one core, against the same checks written as a plain pandas loop
   (tests/node/guardian/pandas_reference.py, one DataFrame or Series per check), both on the
   same orders, whose decisions are compared first. Goal: p99 < 1 ms.
2. End-to-end order latency with the guardian round trip over a real nats-server at 1 and 3
   guardians, every answer required (benchmarks/risk_bus.py: guardian processes with a
   membership built directly, no chain or backend).
3. The portfolio watch (node/guardian/watch.py) on a buy-and-hold S&P 500 desk, every
   equity point of 2007-2008 assessed (drawdown, kill switch, historical and EWMA VaR/ES):
   µs per point against the same readings the pandas way, when 2008 is first reduced and the
   halt called for, and the false-halt rate over the calm quarters of 1999-2018 (annualised
   volatility under 15%).
4. Halt propagation (breach -> halt transaction -> indexed -> desk stopped) needs the whole
   stack (anvil, indexer, backend); it is not re-measured here: the figure quoted is
   tests/node/guardians/test_f_halt.py's.

Print only: the lead records the figures in docs/benchmarks.md. About a minute in all."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
from eth_account import Account
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from risk_bus import NoObserver, round_trips

from node.bus.membership import Membership
from node.desk.records import Order
from node.execution import ExecutionLog
from node.guardian.decisions import LimitDecision
from node.guardian.shutdown import TradingState
from node.guardian.watch import PortfolioWatch, RiskLimits
from node.runtime.guardian import GuardianDuties, RiskRequest
from node.settings import GuardianSettings
from node.sources.replay import load_tape
from noderr.domain import NodeType
from tests.node.guardian import pandas_reference as pandas_impl

IN_PROCESS_ORDERS = 20_000
PANDAS_ORDERS = 1_000
BUS_ORDERS = 300
NOW = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
REQUESTER = Account.from_key(bytes([7]) * 32).address
MEMBERS = {Account.from_key(bytes([30 + i]) * 32).address: {NodeType(1 + i % 3)}
           for i in range(49)} | {REQUESTER: {NodeType.ORACLE}}
DENYLIST = [f"0x{10_000 + i:040x}" for i in range(1_000)]
SETTINGS: dict[str, object] = {
    "guardian_max_notional": 20_000.0, "guardian_max_position": 100.0,
    "guardian_rate_capacity": 1e9, "guardian_rate_per_second": 1e9, "guardian_fee_rate": 1e-4,
    "guardian_price_band": 0.05, "guardian_denylist": DENYLIST}
HALT_PROPAGATION_S = (0.96, 2.97)
"""tests/node/guardians/test_f_halt.py, two runs (the second on a loaded machine): the
guardians' breach to the halt in the mirror, in seconds."""


def requests(count: int) -> list[RiskRequest]:
    """Orders of 1 to 5 units at 5,000 around a position of 4: every 7th over the notional cap,
    every 11th a limit order beyond the price band, the rest allowed."""
    made = []
    for number in range(count):
        quantity = 5.0 if number % 7 == 0 else 1.0 + number % 4
        limit = 5_500.0 if number % 11 == 0 else None
        order = Order(f"bench-{number}", "SP500", "buy" if number % 2 else "sell",
                      Decimal(quantity), NOW, "limit" if limit else "market",
                      None if limit is None else Decimal(limit)).for_guardian()
        made.append(RiskRequest(f"{number:08x}", order, NOW + timedelta(microseconds=number),
                                5_000.0, {"SP500": 4.0}, 1e6, TradingState.ACTIVE))
    return made


def guardian() -> GuardianDuties:
    membership = Membership()
    membership.update(1, [(address, kind, index) for index, (address, kinds)
                          in enumerate(MEMBERS.items()) for kind in kinds])
    return GuardianDuties(SimpleNamespace(membership=membership), ExecutionLog(),
                          GuardianSettings(**SETTINGS), NoObserver())


class PandasChecks:
    """The guardian's checks in its order, each the plain pandas way; the rate bucket kept in a
    pandas Series as tests/node/guardian/pandas_reference.rate_limit_admitted keeps it."""

    def __init__(self) -> None:
        self.bucket = pd.Series({"tokens": SETTINGS["guardian_rate_capacity"], "at": NOW})

    def __call__(self, request: RiskRequest) -> tuple[bool, str]:
        order, cap = request.order, SETTINGS["guardian_max_notional"]
        held = request.positions.get(order.instrument, 0.0)
        for allowed, check in (
            (lambda: pandas_impl.license_valid(REQUESTER, NodeType.ORACLE, MEMBERS),
             "license_validity"),
            (lambda: not pandas_impl.denylist_hits([REQUESTER], DENYLIST), "address_denylist"),
            (lambda: self.state_allows(request.trading_state, held, order.signed_quantity),
             "trading_state"),
            (lambda: pandas_impl.order_notional_allowed(order, request.price,
                                                        {order.instrument: cap}),
             "order_notional"),
            (lambda: pandas_impl.position_allowed(request.positions, order, {
                order.instrument: SETTINGS["guardian_max_position"]}), "position"),
            (lambda: pandas_impl.balance_required(order, request.price, held, SETTINGS[
                "guardian_fee_rate"]) <= request.free_balance, "balance"),
            (lambda: pandas_impl.price_band_deviation(order, request.price)
             <= SETTINGS["guardian_price_band"], "price_band"),
            (lambda: self.spend_token(request.at), "order_rate"),
        ):
            if not allowed():
                return False, check
        return True, "pre_trade"

    @staticmethod
    def state_allows(state: TradingState, held: float, signed: float) -> bool:
        book = pd.Series({"held": held, "after": held + signed})
        reducing = book.abs()["after"] < book.abs()["held"] and book.prod() >= 0
        return state is TradingState.ACTIVE or (state is TradingState.REDUCING and reducing)

    def spend_token(self, at: datetime) -> bool:
        elapsed = (at - self.bucket["at"]).total_seconds()
        tokens = min(SETTINGS["guardian_rate_capacity"],
                     self.bucket["tokens"] + elapsed * SETTINGS["guardian_rate_per_second"])
        allowed = tokens >= 1
        self.bucket = pd.Series({"tokens": tokens - 1 if allowed else tokens, "at": at})
        return allowed


def timed(decide: Callable[[RiskRequest], object], batch: list[RiskRequest],
          label: str) -> tuple[list[float], list[float], float]:
    """Each request's wall-clock latency and its thread's CPU time in µs (apart, they tell a
    preempted request from a slow one), and the orders per second of the whole loop."""
    latencies, cpu = [], []
    began = time.perf_counter()
    for request in tqdm(batch, desc=label, unit="order", mininterval=0.5):
        start, start_cpu = time.perf_counter(), time.thread_time()
        decide(request)
        latencies.append((time.perf_counter() - start) * 1e6)
        cpu.append((time.thread_time() - start_cpu) * 1e6)
    return latencies, cpu, len(batch) / (time.perf_counter() - began)


def ours(duties: GuardianDuties) -> Callable[[RiskRequest], LimitDecision]:
    def decide(request: RiskRequest) -> LimitDecision:
        decision = duties.decide(REQUESTER, NodeType.ORACLE, request)
        duties.log.drain()
        return decision
    return decide


def percentiles(latencies: list[float]) -> tuple[float, float]:
    quantiles = statistics.quantiles(latencies, n=100)
    return quantiles[49], quantiles[98]


def in_process() -> bool:
    batch = requests(IN_PROCESS_ORDERS)
    decide, baseline = ours(guardian()), PandasChecks()
    agreeing = sum(((d := decide(r)).allowed, d.check) == baseline(r)
                   for r in batch[:PANDAS_ORDERS])
    fresh, baseline = ours(guardian()), PandasChecks()
    latencies, cpu, rate = timed(fresh, batch, "in process, GuardianDuties.decide")
    pandas_latencies, _, pandas_rate = timed(baseline, batch[:PANDAS_ORDERS],
                                             "plain pandas loop")
    (p50, p99), (pandas_p50, pandas_p99) = percentiles(latencies), percentiles(pandas_latencies)
    print(f"\nfull pre-trade check set, in process ({len(batch)} orders; pandas "
          f"{len(pandas_latencies)}; decisions agree on {agreeing}/{PANDAS_ORDERS}):")
    print(f"  ours   p50 {p50:8.1f} µs  p99 {p99:8.1f} µs  {rate:10,.0f} orders/s on one core")
    print(f"  pandas p50 {pandas_p50:8.1f} µs  p99 {pandas_p99:8.1f} µs  {pandas_rate:10,.0f} "
          f"orders/s")
    print(f"  ours, CPU time of the thread: p50 {percentiles(cpu)[0]:.1f} µs, p99 "
          f"{percentiles(cpu)[1]:.1f} µs (a wall-clock p99 far above it is preemption)")
    print(f"  ratio ours/pandas: p50 {p50 / pandas_p50:.3f}, p99 {p99 / pandas_p99:.3f}, "
          f"throughput x{rate / pandas_rate:.1f}; goal p99 < 1000 µs: "
          f"{'met' if p99 < 1000 else 'MISSED'}")
    return agreeing == PANDAS_ORDERS


def over_the_bus() -> None:
    trips = [round_trips(count, BUS_ORDERS, SETTINGS) for count in (1, 3)]
    print("\nend-to-end order latency, desk -> guardians -> desk over nats-server:")
    for each in trips:
        print(f"  {each.summary()}")


def pandas_point(equity: pd.Series, initial: float, limits: RiskLimits) -> bool:
    """Whether the curve's last point crosses any of the watch's limits, the pandas way."""
    current, _ = pandas_impl.drawdown(equity)
    crossed = current >= limits.max_drawdown or pandas_impl.kill_switch(
        equity.iloc[-1] - initial, -limits.max_drawdown * initial)
    returns = equity.pct_change().dropna().iloc[-limits.window:].to_frame()
    if len(returns) >= limits.min_returns:
        ewma = pandas_impl.var_ewma([1.0], returns, limits.confidence, 0.94)[0]
        crossed = crossed or ewma > limits.max_var
    if len(returns) >= 100:
        historical = pandas_impl.var_historical([1.0], returns, limits.confidence)[0]
        crossed = crossed or historical > limits.max_var
    return bool(crossed)


def watched(equity: pd.Series) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """The points at which a watch over the curve reduces, and at which it calls the halt."""
    watch = PortfolioWatch(float(equity.iloc[0]), RiskLimits())
    reduced, halted = [], []
    for at, value in equity.items():
        assessment = watch.observe(float(value))
        if assessment.state is not TradingState.ACTIVE:
            reduced.append(at)
        if watch.calls_for_halt(assessment):
            halted.append(at)
    return reduced, halted


def portfolio_watch() -> None:
    bars = load_tape("SP500").bars
    closes = pd.Series(bars.close, index=pd.DatetimeIndex(bars.time))
    crash = 1e6 * closes["2007":"2008"] / closes["2007"].iloc[0]
    watch, limits = PortfolioWatch(float(crash.iloc[0]), RiskLimits()), RiskLimits()
    ours_us, pandas_us, agreeing = [], [], 0
    for end in tqdm(range(1, len(crash) + 1), desc="portfolio watch, 2007-2008", unit="point"):
        began = time.perf_counter()
        assessment = watch.observe(float(crash.iloc[end - 1]))
        ours_us.append((time.perf_counter() - began) * 1e6)
        began = time.perf_counter()
        crossed = pandas_point(crash.iloc[:end], float(crash.iloc[0]), limits)
        pandas_us.append((time.perf_counter() - began) * 1e6)
        agreeing += bool(assessment.crossed) == crossed
    reduced, halted = watched(crash)
    quarters = closes.index.to_period("Q")
    volatility = closes.pct_change().groupby(quarters).std() * (252 ** 0.5)
    calm = volatility[volatility < 0.15].index
    false = [quarter for quarter in tqdm(calm, desc="calm quarters", unit="quarter")
             if any(watched(closes[quarters == quarter]))]
    ours_p50, pandas_p50 = statistics.median(ours_us), statistics.median(pandas_us)
    print(f"\nportfolio watch, {len(crash)} equity points of a buy-and-hold S&P 500 desk "
          f"2007-2008: p50 {ours_p50:.0f} µs per point (pandas {pandas_p50:.0f} µs, ratio "
          f"{ours_p50 / pandas_p50:.3f}); limits crossed alike at {agreeing}/{len(crash)} "
          f"points")
    print(f"  2008: first reduced {reduced[0].date() if reduced else 'never'}, halt called "
          f"{halted[0].date() if halted else 'never'}; false-halt rate over calm quarters "
          f"(annualised volatility < 15%): {len(false)}/{len(calm)}")


def main() -> int:
    agreed = in_process()
    over_the_bus()
    portfolio_watch()
    print(f"\nhalt propagation (breach -> halt tx -> indexed -> desk stopped): not re-measured "
          f"here (needs the whole stack); tests/node/guardians/test_f_halt.py measured "
          f"{HALT_PROPAGATION_S[0]} s and {HALT_PROPAGATION_S[1]} s in two runs from the breach "
          f"to the halt in the mirror")
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
