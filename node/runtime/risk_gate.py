"""The desk's risk gate over the bus: an order is asked of the Guardian nodes and may trade only
when `required_answers` distinct active Guardian licenses allow it in time.

The request goes out on `noderr.node.risk.requests` (node/runtime/guardian.py says what it
holds) after the subscription to its answers subject, `noderr.guardian.risk.answers.<id>`,
is in place. The bus has verified every answer that reaches the gate: signed by its sender,
fresh, not replayed, and sent by a holder of an active Guardian license (the subject's
family), so a forged answer or one from any other key never counts. Answers are counted once
per guardian. Fail closed:
  - the first refusal is the decision (with that guardian's check and numbers);
  - fewer than `required_answers` allowing answers within `timeout_s`: refused, check
    "guardian_quorum", value the answers that came, limit the answers required.

PaperDesk.step is synchronous (node/desk stays pure), so the runtime runs it in a worker
thread and the gate, called there, hands the round trip to the event loop (`__call__`);
asynchronous code awaits `decide` directly."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from node.desk.gate import RiskContext
from node.desk.records import Order
from node.guardian.decisions import LimitDecision
from node.runtime.guardian import REQUESTS, answer_subject
from node.runtime.network import Network, Verified

QUORUM_CHECK = "guardian_quorum"


def request_payload(request_id: str, order: Order, context: RiskContext) -> dict[str, Any]:
    return {"request_id": request_id, "order": order.to_dict(), "context": {
        "at": context.at.isoformat(), "price": context.price,
        "positions": dict(context.positions), "free_balance": context.free_balance,
        "trading_state": context.trading_state.value}}


@dataclass(frozen=True)
class GuardianAnswer:
    guardian: str
    decision: LimitDecision


def answer_of(message: Verified, request_id: str) -> GuardianAnswer | None:
    """The decision in a verified answer to `request_id`; None for anything else."""
    payload = message.payload
    try:
        if payload["request_id"] != request_id or not isinstance(payload["allowed"], bool):
            return None
        decision = LimitDecision(payload["allowed"], str(payload["check"]),
                                 float(payload["value"]), float(payload["limit"]),
                                 str(payload["reason"]))
    except (KeyError, TypeError, ValueError):
        return None
    return GuardianAnswer(message.sender, decision)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


HALTED_CHECK = "halted"


class BusRiskGate:
    def __init__(self, network: Network, required_answers: int, timeout_s: float) -> None:
        if required_answers < 1:
            raise ValueError("a risk gate needs at least one guardian answer")
        self.network = network
        self.required_answers = required_answers
        self.timeout_s = timeout_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self.halted_by: str | None = None
        """Why trading is halted on-chain (NodeGuard, as indexed), or None: while set, every
        order is refused as "halted" without asking anyone."""

    async def decide(self, order: Order, context: RiskContext) -> LimitDecision:
        if self.halted_by is not None:
            return LimitDecision(False, HALTED_CHECK, 1.0, 0.0,
                                 f"trading is halted on-chain: {self.halted_by}")
        request_id = secrets.token_hex(16)
        allowing: dict[str, GuardianAnswer] = {}
        decided: asyncio.Future[LimitDecision] = asyncio.get_running_loop().create_future()

        async def answered(message: Verified) -> None:
            answer = answer_of(message, request_id)
            if answer is None or decided.done():
                return
            if not answer.decision.allowed:
                decided.set_result(self._refused_by(answer))
                return
            allowing[answer.guardian] = answer
            if len(allowing) >= self.required_answers:
                decided.set_result(self._allowed(allowing))

        subscription = await self.network.bus.subscribe(answer_subject(request_id), answered)
        try:
            await self.network.publish(REQUESTS, request_payload(request_id, order, context))
            return await asyncio.wait_for(asyncio.shield(decided), self.timeout_s)
        except TimeoutError:
            return self._too_few(len(allowing))
        finally:
            await subscription.unsubscribe()

    def __call__(self, order: Order, context: RiskContext) -> LimitDecision:
        """`decide`, from a thread other than the event loop's (the desk's worker thread)."""
        if self.loop is None:
            raise RuntimeError("BusRiskGate.bind(loop) first: the gate needs the bus's loop")
        if _running_loop() is self.loop:
            raise RuntimeError("on the event loop, await BusRiskGate.decide: waiting here "
                               "would block the loop the answers arrive on")
        return asyncio.run_coroutine_threadsafe(self.decide(order, context), self.loop).result()

    def bind(self, loop: asyncio.AbstractEventLoop) -> BusRiskGate:
        """Let the synchronous call reach the bus through `loop` (the one the bus runs on)."""
        self.loop = loop
        return self

    def _refused_by(self, answer: GuardianAnswer) -> LimitDecision:
        refusal = answer.decision
        return LimitDecision(False, refusal.check, refusal.value, refusal.limit,
                             f"refused by guardian {answer.guardian}: {refusal.reason}")

    def _allowed(self, answers: dict[str, GuardianAnswer]) -> LimitDecision:
        count = float(len(answers))
        return LimitDecision(True, QUORUM_CHECK, count, float(self.required_answers),
                             f"allowed by {len(answers)} guardian(s): {', '.join(answers)}")

    def _too_few(self, count: int) -> LimitDecision:
        return LimitDecision(False, QUORUM_CHECK, float(count), float(self.required_answers),
                             f"fail closed: only {count} of {self.required_answers} guardians "
                             f"answered in {self.timeout_s:g} s")
