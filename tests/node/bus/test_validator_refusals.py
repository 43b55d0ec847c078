"""What a validator refuses on its bus subscriptions it refuses in one line, never with a
traceback from the bus handler: a report signature that is not its sender's (a member could
send one a second within its budget), and a decision reached here for a round the chain
already has (a validator that fell behind, SIGSTOPped in the n = 7 failover run, logged a
`StaleInput` traceback per feed when it caught up)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from node.bus.envelope import Signer
from node.bus.membership import Membership
from node.bus.verify import Verifier
from node.consensus.messages import Proposal
from node.consensus.replica import Decide
from node.execution import Execution
from node.runtime.validator import FeedDriver
from noderr.domain import NodeType
from noderr.feed_report import Report, sign_report
from tests.node.bus.helpers import connect, eventually, signer
from tests.node.bus.test_validator_flooding import FEED, duties

MEMBER_KEY = bytes([8]) * 32
OTHER_KEY = bytes([9]) * 32


def handler_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == "noderr.node.bus" and record.exc_info]


def test_report_signature__not_the_senders__refused_in_one_line_no_traceback(
        nats_url: str, verifier: Verifier, membership: Membership, validator: Signer,
        caplog: pytest.LogCaptureFixture):
    member = signer(MEMBER_KEY, NodeType.VALIDATOR)
    membership.update(membership.block + 1, [(validator.address, NodeType.VALIDATOR, 3),
                                             (member.address, NodeType.VALIDATOR, 4)])

    async def scenario() -> list[Execution]:
        receiver = await connect(nats_url, validator, verifier, CollectorRegistry())
        node = duties(receiver, membership)
        await node._subscribe()
        await receiver.flush()
        driver = node.drivers[FEED]
        report = Report(7, 100 * 10**8, 28)
        forged = sign_report(OTHER_KEY, receiver.signer.domain.chain_id, driver.feed.address,
                             report)
        sender = await connect(nats_url, member, verifier)
        await sender.publish(driver.signatures_subject, {
            "round": report.round, "answer": str(report.answer),
            "observed_at": report.observed_at, "signature": "0x" + forged.hex()})
        await sender.flush()
        await eventually(lambda: node.context.log.recorded >= 1)
        for bus in (sender, receiver):
            await bus.close()
        return node.context.log.drain()

    with caplog.at_level(logging.INFO):
        [execution] = asyncio.run(scenario())

    assert (execution.function, execution.outcome) == ("validate_tx_signature", "rejected")
    assert f"is not {member.address}'s" in execution.error
    assert handler_tracebacks(caplog) == []
    assert any(f"report signature from {member.address} refused" in message
               for message in caplog.messages)


def test_decided__round_already_on_chain__not_signed_no_error(
        nats_url: str, verifier: Verifier, membership: Membership, validator: Signer,
        caplog: pytest.LogCaptureFixture):
    async def scenario() -> tuple[FeedDriver, list[Execution]]:
        receiver = await connect(nats_url, validator, verifier, CollectorRegistry())
        driver = duties(receiver, membership).drivers[FEED]
        driver.landed = 10
        await driver._decided(Decide(9, 100 * 10**8, Proposal(9, (), 100 * 10**8),
                                     frozenset(), view=9))
        await receiver.close()
        return driver, driver.context.log.drain()

    with caplog.at_level(logging.INFO, logger="noderr.node.validator"):
        driver, [execution] = asyncio.run(scenario())

    assert (execution.function, execution.outcome) == ("validate_report_payload", "rejected")
    assert execution.error.startswith("StaleInput: round 9 is not after round 10")
    assert driver.agreed == {}
    assert any("round 9 of SP500 decided here, not signed" in message
               for message in caplog.messages)
