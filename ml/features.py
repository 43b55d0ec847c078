"""The 94 features, computed from OHLCV alone: one implementation for training and serving.

Row t of the output uses rows t-60..t of the input and nothing later, so a forecast made at the
close of day t never sees day t+1. Every rolling operator works on explicit windows
(`sliding_window_view`, no running sums), so a row's value depends only on the rows of its window:
the serving path (the last rows of one instrument) and the batch path (a whole history) agree to
floating-point rounding. Definitions: docs/ml.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

OHLCV = ("open", "high", "low", "close", "volume")
WINDOWS = (5, 10, 20, 60)
HISTORY = max(WINDOWS) + 1
"""Rows one complete feature row needs: the 60-row window plus the close before it."""
EPS = 1e-12

KBAR = ("KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2")
DAILY = ("RET", "PARK", "GK", "RS", "DLVOL")
OPERATORS = ("ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN", "QTLU", "QTLD",
             "RANK", "RSV", "IMAX", "IMIN", "CORR", "CNTP", "SUMP", "VMA", "VSTD", "WVMA")
FEATURE_NAMES: tuple[str, ...] = (
    KBAR + DAILY + tuple(f"{op}{d}" for op in OPERATORS for d in WINDOWS))
FEATURE_HASH = hashlib.sha256(
    json.dumps({"names": FEATURE_NAMES, "history": HISTORY, "version": 1}).encode()
).hexdigest()
"""Changes whenever the feature list or its definitions change (bump `version` then)."""

GK_LOG_RANGE = 0.5
GK_LOG_CLOSE_OPEN = 2 * np.log(2) - 1


def garman_klass(open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                 close: np.ndarray) -> np.ndarray:
    """Garman-Klass daily variance; also the forecast target (the next day's value)."""
    return (GK_LOG_RANGE * np.log(high / low) ** 2
            - GK_LOG_CLOSE_OPEN * np.log(close / open_) ** 2)


def compute(frame: pd.DataFrame) -> pd.DataFrame:
    """The 94 features of every row of `frame` (columns open, high, low, close, volume; rows in
    time order); the first HISTORY-1 rows are NaN where a window is incomplete."""
    return pd.DataFrame(matrix(frame), index=frame.index, columns=list(FEATURE_NAMES))


def matrix(frame: pd.DataFrame) -> np.ndarray:
    """`compute` as a (rows, 94) array, without building a DataFrame (the serving path)."""
    arrays = [frame[name].to_numpy(dtype=np.float64) for name in OHLCV]
    columns = {**_kbar(*arrays), **_daily(*arrays), **_rolling(*arrays)}
    return np.column_stack([columns[name] for name in FEATURE_NAMES])


def latest(frame: pd.DataFrame, rows: int = 1) -> np.ndarray:
    """The feature rows of the last `rows` days of `frame`, from its last HISTORY + rows - 1
    rows only: (rows, 94)."""
    needed = HISTORY + rows - 1
    if len(frame) < needed:
        raise ValueError(f"need at least {needed} rows of history, got {len(frame)}")
    return matrix(frame.iloc[-needed:])[-rows:]


def _kbar(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
          _volume: np.ndarray) -> dict[str, np.ndarray]:
    span = high - low + EPS
    top, bottom = np.maximum(open_, close), np.minimum(open_, close)
    return {
        "KMID": (close - open_) / open_, "KLEN": (high - low) / open_,
        "KMID2": (close - open_) / span,
        "KUP": (high - top) / open_, "KUP2": (high - top) / span,
        "KLOW": (bottom - low) / open_, "KLOW2": (bottom - low) / span,
        "KSFT": (2 * close - high - low) / open_, "KSFT2": (2 * close - high - low) / span,
    }


def _daily(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
           volume: np.ndarray) -> dict[str, np.ndarray]:
    log_hl, log_ho, log_lo = np.log(high / low), np.log(high / open_), np.log(low / open_)
    log_hc, log_lc = np.log(high / close), np.log(low / close)
    return {
        "RET": _diff(np.log(close)),
        "PARK": log_hl ** 2 / (4 * np.log(2)),
        "GK": garman_klass(open_, high, low, close),
        "RS": log_hc * log_ho + log_lc * log_lo,
        "DLVOL": _diff(np.log1p(volume)),
    }


def _rolling(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
             volume: np.ndarray) -> dict[str, np.ndarray]:
    change = _diff(close)
    weighted_move = np.abs(change / _shift(close, 1)) * volume
    pad = _aligner(len(close))
    out: dict[str, np.ndarray] = {}
    for d in WINDOWS:
        closes, highs, lows = _windows(close, d), _windows(high, d), _windows(low, d)
        volumes, changes = _windows(volume, d), _windows(change, d)
        slope, intercept, r_squared = _regression(closes)
        max_high, min_low = pad(highs.max(axis=1)), pad(lows.min(axis=1))
        volume_mean = pad(volumes.mean(axis=1))
        moves = _windows(weighted_move, d)
        out |= {
            f"ROC{d}": _shift(close, d) / close,
            f"MA{d}": pad(closes.mean(axis=1)) / close,
            f"STD{d}": pad(closes.std(axis=1, ddof=1)) / close,
            f"BETA{d}": pad(slope) / close,
            f"RSQR{d}": pad(r_squared),
            f"RESI{d}": (close - pad(intercept + slope * d)) / close,
            f"MAX{d}": max_high / close,
            f"MIN{d}": min_low / close,
            f"QTLU{d}": pad(np.quantile(closes, 0.8, axis=1)) / close,
            f"QTLD{d}": pad(np.quantile(closes, 0.2, axis=1)) / close,
            f"RANK{d}": pad(_last_rank(closes)),
            f"RSV{d}": (close - min_low) / (max_high - min_low + EPS),
            f"IMAX{d}": pad(highs.argmax(axis=1) + 1.0) / d,
            f"IMIN{d}": pad(lows.argmin(axis=1) + 1.0) / d,
            f"CORR{d}": pad(_correlation(closes, _windows(np.log1p(volume), d))),
            f"CNTP{d}": pad(_mean_valid(changes > 0, changes)),
            f"SUMP{d}": pad(np.maximum(changes, 0).sum(axis=1)
                            / (np.abs(changes).sum(axis=1) + EPS)),
            f"VMA{d}": volume_mean / (volume + EPS),
            f"VSTD{d}": pad(volumes.std(axis=1, ddof=1)) / (volume + EPS),
            f"WVMA{d}": pad(moves.std(axis=1, ddof=1) / (moves.mean(axis=1) + EPS)),
        }
    return out


def _windows(values: np.ndarray, d: int) -> np.ndarray:
    """Rows of d consecutive values, the last one ending at each index from d-1 on."""
    if len(values) < d:
        return np.empty((0, d))
    return sliding_window_view(values, d)


def _aligner(n: int) -> Callable[[np.ndarray], np.ndarray]:
    """Aligns per-window results with the rows their windows end at (NaN before the first)."""
    def pad(per_window: np.ndarray) -> np.ndarray:
        aligned = np.full(n, np.nan)
        aligned[n - len(per_window):] = per_window
        return aligned
    return pad


def _shift(values: np.ndarray, lag: int) -> np.ndarray:
    shifted = np.full_like(values, np.nan)
    shifted[lag:] = values[:-lag]
    return shifted


def _diff(values: np.ndarray) -> np.ndarray:
    return values - _shift(values, 1)


def _regression(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, intercept and R² of each window regressed on 1..d (Alpha158's time index)."""
    d = y.shape[1]
    x = np.arange(1, d + 1, dtype=np.float64)
    x_centred = x - x.mean()
    y_centred = y - y.mean(axis=1, keepdims=True)
    covariance = y_centred @ x_centred
    slope = covariance / (x_centred @ x_centred)
    intercept = y.mean(axis=1) - slope * x.mean()
    y_variance = (y_centred ** 2).sum(axis=1)
    r_squared = np.divide(covariance ** 2, (x_centred @ x_centred) * y_variance,
                          out=np.zeros_like(covariance), where=y_variance > 0)
    return slope, intercept, r_squared


def _last_rank(windows: np.ndarray) -> np.ndarray:
    """Percentile rank of each window's last value in its window (ties take the average)."""
    last = windows[:, -1:]
    below = (windows < last).sum(axis=1)
    equal = (windows == last).sum(axis=1)
    return (below + (equal + 1) / 2) / windows.shape[1]


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation per window; 0 where either side is constant."""
    a_centred = a - a.mean(axis=1, keepdims=True)
    b_centred = b - b.mean(axis=1, keepdims=True)
    scale = np.sqrt((a_centred ** 2).sum(axis=1) * (b_centred ** 2).sum(axis=1))
    covariance = (a_centred * b_centred).sum(axis=1)
    return np.divide(covariance, scale, out=np.zeros_like(covariance), where=scale > 0)


def _mean_valid(flags: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of `flags` over windows of `values`; NaN where a window holds a missing value."""
    return np.where(np.isnan(values).any(axis=1), np.nan, flags.mean(axis=1))
