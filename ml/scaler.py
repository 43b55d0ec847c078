"""Feature scaling fitted on training rows only: clip each column to its training 0.5%-99.5%
quantiles, then standardise. Clipping first keeps one extreme day (a zero-volume session makes
VMA about 10^12) from setting a column's scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANTILES = (0.005, 0.995)


@dataclass(frozen=True)
class Scaler:
    low: np.ndarray
    high: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, matrix: np.ndarray) -> Scaler:
        low, high = np.quantile(matrix, QUANTILES, axis=0)
        clipped = np.clip(matrix, low, high)
        std = clipped.std(axis=0)
        return cls(low=low, high=high, mean=clipped.mean(axis=0),
                   std=np.where(std > 0, std, 1.0))

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        return (np.clip(matrix, self.low, self.high) - self.mean) / self.std

    def to_dict(self) -> dict[str, list[float]]:
        return {name: getattr(self, name).tolist() for name in ("low", "high", "mean", "std")}

    @classmethod
    def from_dict(cls, values: dict[str, list[float]]) -> Scaler:
        return cls(**{name: np.asarray(values[name], dtype=np.float64)
                      for name in ("low", "high", "mean", "std")})
