"""The 20 Guardian computations written the plain pandas way, one short function each, on the
same inputs as node.guardian's functions. The tests check node.guardian against them and
benchmarks/guardian_functions.py measures how node.guardian compares. No input checks here:
these are the computations alone."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy import stats

from node.guardian.orders import ClosedTrade, Fill, Order

STOPLOSS_EXITS = ["stop_loss", "stoploss_on_exchange", "trailing_stop_loss", "liquidation"]


def var_historical(positions: Sequence[float], returns: pd.DataFrame,
                   confidence: float) -> tuple[float, float]:
    losses = -returns.mul(list(positions), axis=1).sum(axis=1)
    var = losses.quantile(confidence)
    return float(var), float(losses[losses >= var].mean())


def var_ewma(positions: Sequence[float], returns: pd.DataFrame, confidence: float,
             decay: float) -> tuple[float, float, float]:
    columns = returns.columns
    covariance = pd.DataFrame(
        [[(returns[a] * returns[b]).ewm(alpha=1 - decay, adjust=True).mean().iloc[-1]
          for b in columns] for a in columns], index=columns, columns=columns)
    exposure = pd.Series(list(positions), index=columns)
    sigma = float(np.sqrt(exposure @ covariance @ exposure))
    z = stats.norm.ppf(confidence)
    return float(z * sigma), float(sigma * stats.norm.pdf(z) / (1 - confidence)), sigma


def drawdown(equity: Sequence[float]) -> tuple[float, float]:
    curve = pd.Series(equity)
    drawdowns = 1 - curve / curve.cummax()
    return float(drawdowns.iloc[-1]), float(drawdowns.max())


def exposure(instruments: Sequence[str], quantities: Sequence[float],
             prices: Sequence[float]) -> tuple[float, float, float, float, str]:
    value = pd.Series(quantities, index=instruments) * pd.Series(prices, index=instruments)
    shares = value.abs() / value.abs().sum()
    return (float(value.abs().sum()), float(value.sum()), float((shares ** 2).sum()),
            float(shares.max()), str(shares.idxmax()))


def order_notional_allowed(order: Order, price: float, limits: Mapping[str, float]) -> bool:
    orders = pd.DataFrame([{"instrument": order.instrument, "quantity": order.quantity,
                            "price": order.price if order.price is not None else price}])
    orders["cap"] = orders["instrument"].map(pd.Series(limits))
    return bool((orders["quantity"] * orders["price"] <= orders["cap"]).iloc[0])


def price_band_deviation(order: Order, reference: float) -> float:
    orders = pd.DataFrame([{"price": order.price if order.price is not None else reference,
                            "reference": reference}])
    return float((orders["price"] / orders["reference"] - 1).abs().iloc[0])


def position_allowed(positions: Mapping[str, float], order: Order,
                     limits: Mapping[str, float]) -> bool:
    book = pd.Series(positions, dtype=float)
    current = book.get(order.instrument, 0.0)
    after = book.add(pd.Series({order.instrument: order.signed_quantity}), fill_value=0.0)
    size = abs(after[order.instrument])
    return bool(size <= limits[order.instrument] or size < abs(current))


def rate_limit_admitted(times: pd.Series, capacity: float, rate: float) -> list[bool]:
    """A token bucket replayed over order times (a pandas Series of Timestamps), state in a
    pandas Series as a straightforward pandas program keeps it."""
    state = pd.Series({"tokens": capacity, "at": times.iloc[0]})
    admitted = []
    for at in times:
        elapsed = (at - state["at"]).total_seconds()
        tokens = min(capacity, state["tokens"] + elapsed * rate)
        allowed = tokens >= 1
        state = pd.Series({"tokens": tokens - 1 if allowed else tokens, "at": at})
        admitted.append(allowed)
    return admitted


def gcra_admitted(seconds: Sequence[float], capacity: int, rate: float,
                  start: float = 0.0) -> list[bool]:
    """The generic cell rate algorithm (ATM's virtual scheduling form), equivalent to a token
    bucket of `capacity` refilled at `rate` per second, full at `start`: an independent
    formulation."""
    interval = 1 / rate
    tolerance = (capacity - 1) * interval
    theoretical = start
    admitted = []
    for at in seconds:
        if at < theoretical - tolerance:
            admitted.append(False)
            continue
        theoretical = max(theoretical, at) + interval
        admitted.append(True)
    return admitted


def balance_required(order: Order, price: float, position: float, fee_rate: float) -> float:
    legs = pd.DataFrame({"quantity": [order.quantity], "price": [order.price or price]})
    closing = (min(order.quantity, abs(position))
               if position * order.signed_quantity < 0 else 0.0)
    legs["opening"] = legs["quantity"] - closing
    return float((legs["opening"] * legs["price"]
                  + legs["quantity"] * legs["price"] * fee_rate).sum())


def kill_switch(pnl: float, threshold: float) -> bool:
    return bool(pd.Series([pnl]).le(threshold).iloc[0])


def circuit_breaker_move(times: np.ndarray, prices: Sequence[float], now: datetime,
                         window: timedelta) -> float:
    series = pd.Series(prices, index=pd.DatetimeIndex(times))
    end = pd.Timestamp(now).tz_convert(None)
    start = end - pd.Timedelta(window)
    reference = series.asof(start)
    in_window = series[(series.index > start) & (series.index <= end)]
    moves = pd.concat([pd.Series([reference]), in_window]) / reference - 1
    return float(moves.abs().max())


def stoploss_guard(trades: Sequence[ClosedTrade], now: datetime, lookback: timedelta,
                   trade_limit: int, stop_duration: timedelta) -> datetime | None:
    log = pd.DataFrame([vars(trade) for trade in trades])
    recent = log[(log["closed_at"] > now - lookback) & (log["closed_at"] <= now)
                 & log["exit_reason"].isin(STOPLOSS_EXITS) & (log["profit_ratio"] < 0)]
    if len(recent) < trade_limit:
        return None
    return recent["closed_at"].max().to_pydatetime() + stop_duration


def trading_state(current: str, triggered: Sequence[bool], votes: Collection[str], quorum: int,
                  resume: bool) -> str:
    firing = pd.Series(triggered, dtype=bool).any()
    if current == "HALTED" and not resume:
        return "HALTED"
    if current != "HALTED" and pd.Series(list(votes), dtype=str).str.lower().nunique() >= quorum:
        return "HALTED"
    return "REDUCING" if firing else "ACTIVE"


def license_valid(address: str, required: int, membership: Mapping[str, Collection[int]]) -> bool:
    rows = pd.DataFrame([(member.lower(), int(kind)) for member, kinds in membership.items()
                         for kind in kinds], columns=["address", "type"])
    return bool(((rows["address"] == address.lower()) & (rows["type"] == int(required))).any())


def denylist_hits(addresses: Sequence[str], denylist: Collection[str]) -> list[str]:
    lowered = pd.Series(list(addresses), dtype=str).str.lower()
    listed = pd.Series(list(denylist), dtype=str).str.lower()
    return lowered[lowered.isin(listed)].drop_duplicates().tolist()


def wash_pairs(fills: Sequence[Fill], window: timedelta) -> list[tuple[int, int]]:
    table = pd.DataFrame([vars(fill) for fill in fills]).reset_index()
    buys, sells = table[table["side"] == "buy"], table[table["side"] == "sell"]
    pairs = buys.merge(sells, on=["owner", "instrument"], suffixes=("_buy", "_sell"))
    close = (pairs["at_buy"] - pairs["at_sell"]).abs() <= pd.Timedelta(window)
    return sorted(zip(pairs.loc[close, "index_buy"].tolist(),
                      pairs.loc[close, "index_sell"].tolist(), strict=True))


def audit_hash(index: int, at: datetime, decision: Mapping[str, object], previous: str) -> str:
    text = json.dumps(decision, sort_keys=True, separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False)
    frame = pd.DataFrame([{"index": index, "at": at.isoformat(), "decision": text,
                           "previous": previous}])
    row = frame.iloc[0]
    body = json.dumps([int(row["index"]), row["at"], row["decision"], row["previous"]],
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def distinct_authorised_signers(recovered: Sequence[str], authorised: Collection[str]) -> int:
    signers = pd.Series(list(recovered), dtype=str).str.lower()
    members = pd.Series(list(authorised), dtype=str).str.lower()
    return int(signers[signers.isin(members)].nunique())


def state_majority(snapshots: Mapping[str, str]) -> tuple[str | None, list[str]]:
    hashes = pd.Series(snapshots, dtype=str).str.lower().str.removeprefix("0x")
    counts = hashes.value_counts()
    majority = counts.index[0] if counts.iloc[0] > len(hashes) // 2 else None
    return majority, hashes[hashes != majority].index.tolist()


def heartbeats(last_seen: Mapping[str, datetime], expected: Sequence[str], now: datetime,
               max_silence: timedelta) -> tuple[list[str], list[str]]:
    seen = pd.Series(last_seen, dtype=object).reindex(list(expected))
    missing = seen[seen.isna()].index.tolist()
    silence = pd.Timestamp(now) - pd.to_datetime(seen.dropna(), utc=True)
    return missing, silence[silence > pd.Timedelta(max_silence)].index.tolist()


def clock_skew(local: datetime, peer_times: Sequence[datetime]) -> timedelta:
    peers = pd.to_datetime(pd.Series(list(peer_times)), utc=True)
    return (pd.Timestamp(local) - peers.median()).to_pytimedelta()
