"""`noderr trade paper`: the paper desk over a replayed feed, or with `--onchain` over the values
the validators agree on-chain as their rounds land (node/trade_onchain.py), every order through
the Guardian pre-trade checks first: in process, or with `--guardians` asked of the Guardian
nodes over the bus under a licensed key (node/runtime/desk.py). PAPER trading: no order leaves
this process. With `--ml HOST:PORT` positions are sized from the ML service's volatility
forecasts (node/runtime/forecasts.py), which answers signed-in license holders only: the desk's
session with --guardians, or in process a session the desk's key signs in for. With
`--metrics-port PORT` the run's metrics are served to Prometheus (node/runtime/desk_metrics.py).
The command lives outside node/desk, which stays pure (no bus, no runtime)."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from node.desk.agreed_feed import DEFAULT_STALE_PERIODS
from noderr.console import fail

if TYPE_CHECKING:
    from node.desk.desk import PaperDesk, Step
    from node.runtime.desk_metrics import DeskMetrics
    from node.runtime.forecasts import VolatilityForecasts
    from node.trade_onchain import OnchainValues

CENT = Decimal("0.01")
trade_app = typer.Typer(help="PAPER trading: the desk the Guardians protect.",
                        no_args_is_help=True)


@trade_app.command()
def paper(
    feed: Annotated[str, typer.Option(
        help="Instrument: SP500, NASDAQ, GOOG, EURUSD (replayed), or with --onchain the "
             "deployment's NodeFeed.<FEED>.")] = "SP500",
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD) of the replay.")]
    = "2007-01-03",
    days: Annotated[int, typer.Option(min=2, help="Feed values to trade on.")] = 300,
    cash: Annotated[float, typer.Option(min=1, help="Starting cash.")] = 1_000_000.0,
    fee_bps: Annotated[float, typer.Option(min=0, help="Venue fee, basis points.")] = 1.0,
    max_notional: Annotated[float, typer.Option(
        min=0, help="Largest order notional (in process; not with --guardians).")]
    = 5_000_000.0,
    max_position: Annotated[float, typer.Option(
        min=0, help="Largest position, units (in process; not with --guardians).")]
    = 5_000.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated order book.")] = 11,
    equity_csv: Annotated[Path | None, typer.Option(help="Write the equity curve here.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
    guardians: Annotated[bool, typer.Option(
        "--guardians", help="Ask the Guardian nodes over the bus instead of checking in "
                            "process (their limits apply; needs a licensed key).")] = False,
    keystore: Annotated[Path | None, typer.Option(
        help="With --guardians or --ml: encrypted JSON keystore of the desk's licensed key.")]
    = None,
    password_file: Annotated[Path | None, typer.Option(
        help="With --guardians or --ml: file holding the keystore's password.")] = None,
    account: Annotated[int | None, typer.Option(
        help="With --guardians or --ml: anvil development account N (chain 31337 only).")]
    = None,
    ml: Annotated[str | None, typer.Option(
        "--ml", metavar="HOST:PORT",
        help="Size positions from the ML service's volatility forecasts (EWMA when it has "
             "none); needs the desk's key, which signs in. Replay only.")] = None,
    onchain: Annotated[bool, typer.Option(
        "--onchain", help="Trade the values the validators agree on NodeFeed.<FEED> (its "
                          "latestRoundData), each round as it lands, instead of the replay "
                          "(--start and --days do not apply).")] = False,
    rounds: Annotated[int | None, typer.Option(
        min=1, help="With --onchain: stop after N new rounds (default: at Ctrl-C).")] = None,
    stale_after: Annotated[int, typer.Option(
        min=1, help="With --onchain: end the run when no new round lands for more than K "
                    "round periods.")] = DEFAULT_STALE_PERIODS,
    fast: Annotated[int, typer.Option(min=1, help="Strategy: fast moving average, values.")]
    = 20,
    slow: Annotated[int, typer.Option(
        min=3, help="Strategy: slow moving average, values (no order before it is full).")]
    = 100,
    metrics_port: Annotated[int, typer.Option(
        min=0, max=65535, help="Serve the desk's Prometheus metrics on 127.0.0.1:PORT "
                               "while the command runs (0: off).")] = 0,
) -> None:
    """Replay a feed (or follow it on-chain) through the paper desk: strategy → Guardian
    checks → simulated venue."""
    from node.desk.desk import PaperDesk
    from node.desk.gate import LocalRiskGate
    from node.desk.portfolio import Portfolio
    from node.desk.strategy import VolTargetTrend
    from node.desk.venue import SimulatedVenue

    if fast >= slow:
        raise fail(f"--fast ({fast}) must be below --slow ({slow})")
    if onchain and ml is not None:
        raise fail("--ml is for the replay: the ML service forecasts the replayed days, not "
                   "the times of on-chain rounds")
    if rounds is not None and not onchain:
        raise fail("--rounds is for --onchain")
    source = (onchain_values(feed, rounds, stale_after) if onchain
              else ReplayedValues(feed, start, days))
    metrics = served_metrics(metrics_port, guardians)
    session: dict[str, str | None] = {"token": None}
    forecasts = None if ml is None else ml_forecasts(ml, lambda: session["token"])

    def replay(gate, stop: threading.Event | None = None, stepped=None) -> PaperDesk:
        strategy = VolTargetTrend(
            fast=fast, slow=slow,
            instrument_forecast=None if forecasts is None else forecasts.sigma)
        desk = PaperDesk(SimulatedVenue(fee_bps=fee_bps, seed=seed), Portfolio(cash),
                         strategy, gate if metrics is None else metrics.timed(gate))
        for at, value in source(stop):
            if stop is not None and stop.is_set():
                break
            step = desk.step(feed, value, at)
            source.said(desk, feed, step)
            if metrics is not None:
                metrics.stepped(step)
            if stepped is not None:
                stepped(step.point, exposure(desk))
        return desk

    def replay_signed_in(gate, stop: threading.Event, stepped) -> PaperDesk:
        session["token"] = gate.network.client.token
        return replay(gate, stop, stepped)

    key_given = keystore is not None or password_file is not None or account is not None
    if not guardians and ml is None and key_given:
        raise fail("--keystore, --password-file and --account are for --guardians or --ml")
    with source.ctrl_c_ends_the_run():
        if guardians:
            desk = guarded(replay_signed_in, keystore, password_file, account)
        else:
            local = LocalRiskGate({feed: max_notional}, {feed: max_position},
                                  fee_rate=fee_bps / 10_000)
            if ml is None:
                desk = replay(local)
            else:
                with signed_in(keystore, password_file, account) as token:
                    session["token"] = token
                    desk = replay(local)
    stopped = source.stopped
    if not desk.equity_curve:
        raise fail(f"no round traded: {stopped or 'ended before a new round landed'}")
    report = summary(desk, feed) | source.summary()
    if forecasts is not None:
        report["volatility"] = ml_summary(forecasts)
        forecasts.close()
    if equity_csv is not None:
        write_equity(desk, equity_csv)
    typer.echo(json.dumps(report, indent=2) if as_json else
               "\n".join(f"{name:<15} {value}" for name, value in report.items()))
    if stopped is not None:
        raise fail(stopped)


class ReplayedValues:
    """`days` closes of the replayed `feed` from `start`, shown with a progress bar; one line
    and exit 1 for an unknown feed, a bad date or too few values."""

    stopped = None

    def __init__(self, feed: str, start: str, days: int) -> None:
        from node.desk.desk import tape_feed
        from node.errors import FunctionInputError
        from node.sources.replay import load_tape

        try:
            first = date.fromisoformat(start)
        except ValueError:
            raise fail(f"--start must be a date YYYY-MM-DD, not {start!r}") from None
        try:
            tape = load_tape(feed)
        except FunctionInputError as error:
            raise fail(str(error)) from None
        offset = int((tape.bars.time.astype("datetime64[D]") < first).sum())
        self.feed, self.values = feed, tape_feed(feed, offset, days)
        if len(self.values) < 2:
            raise fail(f"{feed} has no data from {start} ({len(self.values)} value(s))")

    def __call__(self, stop: threading.Event | None) -> Iterable[tuple[datetime, float]]:
        from tqdm import tqdm

        return tqdm(self.values, desc=f"PAPER {self.feed}", unit="day", leave=False)

    def said(self, desk: PaperDesk, instrument: str, step: Step) -> None:
        """Nothing: the progress bar shows the replay."""

    def summary(self) -> dict[str, object]:
        return {}

    def ctrl_c_ends_the_run(self) -> AbstractContextManager[None]:
        return nullcontext()


def onchain_values(feed: str, rounds: int | None, stale_after: int) -> OnchainValues:
    """The rounds landing on the deployment's NodeFeed.<feed>; one line and exit 1 when it
    cannot be read."""
    from node.runtime.agreed_feed import FeedUnavailable, open_feed
    from node.settings import get_node_settings
    from node.trade_onchain import OnchainValues

    try:
        opened = open_feed(feed, get_node_settings(), stale_after)
    except FeedUnavailable as error:
        raise fail(str(error)) from None
    return OnchainValues(opened, rounds, _say_on_stderr)


def guarded(replay, keystore: Path | None, password_file: Path | None, account: int | None):
    """The replay with every order asked of the Guardian nodes; one line and exit 1 when the
    key does not load, cannot sign in, holds no active license or the bus is down."""
    from node.cli import key_and_chain
    from node.runtime.desk import DeskRefused, GuardedDeskConfig, run_guarded
    from node.settings import GuardianSettings, get_node_settings

    key, chain_id = key_and_chain(get_node_settings(), keystore, password_file, account,
                                  "--guardians needs the desk's key:")
    config = GuardedDeskConfig(key, chain_id, get_node_settings(), GuardianSettings())
    try:
        return asyncio.run(run_guarded(config, replay, _say_on_stderr,
                                       lambda desk: desk.records()))
    except DeskRefused as refused:
        raise fail(str(refused)) from None


def served_metrics(port: int, guardians: bool) -> DeskMetrics | None:
    """The run's metrics on 127.0.0.1:`port` (None for 0); one line and exit 1 when the port
    cannot be bound."""
    from node.runtime.desk_metrics import desk_metrics

    try:
        return desk_metrics(port, "guardians" if guardians else "in_process")
    except OSError as error:
        raise fail(f"--metrics-port {port}: {error.strerror or error}") from None


def ml_forecasts(target: str, token: Callable[[], str | None]) -> VolatilityForecasts:
    from node.runtime.forecasts import VolatilityForecasts
    from node.settings import get_node_settings

    return VolatilityForecasts(target, token, get_node_settings().ml_deadline)


@contextmanager
def signed_in(keystore: Path | None, password_file: Path | None,
              account: int | None) -> Iterator[str]:
    """A session of the desk's key for the ML service in process (no bus, no guardians),
    ended afterwards; one line and exit 1 when the key is missing or cannot sign in."""
    from client import BackendClient, BackendError
    from node.cli import key_and_chain
    from node.settings import get_node_settings

    settings = get_node_settings()
    key, chain_id = key_and_chain(
        settings, keystore, password_file, account,
        "--ml needs a session (in process the desk is not signed in): give the desk's key,")
    with BackendClient(settings.api_url) as client:
        try:
            session = client.sign_in(key.address, chain_id, key.sign_message)
        except BackendError as error:
            raise fail(f"--ml: cannot sign in to {settings.api_url} as {key.address}: "
                       f"{error}") from None
        try:
            yield session.token
        finally:
            with suppress(BackendError):
                client.logout()


def ml_summary(forecasts: VolatilityForecasts) -> str:
    codes = forecasts.fallback_codes
    why = f" ({', '.join(f'{code} x{count}' for code, count in codes.items())})" if codes else ""
    return (f"ML {forecasts.target}: {forecasts.answered} forecast(s), "
            f"{forecasts.fell_back} EWMA fallback(s){why}")


def exposure(desk) -> dict[str, Decimal]:
    """The signed market value of each open position at the desk's marks."""
    return {name: held.market_value(desk.marks[name])
            for name, held in desk.portfolio.positions.items()}


def _say_on_stderr(line: str) -> None:
    """Progress lines go to stderr: stdout holds only the summary (parsable with --json)."""
    print(line, file=sys.stderr, flush=True)


def summary(desk, feed: str) -> dict[str, object]:
    from node.guardian.risk import compute_drawdown

    curve = [float(point.equity) for point in desk.equity_curve]
    refused = Counter(rejection.check for rejection in desk.rejections)
    last = desk.equity_curve[-1]
    return {"mode": "PAPER (simulated venue, no real order)", "feed": feed,
            "from": desk.equity_curve[0].at.date().isoformat(), "to": last.at.date().isoformat(),
            "orders": len(desk.orders), "fills": len(desk.fills),
            "refused": dict(refused), "final_equity": cents(last.equity),
            "realized_pnl": cents(last.realized_pnl), "fees": cents(last.fees),
            "max_drawdown": f"{compute_drawdown(curve).maximum:.2%}"}


def cents(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def write_equity(desk, path: Path) -> None:
    points = [point.to_dict() for point in desk.equity_curve]
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(points[0]))
        writer.writeheader()
        writer.writerows(points)
