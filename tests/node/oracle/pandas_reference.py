"""The 15 Oracle computations written the plain pandas way, one short function each, on the
same inputs as node.oracle's functions. The tests check node.oracle against them and
benchmarks/oracle_functions.py measures how much faster node.oracle is. No input checks here:
these are the computations alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from node.sources.market import Bars, BookSnapshot

LN2 = math.log(2.0)


def frame(bars: Bars) -> pd.DataFrame:
    return pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low,
                         "close": bars.close, "volume": bars.volume},
                        index=pd.DatetimeIndex(bars.time))


def book_frame(book: BookSnapshot) -> pd.DataFrame:
    return pd.concat([
        pd.DataFrame({"side": "bid", "level": range(len(book.bid_prices)),
                      "price": book.bid_prices, "size": book.bid_sizes}),
        pd.DataFrame({"side": "ask", "level": range(len(book.ask_prices)),
                      "price": book.ask_prices, "size": book.ask_sizes}),
    ], ignore_index=True)


def median_price(prices: Sequence[float]) -> float:
    return float(pd.Series(prices).quantile(0.5, interpolation="higher"))


def confidence_weighted_price(prices: Sequence[float],
                              confidences: Sequence[float]) -> tuple[float, float]:
    price, confidence = pd.Series(prices), pd.Series(confidences)
    votes = pd.concat([price - confidence, price, price + confidence]).sort_values(
        ignore_index=True)
    quarter = len(votes) // 4
    p50 = votes.median()
    p25, p75 = votes.iloc[quarter], votes.iloc[len(votes) - 1 - quarter]
    return float(p50), float(max(p50 - p25, p75 - p50))


def twap(times: np.ndarray, prices: Sequence[float], end: datetime, window: timedelta) -> float:
    end_stamp = pd.Timestamp(end).tz_convert(None)
    start_stamp = end_stamp - pd.Timedelta(window)
    series = pd.Series(prices, index=pd.DatetimeIndex(times))
    series = series[series.index <= end_stamp]
    steps = series.reindex(series.index.union([start_stamp, end_stamp])).ffill()
    steps = steps[(steps.index >= start_stamp)]
    held = steps.index.to_series().diff().shift(-1).dt.total_seconds().fillna(0)
    return float(np.exp((np.log(steps) * held).sum() / held.sum()))


def should_publish(last_answer: float | None, last_updated: datetime | None, new_median: float,
                   now: datetime, deviation_threshold: float, heartbeat: timedelta) -> bool:
    if last_answer is None:
        return True
    answers = pd.Series([last_answer, new_median])
    deviation = (answers.diff().abs() / answers.shift()).iloc[-1]
    age = pd.Timestamp(now) - pd.Timestamp(last_updated)
    return bool(deviation >= deviation_threshold or age >= pd.Timedelta(heartbeat))


def resample(bars: Bars, period: timedelta) -> pd.DataFrame:
    return frame(bars).resample(pd.Timedelta(period), origin="epoch").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"},
    ).dropna(subset=["open"])


def vwap(bars: Bars) -> float:
    table = frame(bars)
    typical = (table["high"] + table["low"] + table["close"]) / 3
    return float((typical * table["volume"]).sum() / table["volume"].sum())


def realized_volatility(bars: Bars, periods_per_year: float = 252.0) -> tuple[float, float, float]:
    table = frame(bars)
    annual = math.sqrt(periods_per_year)
    range_squared = np.log(table["high"] / table["low"]) ** 2
    body_squared = np.log(table["close"] / table["open"]) ** 2
    return (float(np.log(table["close"]).diff().std()) * annual,
            math.sqrt(range_squared.mean() / (4 * LN2)) * annual,
            math.sqrt((0.5 * range_squared - (2 * LN2 - 1) * body_squared).mean()) * annual)


def book_imbalance(book: BookSnapshot, levels: int = 5) -> float:
    depth = book_frame(book).query("level < @levels").groupby("side")["size"].sum()
    return float((depth["bid"] - depth["ask"]) / (depth["bid"] + depth["ask"]))


def spread_and_microprice(book: BookSnapshot) -> tuple[float, float]:
    touch = book_frame(book).query("level == 0").set_index("side")
    bid, ask = touch.loc["bid"], touch.loc["ask"]
    mid = (bid["price"] + ask["price"]) / 2
    microprice = ((bid["price"] * ask["size"] + ask["price"] * bid["size"])
                  / (bid["size"] + ask["size"]))
    return float((ask["price"] - bid["price"]) / mid * 1e4), float(microprice)


def book_anomaly(books: Sequence[BookSnapshot], levels: int = 5, withdrawal_ratio: float = 0.5,
                 wall_multiple: float = 8.0) -> tuple[float, bool, int]:
    table = pd.concat([book_frame(book).assign(snapshot=index)
                       for index, book in enumerate(books)], ignore_index=True)
    depth = table.query("level < @levels").groupby("snapshot")["size"].sum()
    ratio = depth.iloc[-1] / depth.iloc[:-1].median()
    latest = table[table["snapshot"] == len(books) - 1]
    walls = int((latest["size"] >= wall_multiple * latest["size"].median()).sum())
    return float(ratio), bool(ratio < withdrawal_ratio), walls


def market_depth(book: BookSnapshot, bps: float) -> tuple[float, float]:
    table = book_frame(book)
    touch = table.query("level == 0")["price"]
    mid = touch.mean()
    band = mid * bps / 1e4
    inside = ((table["side"] == "bid") & (table["price"] >= mid - band)) | (
        (table["side"] == "ask") & (table["price"] <= mid + band))
    sizes = table[inside].groupby("side")["size"].sum()
    return float(sizes.get("bid", 0.0)), float(sizes.get("ask", 0.0))


def price_impact(book: BookSnapshot, notional: float, side: str = "buy") -> float:
    """The impact in basis points of the mid."""
    table = book_frame(book)
    mid = table.query("level == 0")["price"].mean()
    levels = table[table["side"] == ("ask" if side == "buy" else "bid")].copy()
    levels["notional"] = levels["price"] * levels["size"]
    before = levels["notional"].cumsum().shift(fill_value=0.0)
    taken = (notional - before).clip(lower=0).combine(levels["notional"], min)
    quantity = (taken / levels["price"]).sum()
    average = taken.sum() / quantity
    return float((average / mid - 1 if side == "buy" else 1 - average / mid) * 1e4)


def amihud(bars: Bars, window: int = 20) -> pd.Series:
    table = frame(bars)
    dollar_volume = table["close"] * table["volume"]
    ratio = (table["close"].pct_change().abs() / dollar_volume).where(dollar_volume > 0)
    return ratio.rolling(window, min_periods=1).mean().iloc[window:]


def jump_sigmas(value: float, observed_at: datetime, history_times: np.ndarray,
                history_values: Sequence[float]) -> float:
    history = pd.Series(history_values, index=pd.DatetimeIndex(history_times))
    gaps = history.index.to_series().diff().dt.total_seconds() * 1e9
    sigma = (np.log(history).diff() / np.sqrt(gaps)).std()
    elapsed = max(abs((pd.Timestamp(observed_at).tz_convert(None) - history.index[-1]).value),
                  gaps.median())
    return float(abs(np.log(value / history.iloc[-1])) / (sigma * math.sqrt(elapsed)))


def source_outliers(sources: Sequence[str], prices: Sequence[float], threshold: float = 3.5,
                    mad_floor: float = 1e-4) -> list[str]:
    series = pd.Series(prices, index=list(sources))
    median = series.median()
    mad = max((series - median).abs().median(), mad_floor * median)
    scores = 0.6745 * (series - median) / mad
    return list(scores[scores.abs() > threshold].index)
