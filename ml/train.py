"""`noderr ml train` and `noderr ml evaluate`: the walk-forward evaluation of the model against
every baseline on one OHLCV table, and, for train, the model refitted on all of it and saved."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from ml import artifact, data
from ml.baselines import all_baselines
from ml.model import Hyperparameters, VolatilityModel
from ml.panel import Panel, build
from ml.walkforward import REFIT_EVERY, Evaluation, default_test_start, evaluate


@dataclass(frozen=True)
class Outcome:
    panel: Panel
    evaluation: Evaluation
    test_start: pd.Timestamp

    def table(self) -> dict[str, dict[str, float | None]]:
        return self.evaluation.table()

    def window(self) -> dict[str, str | int]:
        dates = self.evaluation.dates
        return {"test_first": str(dates[0].date()), "test_last": str(dates[-1].date()),
                "test_days": len(dates), "refit_every": REFIT_EVERY}


def resolve_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu or cuda, not {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA is not available on this machine (torch "
                         f"{torch.__version__}); use --device cpu")
    return device


def walk_forward(frame: pd.DataFrame, seed: int = 0, device: str = "cpu",
                 hyper: Hyperparameters | None = None, quiet: bool = False) -> Outcome:
    """The model and every baseline, walk-forward over the table's default test window."""
    panel = build(frame)
    test_start = default_test_start(panel)
    model = VolatilityModel(hyper, seed=seed, device=device)
    evaluation = evaluate(panel, [model, *all_baselines()], test_start,
                          progress=lambda blocks: _progress(blocks, "walk-forward refits", quiet))
    return Outcome(panel, evaluation, test_start)


def validation_walk_forward(frame: pd.DataFrame, seed: int = 0,
                            hyper: Hyperparameters | None = None,
                            quiet: bool = False) -> Outcome:
    """The run hyperparameters are chosen on: the table cut before its default test window (no
    row of it is read), then walk-forward over the cut table's own default test window
    (2011-2014 for the shipped data sets, whose test years are 2015-2018)."""
    cut = frame[frame.index < default_test_start(build(frame))]
    return walk_forward(cut, seed=seed, hyper=hyper, quiet=quiet)


def train(source: str, root: Path, seed: int = 0, device: str = "cpu",
          quiet: bool = False, evaluation: bool = True) -> tuple[Path, Outcome | None]:
    """Evaluate walk-forward (unless `evaluation` is off: the artifact then says it was not
    evaluated), then fit the model on every row and save it under `root`."""
    frame = data.load(source)
    outcome = walk_forward(frame, seed=seed, device=device, quiet=quiet) if evaluation else None
    panel = outcome.panel if outcome else build(frame)
    model = VolatilityModel(seed=seed, device=device)
    model.fit(panel, panel.last)
    first = panel.first + model.span - 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = source if source in data.BUILTIN else Path(source).stem
    path = artifact.save(
        model, root / f"{name}-{stamp}", data=name, device=device,
        training_window={"first": str(panel.dates[first].date()),
                         "last": str(panel.dates[panel.last].date()),
                         "rows": panel.last - first},
        metrics=({**outcome.window(), "models": outcome.table()} if outcome
                 else {"evaluated": False}))
    return path, outcome


def _progress(blocks: list[tuple[int, int]], label: str,
              quiet: bool) -> Iterable[tuple[int, int]]:
    return blocks if quiet else tqdm(blocks, desc=label, unit="refit", file=sys.stderr)
