"""ML on CPU and GPU, side by side, on one machine: (1) training time of one walk-forward refit
(the model's fit on every row before the test window: early stopping, then the retrain, three
seeds) with torch on one CPU thread (the project's default), on every core, and on CUDA;
(2) the walk-forward evaluation trained on CUDA (model, HAR, EWMA, ridge; GARCH needs `arch`,
which the GPU machine lacks) to compare with the CPU table of `make bench-ml`; (3) batch
inference throughput (rows/s of `predict_inputs`, scaling and the host-device copies included)
at growing batch sizes, CPU against CUDA.

Runs wherever torch runs; without CUDA it measures the CPU columns only. The GPU machine has no
`arch`, so the data come as CSV files (`--csv-dir`, written by `--export-csv DIR` here).
`--json FILE` keeps the figures; `--from-json FILE --write` renders them into
docs/benchmarks.md (section "ML on CPU and GPU") on a machine with the project installed.
"""

from __future__ import annotations

import os
import sys

# Run as `python benchmarks/ml_device.py`, this file's folder comes first on sys.path, and the
# site-package `benchmarks` would shadow ours: the repository goes there instead.
sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from ml import data
from ml.baselines import Ewma, Har, Ridge
from ml.model import VolatilityModel
from ml.panel import Panel, build
from ml.walkforward import default_test_start, evaluate

BATCHES = (100, 10_000, 200_000)
SECTION = "## ML on CPU and GPU"


def load_panels(csv_dir: Path | None) -> dict[str, Panel]:
    return {name: build(data.load(csv_dir / f"{name}.csv" if csv_dir else name))
            for name in data.BUILTIN}


def configurations() -> list[tuple[str, str, int]]:
    """(label, device, torch threads)."""
    cores = os.cpu_count() or 1
    found = [("CPU, 1 thread", "cpu", 1)]
    if cores > 1:
        found.append((f"CPU, {cores} threads", "cpu", cores))
    if torch.cuda.is_available():
        found.append(("CUDA", "cuda", cores))
    return found


def first_refit_seconds(panel: Panel, device: str) -> tuple[float, VolatilityModel]:
    """Seconds of the first walk-forward refit (every row before the test window)."""
    model = VolatilityModel(seed=0, device=device)
    stop = panel.rows_from(default_test_start(panel))
    if device == "cuda":
        torch.cuda.synchronize()
    began = time.perf_counter()
    model.fit(panel, stop)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - began, model


def throughput(model: VolatilityModel, rows: np.ndarray, batch: int, repeat: int = 5) -> float:
    """Rows per second of `predict_inputs` on `batch` rows (best of `repeat`)."""
    matrix = np.resize(rows, (batch, rows.shape[1]))
    model.predict_inputs(matrix)
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        model.predict_inputs(matrix)
        best = min(best, time.perf_counter() - began)
    return batch / best


def measure(csv_dir: Path | None, keep: Callable[[dict], None]) -> dict:
    """The figures; `keep` gets them after each step, so a run cut short keeps what it had."""
    panels = load_panels(csv_dir)
    found: dict = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                   "torch": torch.__version__, "cores": os.cpu_count(),
                   "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                   "training": {}, "inference": {}, "evaluation": {}}
    if torch.cuda.is_available():  # the first CUDA call initialises the context: not timed
        torch.zeros(1, device="cuda").sum().item()
    models: dict[str, VolatilityModel] = {}
    for label, device, threads in configurations():
        torch.set_num_threads(threads)
        for name, panel in panels.items():
            seconds, model = first_refit_seconds(panel, device)
            found["training"].setdefault(name, {})[label] = {"seconds": seconds,
                                                            "epochs": model.epochs}
            print(f"training {name}, {label}: {seconds:.1f} s, epochs {model.epochs}",
                  flush=True)
            keep(found)
            models.setdefault(label, model)
        rows = models[label].inputs(panels["sp500"].features[panels["sp500"].first:])
        found["inference"][label] = {str(b): throughput(models[label], rows, b)
                                     for b in BATCHES}
        print(f"inference {label}: {found['inference'][label]}", flush=True)
        keep(found)
    if torch.cuda.is_available():
        for name, panel in panels.items():
            evaluation = evaluate(panel, [VolatilityModel(seed=0, device="cuda"), Ewma(), Har(),
                                          Ridge()], default_test_start(panel))
            found["evaluation"][name] = evaluation.table()
            print(f"walk-forward on CUDA, {name}: {found['evaluation'][name]}", flush=True)
            keep(found)
    return found


def render(found: dict) -> str:
    labels = list(next(iter(found["training"].values())))
    gpu = found["gpu"] or "none"
    lines = [SECTION, "",
             f"`benchmarks/ml_device.py`, {found['when']}, on the GPU machine lent to the session "
             f"({found['cores']} cores, GPU: {gpu}), torch {found['torch']}. Every column on the "
             "same machine in the same run; the ratio is against one CPU thread there.", "",
             "Training, one walk-forward refit (every row before 2015; early stopping, retrain, "
             "three seeds):", "",
             "| data | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for name, by_label in found["training"].items():
        base = by_label[labels[0]]["seconds"]
        cells = [f"{by_label[label]['seconds']:.1f} s ({base / by_label[label]['seconds']:.1f}×)"
                 for label in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Batch inference, `predict_inputs` (scaling and device copies included), "
              "rows/s:", "", "| rows per batch | " + " | ".join(labels) + " |",
              "|---|" + "---:|" * len(labels)]
    for batch in map(str, BATCHES):
        base = found["inference"][labels[0]][batch]
        cells = [f"{found['inference'][label][batch]:,.0f} "
                 f"({found['inference'][label][batch] / base:.1f}×)" for label in labels]
        lines.append(f"| {int(batch):,} | " + " | ".join(cells) + " |")
    for name, table in found["evaluation"].items():
        lines += ["", f"Walk-forward evaluation with the model trained on CUDA, {name} "
                  "(2015–2018; compare with the CPU table in \"ML\"):", "",
                  "| model | QLIKE | MSE (%²)² | DM t vs model |", "|---|---:|---:|---:|"]
        for model, row in table.items():
            dm = "" if row["dm_t"] is None else f"{row['dm_t']:.2f}"
            lines.append(f"| {model} | {row['qlike']:.4f} | {row['mse']:.4f} | {dm} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-dir", type=Path, help="read sp500.csv and nasdaq.csv from here")
    parser.add_argument("--export-csv", type=Path, help="write the two data sets here and stop")
    parser.add_argument("--json", type=Path, help="also keep the figures in this file")
    parser.add_argument("--from-json", type=Path, help="render figures measured elsewhere")
    parser.add_argument("--write", action="store_true",
                        help="put the section in docs/benchmarks.md")
    args = parser.parse_args()
    if args.export_csv:
        args.export_csv.mkdir(parents=True, exist_ok=True)
        for name in data.BUILTIN:
            data.load(name).to_csv(args.export_csv / f"{name}.csv")
        return
    def keep(found: dict) -> None:
        if args.json:
            args.json.write_text(json.dumps(found, indent=1))

    found = (json.loads(args.from_json.read_text()) if args.from_json
             else measure(args.csv_dir, keep))
    keep(found)
    text = render(found)
    print(text)
    if args.write:
        sys.path.append(os.path.dirname(os.path.abspath(__file__)))
        from report import write_section

        write_section(text)


if __name__ == "__main__":
    main()
