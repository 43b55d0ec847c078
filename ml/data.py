"""OHLCV tables: the two development data sets shipped with `arch`, or any CSV with columns
date, open, high, low, close, volume. Every entry point checks a table the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ml.features import OHLCV

BUILTIN = ("sp500", "nasdaq")


class DataError(ValueError):
    """An OHLCV table that cannot be used, with the reason in words."""


def load(source: str | Path) -> pd.DataFrame:
    """`sp500`, `nasdaq` (arch.data, 1999-2018 daily) or the path of an OHLCV CSV."""
    if str(source) in BUILTIN:
        return load_builtin(str(source))
    return load_csv(Path(source))


def load_builtin(name: str) -> pd.DataFrame:
    from arch.data import nasdaq, sp500

    raw = {"sp500": sp500, "nasdaq": nasdaq}[name].load()
    frame = raw.rename(columns=str.lower)[list(OHLCV)].astype(np.float64)
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return validate(frame)


def load_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({error})") from error
    raw.columns = [str(column).strip().lower() for column in raw.columns]
    missing = [column for column in ("date", *OHLCV) if column not in raw.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(raw["date"]), name="date")
    except (ValueError, TypeError) as error:
        raise DataError(f"{path}: column date holds a value that is not a date") from error
    frame = raw[list(OHLCV)].set_axis(dates)
    numbers = frame.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    return validate(numbers.sort_index())


def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` itself if it is a usable OHLCV table, else DataError naming the first problem."""
    values = frame[list(OHLCV)].to_numpy(dtype=np.float64)
    problems = {
        "a value that is missing or not a number": ~np.isfinite(values).all(axis=1),
        "a price that is not positive": (values[:, :4] <= 0).any(axis=1),
        "a negative volume": values[:, 4] < 0,
        "high below open, low or close": values[:, 1] < values[:, [0, 2, 3]].max(axis=1),
        "low above open, high or close": values[:, 2] > values[:, [0, 1, 3]].min(axis=1),
    }
    for reason, bad in problems.items():
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"row {row} ({_label(frame.index[row])}) has {reason}")
    if isinstance(frame.index, pd.DatetimeIndex) and not frame.index.is_monotonic_increasing:
        raise DataError("dates are not in increasing order")
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.has_duplicates:
        raise DataError("a date occurs twice")
    return frame


def _label(value: object) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)
