"""`noderr ml …`: train, evaluate and serve the volatility model.

torch, pandas and the gRPC code are imported inside the commands: `noderr` mounts this app, and
importing torch costs every other `noderr` command a second or more."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ml.settings import MLSettings, get_ml_settings
from noderr.console import fail

ml_app = typer.Typer(help="The volatility model: train, evaluate, serve over gRPC.",
                     no_args_is_help=True)


@ml_app.command()
def train(
    data_source: str = typer.Option("sp500", "--data",
                                    help="sp500, nasdaq (arch's 1999-2018 daily) or an OHLCV CSV."),
    device: str = typer.Option("cpu", help="cpu or cuda."),
    evaluation: bool = typer.Option(True, "--evaluation/--no-evaluation",
                                    help="Skip the walk-forward (minutes): fit and save only."),
) -> None:
    """Walk-forward evaluation, then the model fitted on all the data, saved as an artifact."""
    settings = _prepared_settings()
    from ml import data
    from ml.train import resolve_device
    from ml.train import train as run_training

    try:
        path, outcome = run_training(data_source, settings.artifact_dir(), seed=settings.ml_seed,
                                     device=resolve_device(device), evaluation=evaluation)
    except (data.DataError, ValueError) as error:
        raise fail(str(error)) from error
    typer.echo(_table(outcome.table(), outcome.window()) if outcome
               else "not evaluated (--no-evaluation): the artifact's metrics say so")
    typer.echo(f"artifact: {path}")


@ml_app.command()
def evaluate(
    csv: Path = typer.Option(..., help="OHLCV CSV: date, open, high, low, close, volume."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on standard output."),
) -> None:
    """QLIKE, MSE and the Diebold-Mariano t (model vs each baseline), walk-forward on CSV."""
    settings = _prepared_settings()
    from ml import data
    from ml.train import walk_forward

    try:
        outcome = walk_forward(data.load_csv(csv), seed=settings.ml_seed, quiet=as_json)
    except (data.DataError, ValueError) as error:
        raise fail(str(error)) from error
    if as_json:
        typer.echo(json.dumps({**outcome.window(), "models": outcome.table()}))
    else:
        typer.echo(_table(outcome.table(), outcome.window()))


@ml_app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(50051, help="gRPC port."),
    metrics_port: int | None = typer.Option(
        None, min=0, max=65535,
        help="Serve Prometheus metrics on 127.0.0.1:PORT (0: none) [env NODERR_ML_METRICS_PORT]."),
) -> None:
    """The gRPC server: Predict, PredictBatch and the standard health service."""
    settings = _prepared_settings()
    from ml import artifact

    try:
        from ml.server import run_until_signalled, start
        from ml.server_metrics import ServerMetrics

        path = settings.ml_artifact or artifact.newest(settings.artifact_dir())
        loaded = artifact.load(path)
        metrics = ServerMetrics()
        server, bound = start(loaded, settings, host, port, metrics=metrics)
    except (ImportError, artifact.ArtifactError, RuntimeError) as error:
        raise fail(str(error)) from error
    typer.echo(f"serving {loaded.version} on {host}:{bound} (gRPC)")
    metrics_port = settings.ml_metrics_port if metrics_port is None else metrics_port
    if metrics_port:
        try:
            scraped = metrics.serve(metrics_port)
        except OSError as error:
            server.stop(None)
            raise fail(f"cannot serve metrics on 127.0.0.1:{metrics_port}: {error}") from error
        typer.echo(f"metrics on http://127.0.0.1:{scraped}/metrics")
    run_until_signalled(server)


def _prepared_settings() -> MLSettings:
    import torch

    settings = get_ml_settings()
    torch.set_num_threads(settings.ml_torch_threads)
    return settings


def _table(table: dict[str, dict[str, float | None]], window: dict[str, str | int]) -> str:
    lines = [f"test window {window['test_first']} .. {window['test_last']} "
             f"({window['test_days']} days, refit every {window['refit_every']})",
             f"{'model':<8}{'QLIKE':>9}{'MSE':>9}{'DM t':>9}"]
    for name, row in table.items():
        dm = "" if row["dm_t"] is None else f"{row['dm_t']:.2f}"
        lines.append(f"{name:<8}{row['qlike']:>9.4f}{row['mse']:>9.4f}{dm:>9}")
    lines.append("DM t: QLIKE loss of the model minus the row's; below -1.96 the model is "
                 "better at 5%.")
    return "\n".join(lines)


if __name__ == "__main__":
    ml_app()
