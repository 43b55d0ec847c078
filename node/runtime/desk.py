"""The paper desk under the Guardian nodes: every order the desk would send is asked of them over
the bus (BusRiskGate) before it may reach the simulated venue.

The desk runs under a licensed key: it signs in to the backend with it, needs an active license
of any type (the lowest-numbered one is the type it signs its requests as, and the Guardians
check that license on every request), joins the bus and follows the membership the Guardians'
answers are verified against, re-read on every indexed block. PaperDesk.step is synchronous
(node/desk is pure), so the replay runs in a worker thread and BusRiskGate, bound to this
loop, carries each request there and back. Fail closed: too few answers in time refuse the
order (check "guardian_quorum")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from client import AsyncBackendClient, BackendError
from client.models import HeldLicense, LicenseWatch
from node.desk.gate import RiskGate
from node.desk.records import EquityPoint
from node.runtime.guardian import EQUITY
from node.runtime.keys import NodeKey
from node.runtime.network import BusUnreachable, Network
from node.runtime.risk_gate import BusRiskGate
from node.settings import GuardianSettings, NodeSettings

log = logging.getLogger("noderr.desk")
RETRY_DELAY_S = 1.0
Result = TypeVar("Result")
Stepped = Callable[[EquityPoint, Mapping[str, Decimal]], None]
Replay = Callable[[RiskGate, threading.Event, Stepped], Result]
"""Runs the desk's replay with the gate, handing each step's equity point and the signed market
value of each position to the callback; stops early once the event is set."""
PUBLISH_TIMEOUT_S = 5.0


class DeskRefused(Exception):
    """The desk cannot trade under the guardians; the message is the one line saying why."""


@dataclass(frozen=True)
class GuardedDeskConfig:
    key: NodeKey
    chain_id: int
    settings: NodeSettings
    guardians: GuardianSettings


def desk_license(watch: LicenseWatch) -> HeldLicense | None:
    """The license the desk runs under: the lowest-numbered active one, of any type."""
    active = [held for held in watch.licenses if held.status == "active"]
    return min(active, key=lambda held: held.token_id) if active else None


def no_license(watch: LicenseWatch) -> str:
    held = ", ".join(f"#{item.token_id} {item.node_type.label} ({item.status})"
                     for item in watch.licenses)
    return (f"{watch.address} holds no active license{f' (it holds {held})' if held else ''}; "
            f"the desk trades only under a licensed key")


async def run_guarded(config: GuardedDeskConfig, replay: Replay[Result],
                      say: Callable[[str], None],
                      records: Callable[[Result], list[dict[str, Any]]] | None = None) -> Result:
    """`replay(gate, stop)` in a worker thread, every order asked of the Guardian nodes, then
    the run's `records` stored by the backend (POST /trading/records) under a new run id;
    DeskRefused when the key cannot sign in, holds no active license or the bus is down."""
    client = AsyncBackendClient(config.settings.api_url)
    network: Network | None = None
    try:
        watch = await _signed_in(client, config)
        chosen = desk_license(watch)
        if chosen is None:
            raise DeskRefused(no_license(watch))
        try:
            network = await Network.join(config.key, chosen.node_type, config.chain_id, client,
                                         chosen.token_id)
        except BusUnreachable as error:
            raise DeskRefused(str(error)) from None
        await network.refresh_members()
        gate = BusRiskGate(network, config.guardians.guardian_answers_required,
                           config.guardians.guardian_answer_timeout)
        await obey_guard(client, gate)
        gate.bind(asyncio.get_running_loop())
        say(f"{config.key.address}: {chosen.node_type.label} license #{chosen.token_id} "
            f"active; every order asked of the Guardian nodes "
            f"({gate.required_answers} answer(s) within {gate.timeout_s:g} s)")
        result = await _replay_following(network, watch.indexed_block, config.settings,
                                         gate, replay)
        if records is not None:
            await store(client, records(result), say)
        return result
    finally:
        if network is not None:
            await network.close()
        with contextlib.suppress(BackendError):
            await client.logout()
        await client.aclose()


async def _signed_in(client: AsyncBackendClient, config: GuardedDeskConfig) -> LicenseWatch:
    key = config.key
    try:
        await client.sign_in(key.address, config.chain_id, key.sign_message)
        return await client.watch_licenses(None, 0)
    except BackendError as error:
        raise DeskRefused(f"cannot sign in to {config.settings.api_url} as {key.address}: "
                          f"{error}") from None


async def _replay_following(network: Network, block: int | None, settings: NodeSettings,
                            gate: BusRiskGate, replay: Replay[Result]) -> Result:
    """The replay in a worker thread while the membership follows the indexed blocks."""
    stop = threading.Event()
    following = asyncio.create_task(_follow_chain(network, block, settings, gate))
    try:
        return await asyncio.to_thread(replay, gate, stop, equity_publisher(
            network, asyncio.get_running_loop()))
    finally:
        stop.set()
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following


async def store(client: AsyncBackendClient, records: list[dict[str, Any]],
                say: Callable[[str], None]) -> None:
    """Store the run's records; a refusal is said, not fatal (the run itself is over)."""
    run_id = f"run-{secrets.token_hex(8)}"
    try:
        counts = await client.record_trading(run_id, records)
    except BackendError as error:
        say(f"the run's records were not stored: {error}")
        return
    say(f"stored as {run_id}: {counts.orders} order(s), {counts.rejections} refusal(s), "
        f"{counts.fills} fill(s), {counts.equity_points} equity point(s) "
        f"(GET /trading/orders, /trading/pnl)")


def equity_publisher(network: Network, loop: asyncio.AbstractEventLoop) -> Stepped:
    """Publishes each step's equity, cash and signed notional per position on EQUITY from the
    replay's thread, through the bus's loop (waiting for it, so the guardians see a step's
    equity before the next step's orders)."""
    desk, run = network.bus.signer.address, secrets.token_hex(8)
    initial: list[Decimal] = []

    def stepped(point: EquityPoint, exposure: Mapping[str, Decimal]) -> None:
        initial[:] = initial or [point.equity]
        payload = equity_payload(desk, run, initial[0], point, exposure)
        asyncio.run_coroutine_threadsafe(network.publish(EQUITY, payload), loop).result(
            PUBLISH_TIMEOUT_S)

    return stepped


def equity_payload(desk: str, run: str, initial: Decimal, point: EquityPoint,
                   exposure: Mapping[str, Decimal]) -> dict[str, Any]:
    """One point as the guardians read it (node/runtime/guardian.py's parse_equity)."""
    return {"desk": desk, "run": run, "equity": str(point.equity), "initial": str(initial),
            "at": point.at.isoformat(), "cash": str(point.cash),
            "exposure": {name: str(value) for name, value in exposure.items()}}


async def obey_guard(client: AsyncBackendClient, gate: BusRiskGate) -> None:
    """Halt the gate while NodeGuard is halted in the mirror. Without a guard in the deployment
    (404) nothing is halted; an unreadable state keeps the last one known."""
    try:
        guard = await client.network_guard()
    except BackendError as error:
        if error.status == 404:
            gate.halted_by = None
        else:
            log.warning("cannot read the guard's state, keeping the last known: %s", error)
        return
    gate.halted_by = (guard.reason or "no reason given") if guard.halted else None


async def _follow_chain(network: Network, block: int | None, settings: NodeSettings,
                        gate: BusRiskGate) -> None:
    """On every block the backend indexes (its long-poll): refresh the membership, so a guardian
    licensed or revoked during the run counts or stops counting, and follow NodeGuard's state,
    so that once a halt is indexed no new order is accepted."""
    while True:
        try:
            watch = await network.client.watch_licenses(block, settings.node_watch_timeout)
        except BackendError as error:
            log.warning("license watch failed, membership kept at block %s: %s", block, error)
            await asyncio.sleep(RETRY_DELAY_S)
            continue
        if watch.indexed_block is not None and watch.indexed_block != block:
            block = watch.indexed_block
            await network.refresh_members()
            await obey_guard(network.client, gate)
