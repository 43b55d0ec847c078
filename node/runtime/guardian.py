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

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from node.bus import subjects
from node.bus.envelope import Frame
from node.bus.transport import Bus
from node.bus.verify import Verifier
from node.desk.records import Order
from node.errors import FunctionInputError
from node.execution import ExecutionLog
from node.guardian import orders as guardian_orders
from node.guardian.compliance import Denylist, check_license_validity, screen_address_denylist
from node.guardian.decisions import LimitDecision
from node.guardian.limits import (
    TokenBucket,
    check_balance_sufficiency,
    check_order_notional_limit,
    check_order_rate_limit,
    check_position_limit,
)
from node.guardian.shutdown import TradingState, check_trading_state
from node.runtime.network import Network, Verified
from node.settings import GuardianSettings
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.guardian")
REQUESTS = subjects.subject("node", "risk", "requests")
ANSWERS = subjects.subject("guardian", "risk", "answers")
"""Answers, one subject per request below it: `noderr.guardian.risk.answers.<request id>`."""
REQUEST_ID = re.compile(r"[0-9a-f]{8,64}")
PASSED = "pre_trade"


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
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.network, self.observer = network, observer
        self.log, self.settings, self.clock = log, settings, clock
        self.denylist = Denylist.of(settings.guardian_denylist)
        self.buckets: dict[str, TokenBucket] = {}
        self.listening = False

    async def step(self) -> int:
        await self.observer.step()
        if not self.listening:
            bus = self.network.bus
            verifier = bus.verifier
            requests = Bus(bus.connection, bus.signer,
                           SignedRequests(verifier.domain, verifier.membership,
                                          verifier.window_ms / 1000, verifier.clock))
            await requests.subscribe(REQUESTS, self._requested)
            self.listening = True
        return 0

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
             lambda: check_trading_state(request.trading_state, held, order)),
            ("check_order_notional_limit",
             lambda: check_order_notional_limit(order, request.price, notional)),
            ("check_position_limit",
             lambda: check_position_limit(request.positions, order, position)),
            ("check_balance_sufficiency",
             lambda: check_balance_sufficiency(request.free_balance, order, request.price,
                                               position=held,
                                               fee_rate=settings.guardian_fee_rate)),
            ("check_order_rate_limit", lambda: self._spend_token(requester)),
        ]

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
