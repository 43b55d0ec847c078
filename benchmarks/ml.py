"""ML benchmark: (1) the feature pipeline's rows/s against the plain pandas implementation
(tests/ml/pandas_reference.py) and the cost of one serving feature row; (2) training time per
walk-forward refit; (3) one forecast's p50/p99 in-process and over gRPC (a real server and
channel on 127.0.0.1, authorized against a fake /nodes/me whose answer the license gate
caches), and batch throughput both ways; (4) the walk-forward evaluation table (model and
every baseline: QLIKE, MSE, Diebold-Mariano t) on S&P 500 and NASDAQ, test window 2015-2018.

With --validation, only the run hyperparameters are chosen on (ml.train.validation_walk_forward:
rows before 2015, forecasts for 2011-2014), each --set name=value overriding one of
ml.model.Hyperparameters; it never reads the test years.

CPU only: torch runs with NODERR_ML_TORCH_THREADS threads (default 1). With --write, puts the
figures in docs/benchmarks.md (section "ML").
"""

from __future__ import annotations

import os
import sys

# Run as `python benchmarks/ml.py`, this file's folder comes first on sys.path, and its name
# would shadow the ml package: the repository goes there instead.
sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from client.grpc_code import messages, services
from ml import artifact, data, features
from ml.baselines import all_baselines
from ml.model import Hyperparameters, VolatilityModel
from ml.panel import build
from ml.server import start
from ml.settings import MLSettings, get_ml_settings
from ml.train import validation_walk_forward, walk_forward

sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from report import write_section

from tests.ml.fake_backend import fake_backend
from tests.ml.pandas_reference import reference_features

BATCH = 100
HISTORY_ROWS = 250


def best_seconds(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return min(times)


def feature_speed(frame: pd.DataFrame) -> dict[str, float]:
    ours = best_seconds(lambda: features.compute(frame), 5)
    print("pandas reference (rolling + apply), one pass …", file=sys.stderr)
    pandas = best_seconds(lambda: reference_features(frame), 1)
    span = VolatilityModel().span
    latest = best_seconds(lambda: features.latest(frame.iloc[:HISTORY_ROWS], span), 50)
    return {"rows": len(frame), "ours_rows_s": len(frame) / ours,
            "pandas_rows_s": len(frame) / pandas, "ratio": pandas / ours,
            "latest_ms": latest * 1e3}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = np.sort(np.asarray(samples) * 1e3)
    return float(np.percentile(ordered, 50)), float(np.percentile(ordered, 99))


def inference(loaded: artifact.Artifact, frame: pd.DataFrame, calls: int) -> dict[str, float]:
    """p50/p99 of one forecast and batch throughput, in-process and over gRPC; the two are
    measured alternately, call by call, so a change in the machine's load hits both alike."""
    model = loaded.model
    starts = np.random.default_rng(0).integers(0, len(frame) - HISTORY_ROWS, calls)
    windows = [frame.iloc[s:s + HISTORY_ROWS] for s in starts]
    requests = [messages.PredictRequest(instrument="SPX", history=messages.Ohlcv(
        **{name: window[name].tolist() for name in features.OHLCV})) for window in windows]
    batch = messages.PredictBatchRequest(requests=requests[:BATCH])
    local_batch = lambda: model.predict_inputs(np.vstack(  # noqa: E731
        [model.inputs(features.latest(w, model.span)) for w in windows[:BATCH]]))
    with fake_backend() as backend:
        settings = MLSettings(api_url=backend.url, ml_auth_cache_seconds=3600)
        server, port = start(loaded, settings, "127.0.0.1", 0)
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = services.VolatilityStub(channel)
                metadata = (("authorization", "Bearer oracle"),)
                stub.Predict(requests[0], metadata=metadata, timeout=10)
                local, remote = [], []
                for window, item in tqdm(list(zip(windows, requests, strict=True)),
                                         desc="one forecast, in-process and gRPC",
                                         unit="pair", file=sys.stderr):
                    began = time.perf_counter()
                    model.predict_features(features.latest(window, model.span))
                    local.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    stub.Predict(item, metadata=metadata, timeout=10)
                    remote.append(time.perf_counter() - began)
                batches = [(best_seconds(local_batch, 1), best_seconds(
                    lambda: stub.PredictBatch(batch, metadata=metadata, timeout=60), 1))
                    for _ in range(5)]
        finally:
            server.stop(grace=None)
    (local_p50, local_p99), (remote_p50, remote_p99) = percentiles(local), percentiles(remote)
    return {"calls": calls, "local_p50": local_p50, "local_p99": local_p99,
            "grpc_p50": remote_p50, "grpc_p99": remote_p99,
            "local_batch_per_s": BATCH / min(b[0] for b in batches),
            "grpc_batch_per_s": BATCH / min(b[1] for b in batches)}


def evaluations(seed: int) -> dict[str, object]:
    return {name: walk_forward(data.load(name), seed=seed) for name in data.BUILTIN}


def hyperparameters(overrides: list[str]) -> Hyperparameters:
    """Hyperparameters with `name=value` overrides, each value read as its default's type
    (pool: comma-separated days; a flag: 1/0, true/false)."""
    defaults = Hyperparameters()
    changes: dict[str, object] = {}
    for override in overrides:
        name, _, value = override.partition("=")
        default = getattr(defaults, name)
        if isinstance(default, tuple):
            changes[name] = tuple(int(days) for days in value.split(","))
        elif isinstance(default, bool):
            changes[name] = value.lower() in ("1", "true", "yes")
        else:
            changes[name] = type(default)(value)
    return dataclasses.replace(defaults, **changes)


def validation(names: list[str], hyper: Hyperparameters, seed: int) -> str:
    lines = [f"Validation walk-forward (rows before 2015), seed {seed}, {hyper}", "",
             "| data | " + " | ".join(("model", *(b.name for b in all_baselines()))) + " |",
             "|---|" + "---:|" * (1 + len(all_baselines()))]
    for name in names:
        table = validation_walk_forward(data.load(name), seed=seed, hyper=hyper).table()
        lines.append(f"| {name} | " + " | ".join(f"{row['qlike']:.4f}" for row in table.values())
                     + " |")
    return "\n".join(lines)


def report(feature: dict, fits: dict[str, dict[str, float]], serving: dict,
           outcomes: dict, threads: int) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        "## ML", "",
        f"`make bench-ml` (benchmarks/ml.py), {when}, {os.cpu_count()} cores shared with other "
        f"work (load average {load:.1f} at the end), torch {torch.__version__} on CPU with "
        f"{threads} thread(s). The CPU/GPU comparison is benchmarks/ml_device.py's section "
        "below, \"ML on CPU and GPU\".", "",
        "| measurement | figure |", "|---|---:|",
        f"| features, ml.features ({feature['rows']:,} rows of S&P 500) | "
        f"{feature['ours_rows_s']:,.0f} rows/s |",
        f"| features, plain pandas (rolling + apply) | {feature['pandas_rows_s']:,.0f} rows/s |",
        f"| **speed-up** | **{feature['ratio']:.0f}×** |",
        f"| feature rows of one forecast (computed from the last {VolatilityModel().history} of "
        f"{HISTORY_ROWS} rows) | {feature['latest_ms']:.2f} ms |",
    ]
    for name, seconds in fits.items():
        lines.append(f"| training per walk-forward refit, {name} (median of "
                     f"{seconds['count']}) | {seconds['model']:.1f} s (ridge "
                     f"{seconds['ridge'] * 1e3:.0f} ms, GARCH {seconds['garch'] * 1e3:.0f} ms) |")
    lines += [
        f"| one forecast in-process, p50 / p99 ({serving['calls']} calls, {HISTORY_ROWS} rows "
        f"each) | {serving['local_p50']:.2f} / {serving['local_p99']:.2f} ms |",
        f"| one forecast over gRPC `Predict`, p50 / p99 | {serving['grpc_p50']:.2f} / "
        f"{serving['grpc_p99']:.2f} ms |",
        f"| batch of {BATCH} instruments in-process | "
        f"{serving['local_batch_per_s']:,.0f} instruments/s |",
        f"| batch of {BATCH} over gRPC `PredictBatch` | "
        f"{serving['grpc_batch_per_s']:,.0f} instruments/s |", "",
    ]
    for name, outcome in outcomes.items():
        window = outcome.window()
        lines += [f"Walk-forward evaluation, {name}: test {window['test_first']} .. "
                  f"{window['test_last']} ({window['test_days']} days), expanding window, "
                  f"refit every {window['refit_every']} days; DM t is the model's QLIKE loss "
                  "minus the row's (below −1.96: the model is better at 5%).", "",
                  "| model | QLIKE | MSE (%²)² | DM t vs model |", "|---|---:|---:|---:|"]
        for model, row in outcome.table().items():
            dm = "" if row["dm_t"] is None else f"{row['dm_t']:.2f}"
            lines.append(f"| {model} | {row['qlike']:.4f} | {row['mse']:.4f} | {dm} |")
        ridge_vs_har = outcome.evaluation.table(reference="ridge")["har"]["dm_t"]
        lines += ["", f"For reference, ridge against HAR: DM t = {ridge_vs_har:.2f}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="forecasts timed each way")
    parser.add_argument("--write", action="store_true",
                        help="put the figures in docs/benchmarks.md")
    parser.add_argument("--validation", action="store_true",
                        help="only the validation run (2011-2014, rows before 2015), QLIKE")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="with --validation: override a hyperparameter (repeatable)")
    parser.add_argument("--data", action="append", choices=sorted(data.BUILTIN),
                        help="with --validation: only this data set (repeatable)")
    args = parser.parse_args()
    settings = get_ml_settings()
    torch.set_num_threads(settings.ml_torch_threads)
    if args.validation:
        print(validation(args.data or sorted(data.BUILTIN), hyperparameters(args.set),
                         settings.ml_seed))
        return
    sp500 = data.load("sp500")
    feature = feature_speed(sp500)
    outcomes = evaluations(settings.ml_seed)
    fits = {name: {key: statistics.median(values)
                   for key, values in outcome.evaluation.fit_seconds.items()}
            | {"count": len(outcome.evaluation.fit_seconds["model"])}
            for name, outcome in outcomes.items()}
    panel = build(sp500)
    model = VolatilityModel(Hyperparameters(), seed=settings.ml_seed)
    model.fit(panel, panel.last)
    with tempfile.TemporaryDirectory() as directory:
        loaded = artifact.load(artifact.save(model, Path(directory) / "bench"))
        serving = inference(loaded, sp500, args.calls)
    text = report(feature, fits, serving, outcomes, settings.ml_torch_threads)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
