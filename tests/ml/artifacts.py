"""A small trained model artifact, as an earlier `noderr demo` run leaves one in NODERR_ML_DIR:
for the tests that start the ML server (seconds to fit, not the minute a full fit takes)."""

from __future__ import annotations

from pathlib import Path

from ml import artifact, data
from ml.model import Hyperparameters, VolatilityModel
from ml.panel import build

TINY = Hyperparameters(hidden=8, max_epochs=2, patience=1, ensemble=1)


def save_small_artifact(ml_dir: Path, name: str) -> Path:
    model = VolatilityModel(TINY)
    panel = build(data.load("sp500").iloc[:400])
    model.fit(panel, panel.last)
    return artifact.save(model, ml_dir / name)
