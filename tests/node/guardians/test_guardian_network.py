"""Guardian nodes risk-check orders over the real bus: an order within the limits is allowed by
both guardians, one over a limit refused with the failing check and its numbers, a requester
on the deny list or whose license was revoked refused; with a guardian gone and two answers
required the gate fails closed, and answers forged by non-guardian keys never count.

The tests run in order on one network (tests/node/guardians/conftest.py)."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

import nats
import orjson
from eth_account import Account
from nats.aio.msg import Msg

from node.bus.envelope import Domain, Signer, decode, encode
from node.runtime.guardian import REQUESTS, answer_subject
from noderr.domain import NodeType
from noderr.settings import LOCAL_CHAIN_ID
from tests.node.guardians.conftest import (
    MAX_NOTIONAL,
    PRICE,
    TIMEOUT_S,
    GuardianNetwork,
    order,
)

PRE_TRADE_FUNCTIONS = {"check_license_validity", "screen_address_denylist", "set_trading_state",
                       "evaluate_circuit_breaker",
                       "check_order_notional_limit", "check_position_limit",
                       "check_balance_sufficiency", "check_order_rate_limit"}


def test_orders__within_limits__allowed_by_both_guardians(guardian_network: GuardianNetwork):
    asked = guardian_network.ask(guardian_network.requester,
                                 [order(number=number) for number in range(36)])

    assert all(decision.allowed for decision in asked.decisions)
    network = guardian_network.network
    for decision in asked.decisions:
        assert (decision.check, decision.value, decision.limit) == ("guardian_quorum", 2, 2)
        assert all(network.account(account) in decision.reason
                   for account in guardian_network.guardians)
    print(f"request -> decision p50 {statistics.median(asked.latencies_s) * 1000:.1f} ms "
          f"over {len(asked.latencies_s)} requests, 2 guardians")


def test_order__over_the_notional_limit__refused_with_check_and_numbers(
        guardian_network: GuardianNetwork):
    asked = guardian_network.ask(guardian_network.requester, [order("50")])

    decision = asked.decisions[0]
    assert not decision.allowed
    assert (decision.check, decision.value, decision.limit) == \
        ("order_notional", 50 * PRICE, MAX_NOTIONAL)
    assert decision.reason.startswith("refused by guardian 0x")


def test_requester__on_the_deny_list__refused(guardian_network: GuardianNetwork):
    decision = guardian_network.ask(guardian_network.denied, [order()]).decisions[0]

    assert not decision.allowed
    assert (decision.check, decision.value) == ("address_denylist", 1)
    assert f"{guardian_network.denied.account.address} is on the deny list" \
        in decision.reason


def test_requester__license_revoked__refused_by_license_validity(
        guardian_network: GuardianNetwork):
    revocable = guardian_network.revocable
    assert guardian_network.ask(revocable, [order()]).decisions[0].allowed
    guardian_network.network.ops.revoke(revocable.token_id)

    decision = guardian_network.network.wait_until(
        lambda: (answer := guardian_network.ask(revocable, [order()]).decisions[0]).check
        == "license_validity" and answer, "the guardians to see the revocation")

    assert not decision.allowed
    assert (decision.value, decision.limit) == (0, 1)
    assert "holds no active Oracle license" in decision.reason


def test_executions__every_pre_trade_check__recorded_by_each_guardian(
        guardian_network: GuardianNetwork):
    network = guardian_network.network

    def recorded(address: str) -> set[str]:
        return {row["function"] for row in network.executions(address)}

    for account in guardian_network.guardians:
        address = network.account(account)
        assert network.wait_until(lambda address=address: recorded(address)
                                  >= PRE_TRADE_FUNCTIONS, "the executions shipped")


def forger(requester_key: bytes, guardian: str) -> Callable[[str], Awaitable[None]]:
    """Answers every request with forged allowing answers: from a licensed Oracle key (not a
    guardian's), from an unlicensed key signing as a Guardian, and under a live guardian's
    address with another key's signature."""
    domain = Domain(LOCAL_CHAIN_ID)
    as_oracle = Signer(requester_key, NodeType.ORACLE, domain)
    stranger = Signer(bytes(Account.create().key), NodeType.GUARDIAN, domain)

    async def answer(connection: nats.NATS, msg: Msg) -> None:
        request_id = orjson.loads(decode(msg.data).payload)["request_id"]
        subject = answer_subject(request_id)
        body = orjson.dumps({"request_id": request_id, "allowed": True, "check": "pre_trade",
                             "value": 7, "limit": 7, "reason": "forged"})
        impostor = decode(stranger.seal(subject, body))
        claimed = encode(replace(impostor, envelope=replace(
            impostor.envelope, sender=bytes.fromhex(guardian[2:]))))
        for frame in (as_oracle.seal(subject, body), stranger.seal(subject, body), claimed):
            await connection.publish(subject, frame)

    async def forge(url: str) -> None:
        connection = await nats.connect(url)
        try:
            await connection.subscribe(REQUESTS, cb=partial(answer, connection))
            await connection.flush()
            await asyncio.Event().wait()
        finally:
            await connection.close()
    return forge


def test_guardian_killed__two_answers_required__refused_fail_closed_forgeries_never_count(
        guardian_network: GuardianNetwork):
    network = guardian_network.network
    killed, alive = guardian_network.guardians[8], network.account(3)
    killed.process.kill()
    killed.wait_exit()
    requester = guardian_network.requester

    asked = guardian_network.ask(requester, [order()], required=2,
                                 during=forger(bytes(requester.account.key), alive))

    decision = asked.decisions[0]
    assert not decision.allowed
    assert (decision.check, decision.value, decision.limit) == ("guardian_quorum", 1, 2)
    assert decision.reason == \
        f"fail closed: only 1 of 2 guardians answered in {TIMEOUT_S:g} s"
    assert {"wrong_type", "unlicensed", "bad_signature"} <= set(asked.dropped)
