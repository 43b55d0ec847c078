"""Guardian functions benchmark: microseconds per call of each of the 20 functions of
node.guardian against the straightforward pandas implementation of the same computation
(tests/node/guardian/pandas_reference.py, also the tests' reference), on the inputs a guardian
handles: two years of replayed S&P 500 / NASDAQ returns (arch package), the full S&P 500 close
history, one order, tens of fills, trades, peers and nodes, a deny list of 1,000 addresses.
Ratio = ours / pandas (goal: <= 1 for every function). Before timing, each pair's answers are
compared ("agree"). Then the in-process pre-trade check set of one order (state gate, notional,
position, rate, balance, deny list prepared once as a Denylist, license) as p50 / p99 latency.

Timed by benchmarks/per_call.py (best of a few runs of enough calls). The whole
run takes about half a minute. Print only: the lead records the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from per_call import Case, close, compare

from node.guardian import compliance, integrity, limits, risk, shutdown
from node.guardian.decisions import Trigger
from node.guardian.orders import ClosedTrade, Fill, Order
from node.guardian.registry import GUARDIAN_FUNCTIONS
from node.sources.replay import load_tape
from noderr.domain import NodeType
from tests.node.guardian import pandas_reference as pandas_impl

PRE_TRADE_ORDERS = 5_000
NOW = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)




def address(number: int) -> str:
    return "0x" + f"{number:040x}"


@dataclasses.dataclass(frozen=True)
class Inputs:
    returns: pd.DataFrame
    positions: list[float]
    times: np.ndarray
    closes: np.ndarray
    equity: np.ndarray
    fills: list[Fill]
    trades: list[ClosedTrade]
    membership: dict[str, set[NodeType]]
    denylist: list[str]
    last_seen: dict[str, datetime]
    peers: dict[str, str]


def inputs() -> Inputs:
    rng = np.random.default_rng(11)
    sp500, nasdaq = load_tape("SP500").bars, load_tape("NASDAQ").bars
    frame = pd.DataFrame({"SP500": sp500.close, "NASDAQ": nasdaq.close},
                         index=pd.DatetimeIndex(sp500.time)).pct_change().iloc[-500:]
    equity = 1e6 * np.cumprod(1 + frame.to_numpy() @ np.array([0.6, 0.4]))
    owners = ["alice", "bob", "carol", "dave"]
    fills = [Fill(owners[i % 4], "SP500" if i % 3 else "GOOG", "buy" if rng.random() < .5
                  else "sell", 1.0, 100.0, NOW + timedelta(seconds=float(i * 7)))
             for i in range(200)]
    reasons = ["stop_loss", "roi", "exit_signal", "trailing_stop_loss"]
    trades = [ClosedTrade("SP500", NOW - timedelta(minutes=float(i * 3)), reasons[i % 4],
                          float(rng.normal(0, 0.02))) for i in range(50)]
    membership = {address(i): {NodeType(1 + i % 3)} for i in range(1, 51)}
    last_seen = {f"node-{i}": NOW - timedelta(seconds=float(rng.uniform(0, 40)))
                 for i in range(20)}
    peers = {f"peer-{i}": ("ab" if i != 4 else "cd") * 32 for i in range(7)}
    return Inputs(frame, [1_000_000.0, -400_000.0], sp500.time, sp500.close, equity, fills,
                  trades, membership, [address(10_000 + i) for i in range(1_000)], last_seen,
                  peers)


def cases(data: Inputs) -> list[Case]:
    returns = data.returns.to_numpy()
    order = Order("SP500", "buy", 10.0)
    caps = {"SP500": 50_000.0, "NASDAQ": 20_000.0}
    book = {"SP500": 4.0, "NASDAQ": -2.0}
    bucket = limits.TokenBucket.full(10, 5.0, NOW)
    later = NOW + timedelta(milliseconds=150)
    order_times = pd.Series(pd.to_datetime([NOW, later]))
    now_2008 = datetime(2008, 10, 10, tzinfo=UTC)
    week = timedelta(days=7)
    triggers = [Trigger(False, "kill_switch", -10.0, -500.0),
                Trigger(True, "circuit_breaker", 0.12, 0.1)]
    votes = [address(1), address(2)]
    screened = [address(3), address(10_500)]
    recovered = [address(i) for i in (1, 2, 3, 4, 5)]
    signer_set = [address(i) for i in range(1, 8)]
    expected = [*data.last_seen, "node-missing"]
    peer_times = [NOW + timedelta(milliseconds=float(i * 40)) for i in range(-3, 4)]
    decision = {"check": "order_notional", "allowed": False, "value": 55_000.0, "limit": 50_000.0}
    names, quantities, prices = ["SP500", "NASDAQ", "GOOG", "EURUSD"], [3.0, -2.0, 10.0, 1e5], \
        [2500.0, 7000.0, 1000.0, 1.1]
    return [
        Case("compute_var_historical",
             lambda: risk.compute_var_historical(data.positions, returns),
             lambda: pandas_impl.var_historical(data.positions, data.returns, 0.99),
             lambda a, b: close(a.var, b[0]) and close(a.es, b[1])),
        Case("compute_var_ewma", lambda: risk.compute_var_ewma(data.positions, returns),
             lambda: pandas_impl.var_ewma(data.positions, data.returns, 0.99, 0.94),
             lambda a, b: close(a.var, b[0]) and close(a.es, b[1])),
        Case("compute_drawdown", lambda: risk.compute_drawdown(data.equity),
             lambda: pandas_impl.drawdown(data.equity),
             lambda a, b: close(a.current, b[0]) and close(a.maximum, b[1])),
        Case("compute_exposure_concentration",
             lambda: risk.compute_exposure_concentration(names, quantities, prices),
             lambda: pandas_impl.exposure(names, quantities, prices),
             lambda a, b: close(a.herfindahl, b[2]) and a.largest == b[4]),
        Case("check_order_notional_limit",
             lambda: limits.check_order_notional_limit(order, 5_100.0, caps),
             lambda: pandas_impl.order_notional_allowed(order, 5_100.0, caps),
             lambda a, b: a.allowed == b),
        Case("check_position_limit", lambda: limits.check_position_limit(book, order,
                                                                          {"SP500": 12.0}),
             lambda: pandas_impl.position_allowed(book, order, {"SP500": 12.0}),
             lambda a, b: a.allowed == b),
        Case("check_order_rate_limit",
             lambda: limits.check_order_rate_limit(
                 limits.check_order_rate_limit(bucket, NOW).bucket, later),
             lambda: pandas_impl.rate_limit_admitted(order_times, 10, 5.0),
             lambda a, b: a.allowed == b[-1]),
        Case("check_balance_sufficiency",
             lambda: limits.check_balance_sufficiency(60_000.0, order, 5_000.0, position=-4.0,
                                                      fee_rate=0.001),
             lambda: pandas_impl.balance_required(order, 5_000.0, -4.0, 0.001),
             lambda a, b: close(a.value, b)),
        Case("evaluate_kill_switch", lambda: shutdown.evaluate_kill_switch(-620.0, -500.0),
             lambda: pandas_impl.kill_switch(-620.0, -500.0),
             lambda a, b: a.triggered == b),
        Case("evaluate_circuit_breaker",
             lambda: shutdown.evaluate_circuit_breaker(data.times, data.closes, now_2008, week,
                                                       0.1),
             lambda: pandas_impl.circuit_breaker_move(data.times, data.closes, now_2008, week),
             lambda a, b: close(a.value, b)),
        Case("evaluate_stoploss_guard",
             lambda: shutdown.evaluate_stoploss_guard(data.trades, NOW, timedelta(hours=1), 4,
                                                      timedelta(minutes=30)),
             lambda: pandas_impl.stoploss_guard(data.trades, NOW, timedelta(hours=1), 4,
                                                timedelta(minutes=30)),
             lambda a, b: a.until == b),
        Case("set_trading_state",
             lambda: shutdown.set_trading_state(shutdown.TradingState.ACTIVE, triggers, votes,
                                                quorum=3),
             lambda: pandas_impl.trading_state("ACTIVE", [t.triggered for t in triggers],
                                               votes, 3, False),
             lambda a, b: a.state == b),
        Case("check_license_validity",
             lambda: compliance.check_license_validity(address(38), NodeType.GUARDIAN,
                                                       data.membership),
             lambda: pandas_impl.license_valid(address(38), 2, data.membership),
             lambda a, b: a.allowed == b),
        Case("screen_address_denylist",
             lambda: compliance.screen_address_denylist(screened, data.denylist),
             lambda: pandas_impl.denylist_hits(screened, data.denylist),
             lambda a, b: list(a.hits) == b),
        Case("detect_wash_trading",
             lambda: compliance.detect_wash_trading(data.fills, timedelta(seconds=30)),
             lambda: pandas_impl.wash_pairs(data.fills, timedelta(seconds=30)),
             lambda a, b: [(p.buy, p.sell) for p in a.pairs] == b),
        Case("audit_log_append", lambda: compliance.audit_log_append(None, decision, NOW),
             lambda: pandas_impl.audit_hash(0, NOW, decision, compliance.GENESIS_HASH),
             lambda a, b: a.hash == b),
        Case("verify_report_signatures",
             lambda: integrity.verify_report_signatures(recovered, signer_set, f=2),
             lambda: pandas_impl.distinct_authorised_signers(recovered, signer_set),
             lambda a, b: a.signers == b),
        Case("verify_state_consistency",
             lambda: integrity.verify_state_consistency(data.peers),
             lambda: pandas_impl.state_majority(data.peers),
             lambda a, b: a.majority_hash == b[0] and list(a.dissenters) == b[1]),
        Case("check_node_heartbeats",
             lambda: integrity.check_node_heartbeats(data.last_seen, expected, NOW,
                                                     timedelta(seconds=30)),
             lambda: pandas_impl.heartbeats(data.last_seen, expected, NOW,
                                            timedelta(seconds=30)),
             lambda a, b: list(a.missing) == b[0] and [n for n, _ in a.stale] == b[1]),
        Case("check_clock_skew",
             lambda: integrity.check_clock_skew(NOW, peer_times, timedelta(milliseconds=500)),
             lambda: pandas_impl.clock_skew(NOW, peer_times),
             lambda a, b: a.to_peers == b),
    ]


def pre_trade_latency_us(data: Inputs) -> tuple[float, float]:
    """p50 and p99 of the full in-process check set of one order, over PRE_TRADE_ORDERS."""
    caps, position_caps = {"SP500": 50_000.0}, {"SP500": 100.0}
    bucket = limits.TokenBucket.full(1_000, 1_000.0, NOW)
    book = {"SP500": 4.0}
    denylist = compliance.Denylist.of(data.denylist)
    samples = []
    for index in range(PRE_TRADE_ORDERS):
        order = Order("SP500", "buy" if index % 2 else "sell", 1.0 + index % 5)
        at = NOW + timedelta(milliseconds=index)
        began = time.perf_counter()
        shutdown.check_trading_state(shutdown.TradingState.ACTIVE, book["SP500"], order)
        limits.check_order_notional_limit(order, 5_000.0, caps)
        limits.check_position_limit(book, order, position_caps)
        bucket = limits.check_order_rate_limit(bucket, at).bucket
        limits.check_balance_sufficiency(1e6, order, 5_000.0, position=book["SP500"])
        compliance.screen_address_denylist([address(7)], denylist)
        compliance.check_license_validity(address(7), NodeType.ORACLE, data.membership)
        samples.append((time.perf_counter() - began) * 1e6)
    quantiles = statistics.quantiles(samples, n=100)
    return quantiles[49], quantiles[98]


def main() -> int:
    data = inputs()
    table = cases(data)
    assert [case.name for case in table] == list(GUARDIAN_FUNCTIONS), "one case per function"
    slower = compare(table)
    p50, p99 = pre_trade_latency_us(data)
    print(f"\npre-trade check set (state, notional, position, rate, balance, prepared deny "
          f"list of {len(data.denylist)}, license among {len(data.membership)}): p50 {p50:.1f} µs, "
          f"p99 {p99:.1f} µs per order (goal p99 < 1000 µs)")
    if slower:
        print(f"slower than pandas: {', '.join(slower)}")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
