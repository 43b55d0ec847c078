"""Guardian duties: every order a licensed node asks about is risk-checked, and the answer is
published signed.

A request arrives on `noderr.node.risk.requests` (any licensed type may ask: the desk runs
under a licensed key) as {request_id, order: Order.to_dict(), context: {at, price, positions,
free_balance, trading_state}}. The checks run in this order, each inside the node's
ExecutionLog under its catalogue name, the first refusal being the answer:

  check_license_validity    the requester holds an active license of the type it signed as,
                            in this node's membership snapshot
  screen_address_denylist   the requester is not on NODERR_GUARDIAN_DENYLIST
  set_trading_state         the order may trade in the requester's trading state
                            (check_trading_state: REDUCING lets only reducing orders through)
  check_order_notional_limit, check_position_limit, check_balance_sufficiency
  evaluate_circuit_breaker  the price band: the order's limit price within
                            NODERR_GUARDIAN_PRICE_BAND of the request's price (check_price_band,
                            the circuit breaker's band applied to one order, recorded under it)
  check_order_rate_limit    last, so only an order that passed the others spends a token of
                            the requester's bucket (the guardian's own clock, never the
                            requester's)

The answer goes out on `noderr.guardian.risk.answers.<request id>`: {request_id, allowed,
check, value, limit, reason}. A request whose order or context does not parse is answered
refused (check "malformed_request") rather than left to time out.

Requests are received with the signature, freshness and replay checks of the bus but not its
license check, which check_license_validity makes instead: a requester whose license was
revoked is told so (a signed refusal, recorded) instead of meeting silence. Anyone with a key
can therefore make a guardian verify one signature and sign one refusal per request."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from node.bus import subjects
from node.bus.envelope import Frame, checksum, recover
from node.bus.transport import Bus
from node.bus.verify import Verifier
from node.desk.records import Order
from node.errors import FunctionInputError, InvalidParameter
from node.execution import ExecutionLog
from node.guardian import orders as guardian_orders
from node.guardian.compliance import Denylist, check_license_validity, screen_address_denylist
from node.guardian.decisions import LimitDecision, Trigger
from node.guardian.limits import (
    TokenBucket,
    check_balance_sufficiency,
    check_order_notional_limit,
    check_order_rate_limit,
    check_position_limit,
    check_price_band,
)
from node.guardian.shutdown import (
    TradingState,
    check_trading_state,
)
from node.guardian.watch import (
    Assessment,
    PortfolioWatch,
    ReportedBook,
    RiskLimits,
    book_exposure,
    forecast_sigma,
    report_trigger,
)
from node.runtime.chain import AbiFunction, Chain
from node.runtime.forecasts import VolatilityForecasts, node_forecasts
from node.runtime.keys import NodeKey
from node.runtime.network import Network, Verified
from node.settings import GuardianSettings, NodeSettings
from node.sources.replay import INSTRUMENTS
from noderr import jsonrpc
from noderr.deployment import Deployment
from noderr.domain import NodeType
from noderr.halt_report import GUARD_CONTRACT, Halt, halt_args, halt_digest, sign_halt
from noderr.settings import get_settings

log = logging.getLogger("noderr.node.guardian")
REQUESTS = subjects.subject("node", "risk", "requests")
ANSWERS = subjects.subject("guardian", "risk", "answers")
"""Answers, one subject per request below it: `noderr.guardian.risk.answers.<request id>`."""
EQUITY = subjects.subject("node", "desk", "equity")
"""A guarded desk's equity after each step: {desk, run, equity, initial, at, cash, exposure},
the exposure being the signed notional (market value) per instrument held. It must add up to
the equity less the cash, else the point is refused and the desk reduces; its Herfindahl is
checked against NODERR_GUARDIAN_MAX_CONCENTRATION and, with NODERR_ML_TARGET set, the watch's
EWMA VaR takes its volatility from the ML forecasts of those instruments
(node/runtime/forecasts.py; without a forecast, from the equity's EWMA)."""
HALT_SIGNATURES = subjects.subject("guardian", "halt", "signatures")
"""Guardians' signatures of a NodeGuard halt: {desk, reason, deadline, nonce, signature}."""
REQUEST_ID = re.compile(r"[0-9a-f]{8,64}")
PASSED = "pre_trade"
HALT_VALID_S = 600
"""A halt is signed valid until the latest block's timestamp plus this."""
SUBMIT_DELAY_S = 2.0
"""Staged submission: each signer of a halt in address order, this much after the one before,
sends it unless the guard is halted by then."""


def answer_subject(request_id: str) -> str:
    return f"{ANSWERS}.{request_id}"


class MalformedRequest(ValueError):
    """A request whose order or context does not parse."""


@dataclass(frozen=True)
class RiskRequest:
    request_id: str
    order: guardian_orders.Order
    at: datetime
    price: float
    positions: dict[str, float]
    free_balance: float
    trading_state: TradingState


def parse_request(payload: dict[str, Any]) -> RiskRequest:
    """The request in a verified payload; MalformedRequest when any part is missing or wrong."""
    request_id = payload.get("request_id")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise MalformedRequest("request_id must be 8 to 64 lowercase hex digits")
    try:
        raw, context = payload["order"], payload["context"]
        limit = raw.get("limit_price")
        order = Order(str(raw["id"]), str(raw["instrument"]), raw["side"],
                      Decimal(raw["quantity"]), datetime.fromisoformat(raw["created_at"]),
                      raw.get("order_type", "market"),
                      None if limit is None else Decimal(limit))
        return RiskRequest(request_id, order.for_guardian(),
                           datetime.fromisoformat(context["at"]), float(context["price"]),
                           {str(name): float(held)
                            for name, held in context["positions"].items()},
                           float(context["free_balance"]),
                           TradingState(context["trading_state"]))
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation,
            FunctionInputError) as error:
        raise MalformedRequest(f"{type(error).__name__}: {error}") from None


class SignedRequests(Verifier):
    """The bus's checks of a frame but the license: the requester's license is a check the
    guardian answers (check_license_validity), not a reason to stay silent."""

    def _licensed_type(self, frame: Frame) -> NodeType:
        return NodeType(frame.envelope.node_type)


def answer_payload(request_id: str, decision: LimitDecision) -> dict[str, Any]:
    return {"request_id": request_id, "allowed": decision.allowed, "check": decision.check,
            "value": decision.value, "limit": decision.limit, "reason": decision.reason}


class Listening(Protocol):
    async def step(self) -> int: ...


class GuardianDuties:
    """Answers risk requests; `step()` (the runtime's round) makes sure it listens, to them
    and through `observer` to whatever else a guardian follows (the oracles' observations)."""

    def __init__(self, network: Network, log: ExecutionLog, settings: GuardianSettings,
                 observer: Listening,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 halting: GuardHalting | None = None,
                 forecasts: VolatilityForecasts | None = None) -> None:
        self.network, self.observer = network, observer
        self.log, self.settings, self.clock = log, settings, clock
        self.denylist = Denylist.of(settings.guardian_denylist)
        self.buckets: dict[str, TokenBucket] = {}
        self.listening = False
        self.halting = halting
        self.forecasts = forecasts
        self.limits = RiskLimits(max_drawdown=settings.guardian_max_drawdown,
                                 max_var=settings.guardian_max_var,
                                 max_concentration=settings.guardian_max_concentration)
        self.desks: dict[str, DeskRun] = {}

    async def step(self) -> int:
        await self.observer.step()
        if not self.listening:
            bus = self.network.bus
            verifier = bus.verifier
            requests = Bus(bus.connection, bus.signer,
                           SignedRequests(verifier.domain, verifier.membership,
                                          verifier.window_ms / 1000, verifier.clock))
            await requests.subscribe(REQUESTS, self._requested)
            await self.network.subscribe(EQUITY, self.on_equity)
            if self.halting is not None:
                await self.network.subscribe(HALT_SIGNATURES, self.halting.on_signature)
            self.listening = True
        return 0

    async def on_equity(self, message: Verified) -> Assessment | None:
        """A desk's equity point: its reported positions checked, then watched, the desk's
        state moved, the halt called for once; its assessment, None when it could not be
        made. Positions that do not add up are refused (recorded under
        compute_exposure_concentration) and move the desk to REDUCING."""
        try:
            point = parse_equity(message.payload, message.sender)
        except MalformedRequest as error:
            log.warning("malformed equity point from %s: %s", message.sender, error)
            return None
        desk = self.desks.get(point.desk)
        if desk is None or desk.run != point.run:
            desk = self.desks[point.desk] = DeskRun(point.run,
                                                    PortfolioWatch(point.initial, self.limits))
        assessment = await self._assess(desk, point)
        if assessment is None:
            return None
        if assessment.state is not assessment.previous:
            log.warning("desk %s %s -> %s: %s (ES %s)", point.desk, assessment.previous.value,
                        assessment.state.value, assessment.reason(),
                        ", ".join(f"{name} {es:.2%}" for name, es in assessment.es.items()))
        if desk.watch.calls_for_halt(assessment):
            reason = breach_reason(point.desk, assessment.triggers)
            log.warning("breach at %s: %s", self.clock().isoformat(), reason)
            if self.halting is not None:
                self.halting.spawn(self.halting.breached(point.desk, reason))
        return assessment

    async def _assess(self, desk: DeskRun, point: DeskEquity) -> Assessment | None:
        try:
            with self.log.run("compute_exposure_concentration"):
                exposure = book_exposure(point.book)
        except FunctionInputError as error:
            log.warning("positions of desk %s refused: %s", point.desk, error)
            return desk.watch.refuse(report_trigger(point.book))
        sigma = await self.forecast_sigma(point)
        try:
            return desk.watch.observe(point.equity, exposure, run=self.log.run,
                                      sigma_forecast=sigma)
        except FunctionInputError as error:
            log.warning("equity of %s not evaluated: %s", point.desk, error)
            return None

    async def forecast_sigma(self, point: DeskEquity) -> float | None:
        """The ML forecast sigma of the desk's next equity return, or None (EWMA) without ML,
        exposure, or a forecast of every instrument held."""
        if self.forecasts is None or not point.exposure or point.equity <= 0:
            return None
        sigmas: dict[str, float] = {}
        for instrument in point.exposure:
            sigma = (await self.forecasts.sigma_async(instrument, point.at)
                     if instrument in INSTRUMENTS else None)
            if sigma is None:
                return None
            sigmas[instrument] = sigma
        return forecast_sigma({name: value / point.equity
                               for name, value in point.exposure.items()}, sigmas)

    async def _requested(self, message: Verified) -> None:
        request_id = message.payload.get("request_id")
        try:
            request = parse_request(message.payload)
        except MalformedRequest as error:
            if isinstance(request_id, str) and REQUEST_ID.fullmatch(request_id):
                await self.network.publish(answer_subject(request_id), answer_payload(
                    request_id, LimitDecision(False, "malformed_request", 0.0, 0.0,
                                              f"refused: {error}")))
            log.warning("malformed risk request from %s: %s", message.sender, error)
            return
        decision = self.decide(message.sender, message.node_type, request)
        await self.network.publish(answer_subject(request.request_id),
                                   answer_payload(request.request_id, decision))

    def decide(self, requester: str, node_type: NodeType, request: RiskRequest) -> LimitDecision:
        """The first refusing check's decision, else an allowing one of check "pre_trade"."""
        checks = self._checks(requester, node_type, request)
        for name, check in checks:
            try:
                with self.log.run(name):
                    decision = check()
            except FunctionInputError as refused:
                return LimitDecision(False, name, 0.0, 0.0,
                                     f"refused: {type(refused).__name__}: {refused}")
            if not decision.allowed:
                return decision
        return LimitDecision(True, PASSED, float(len(checks)), float(len(checks)),
                             f"{len(checks)} pre-trade checks passed")

    def _checks(self, requester: str, node_type: NodeType, request: RiskRequest
                ) -> list[tuple[str, Callable[[], LimitDecision]]]:
        settings, order = self.settings, request.order
        notional = {order.instrument: settings.guardian_max_notional}
        position = {order.instrument: settings.guardian_max_position}
        held = request.positions.get(order.instrument, 0.0)
        return [
            ("check_license_validity", lambda: self._license(requester, node_type)),
            ("screen_address_denylist", lambda: self._screen(requester)),
            ("set_trading_state",
             lambda: check_trading_state(self._trading_state(requester, request), held, order)),
            ("check_order_notional_limit",
             lambda: check_order_notional_limit(order, request.price, notional)),
            ("check_position_limit",
             lambda: check_position_limit(request.positions, order, position)),
            ("check_balance_sufficiency",
             lambda: check_balance_sufficiency(request.free_balance, order, request.price,
                                               position=held,
                                               fee_rate=settings.guardian_fee_rate)),
            ("evaluate_circuit_breaker",
             lambda: check_price_band(order, request.price, settings.guardian_price_band)),
            ("check_order_rate_limit", lambda: self._spend_token(requester)),
        ]

    def _trading_state(self, requester: str, request: RiskRequest) -> TradingState:
        """The stricter of the requester's own state and the one its equity led to here."""
        desk = self.desks.get(requester)
        if desk is None or desk.watch.state is TradingState.ACTIVE:
            return request.trading_state
        return TradingState.HALTED if TradingState.HALTED in (
            desk.watch.state, request.trading_state) else TradingState.REDUCING

    def _license(self, requester: str, node_type: NodeType) -> LimitDecision:
        held = self.network.membership.types_of(requester)
        verdict = check_license_validity(requester, node_type, {requester: held})
        return LimitDecision(verdict.allowed, verdict.check, float(len(verdict.held)), 1.0,
                             f"{requester} holds {'an' if verdict.allowed else 'no'} active "
                             f"{node_type.label} license at block "
                             f"{self.network.membership.block}")

    def _screen(self, requester: str) -> LimitDecision:
        screening = screen_address_denylist([requester], self.denylist)
        return LimitDecision(screening.allowed, screening.check, float(len(screening.hits)),
                             0.0, f"{requester} is {'not ' if screening.allowed else ''}on "
                                  f"the deny list")

    def _spend_token(self, requester: str) -> LimitDecision:
        now, settings = self.clock(), self.settings
        bucket = self.buckets.get(requester) or TokenBucket.full(
            settings.guardian_rate_capacity, settings.guardian_rate_per_second, now)
        decision = check_order_rate_limit(bucket, now)
        self.buckets[requester] = decision.bucket
        return decision


# emergency halt: a guarded desk's equity breaching the limit halts NodeGuard
@dataclass(frozen=True)
class DeskEquity:
    desk: str
    run: str
    equity: float
    initial: float
    at: datetime
    cash: float | None = None
    exposure: dict[str, float] | None = None
    """Signed notional (market value) per instrument held; None when the desk sent none or
    nothing readable."""

    @property
    def book(self) -> ReportedBook:
        return ReportedBook(self.equity, self.cash, self.exposure)


@dataclass(frozen=True)
class DeskRun:
    """One run of a desk as followed here: the watch of its equity."""

    run: str
    watch: PortfolioWatch


def parse_equity(payload: dict[str, Any], sender: str) -> DeskEquity:
    """The point in a verified payload, published by the desk it names. Its cash and positions
    are read leniently (None when missing or unreadable): a report that does not add up is
    refused by the watch, never dropped as malformed, so it cannot leave the desk's state as
    it was."""
    try:
        point = DeskEquity(checksum(bytes.fromhex(str(payload["desk"]).removeprefix("0x"))),
                           str(payload["run"]), float(payload["equity"]),
                           float(payload["initial"]), datetime.fromisoformat(payload["at"]),
                           _amount(payload.get("cash")), _notionals(payload.get("exposure")))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedRequest(f"{type(error).__name__}: {error}") from None
    if point.desk != sender:
        raise MalformedRequest(f"{sender} published the equity of {point.desk}")
    return point


def _amount(raw: Any) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _notionals(raw: Any) -> dict[str, float] | None:
    if not isinstance(raw, dict):
        return None
    try:
        return {str(name): float(value) for name, value in raw.items()}
    except (TypeError, ValueError):
        return None


def breach_reason(desk: str, triggers: Sequence[Trigger]) -> str:
    """Why the network halts, within NodeGuard's 128 bytes: the desk and the crossed numbers
    (the drawdown and kill switch readings, the first two of an assessment's triggers)."""
    drawdown, kill = triggers[:2]
    return (f"desk {desk} drawdown {drawdown.value:.2%} (max {drawdown.limit:.2%}), "
            f"P&L {kill.value:.2f} (kill {kill.limit:.2f})")


@dataclass(frozen=True)
class Guard:
    address: str
    halt: AbiFunction
    halt_nonce: AbiFunction
    is_halted: AbiFunction
    quorum: AbiFunction

    @classmethod
    def of(cls, deployment: Deployment) -> Guard | None:
        record = deployment.contracts.get(GUARD_CONTRACT)
        if record is None:
            return None
        return cls(record.address, *(AbiFunction.of(record.abi, name) for name in
                                     ("halt", "halt_nonce", "is_halted", "quorum")))


@dataclass
class Proposal:
    """One halt as signed, and the guardians' signatures of it gathered so far."""

    desk: str
    halt: Halt
    signatures: dict[str, bytes] = field(default_factory=dict)
    scheduled: bool = False


class GuardHalting:
    """Signs a halt on a breach (once per guard nonce), co-signs the halts other guardians
    publish for a desk that breached here too, and once a halt holds quorum() signatures
    submits it staged: the lowest signer address first, each next one SUBMIT_DELAY_S later if
    the guard is still not halted."""

    def __init__(self, network: Network, log: ExecutionLog, key: NodeKey, chain: Chain,
                 guard: Guard) -> None:
        self.network, self.log, self.key, self.chain, self.guard = network, log, key, chain, guard
        self.breaches: set[str] = set()
        self.proposed: set[int] = set()
        self.proposals: dict[Halt, Proposal] = {}
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _read(self, function: AbiFunction) -> Any:
        return (await self.chain.read(self.guard.address, function))[0]

    async def breached(self, desk: str, reason: str) -> None:
        try:
            nonce = await self._read(self.guard.halt_nonce)
            if await self._read(self.guard.is_halted) or nonce in self.proposed:
                return
            self.breaches.add(desk)
            self.proposed.add(nonce)
            theirs = [each for each in self.proposals.values()
                      if each.desk == desk and each.halt.nonce == nonce]
            for proposal in theirs:
                await self._sign(proposal)
            if not theirs:
                deadline = await self.chain.latest_timestamp() + HALT_VALID_S
                await self._sign(Proposal(desk, Halt(reason, deadline, nonce)))
        except jsonrpc.JsonRpcError as error:
            log.warning("halt for %s not signed: %s", desk, error)

    async def on_signature(self, message: Verified) -> None:
        try:
            with self.log.run("verify_report_signatures"):
                desk, halt, signature = self._checked(message.sender, message.payload)
        except FunctionInputError as error:
            log.warning("halt signature from %s refused: %s", message.sender, error)
            return
        proposal = self.proposals.setdefault(halt, Proposal(desk, halt))
        proposal.signatures[message.sender] = signature
        if desk in self.breaches and self.key.address not in proposal.signatures:
            await self._sign(proposal)
        else:
            await self._schedule_if_quorum(proposal)

    def _checked(self, sender: str, payload: dict[str, Any]) -> tuple[str, Halt, bytes]:
        """The desk, halt and signature of a message, if the signature is the sender's."""
        try:
            halt = Halt(str(payload["reason"]), int(payload["deadline"]), int(payload["nonce"]))
            signature = bytes.fromhex(str(payload["signature"]).removeprefix("0x"))
            desk = str(payload["desk"])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidParameter(f"malformed halt signature: {error}") from None
        digest = halt_digest(self.chain.chain_id, self.guard.address, halt)
        signer = recover(digest, signature) if len(signature) == 65 else None
        if signer is None or checksum(signer) != sender:
            raise InvalidParameter(f"halt signature of nonce {halt.nonce} is not {sender}'s")
        return desk, halt, signature

    async def _sign(self, proposal: Proposal) -> None:
        halt = proposal.halt
        signature = sign_halt(self.key.private_key, self.chain.chain_id, self.guard.address,
                              halt)
        proposal.signatures[self.key.address] = signature
        self.proposals[halt] = proposal
        await self.network.publish(HALT_SIGNATURES, {
            "desk": proposal.desk, "reason": halt.reason, "deadline": halt.deadline,
            "nonce": halt.nonce, "signature": "0x" + signature.hex()})
        await self._schedule_if_quorum(proposal)

    async def _schedule_if_quorum(self, proposal: Proposal) -> None:
        if proposal.scheduled or self.key.address not in proposal.signatures:
            return
        try:
            needed = await self._read(self.guard.quorum)
        except jsonrpc.JsonRpcError as error:
            log.warning("NodeGuard's quorum unreadable: %s", error)
            return
        if len(proposal.signatures) >= needed and not proposal.scheduled:
            proposal.scheduled = True
            self.spawn(self._submit_in_turn(proposal))

    async def _submit_in_turn(self, proposal: Proposal) -> None:
        signers = sorted(proposal.signatures, key=lambda address: int(address, 16))
        await asyncio.sleep(signers.index(self.key.address) * SUBMIT_DELAY_S)
        try:
            if (await self._read(self.guard.is_halted)
                    or await self._read(self.guard.halt_nonce) != proposal.halt.nonce):
                return  # halted already, or halted and resumed since: this halt is spent
            signatures = dict(proposal.signatures)
            sent = await self.chain.send(self.guard.address, self.guard.halt.calldata(
                *halt_args(proposal.halt, signatures)))
            log.warning("halt submitted at %s with %d signature(s): %s (tx %s)",
                        datetime.now(UTC).isoformat(), len(signatures), proposal.halt.reason,
                        sent)
        except jsonrpc.JsonRpcError as error:
            log.warning("halt of nonce %s not submitted: %s", proposal.halt.nonce, error)


def guardian_duties(network: Network, log: ExecutionLog, key: NodeKey,
                    settings: NodeSettings, observer: Listening) -> GuardianDuties:
    """Guardian duties halting the deployment's NodeGuard on a desk's breach (none in the
    deployment file: no halting, the risk answers only), watching desks with the ML service's
    forecasts when NODERR_ML_TARGET names it."""
    chain_id = network.bus.signer.domain.chain_id
    guard = Guard.of(Deployment.load(get_settings().deployment_path(chain_id)))
    halting = None if guard is None else GuardHalting(
        network, log, key, Chain(settings.rpc_url, key, chain_id), guard)
    return GuardianDuties(network, log, GuardianSettings(), observer, halting=halting,
                          forecasts=node_forecasts(settings, lambda: network.client.token))
