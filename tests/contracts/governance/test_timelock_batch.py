"""NodeTimelock's own `schedule_batch` / `execute_batch` (bound 8): snekmate's rules, linear cost.

A standalone timelock: alice proposes (and cancels), bob executes; the calls go to
the test contract Emitter, whose `Ping` events show which calls ran and in what order.
"""

import ape
import pytest

from tests.contracts.license_constants import MISSING_ROLE

DELAY = 3600
EMPTY = b"\x00" * 32
SALT = b"\x5a" * 32


@pytest.fixture(scope="module")
def batch_timelock(project, deployer, alice, bob):
    return deployer.deploy(project.NodeTimelock, DELAY, [alice], [bob], deployer)


@pytest.fixture(scope="module")
def emitter(project, deployer):
    return deployer.deploy(project.Emitter)


def pings(emitter, count):
    """A batch of `count` calls, call i emitting one Ping numbered i."""
    targets = [emitter.address] * count
    payloads = [emitter.emit_many.encode_input(i, 1) for i in range(count)]
    return targets, [0] * count, payloads


def schedule(timelock, batch, sender, predecessor=EMPTY, salt=SALT, delay=DELAY):
    return timelock.schedule_batch(*batch, predecessor, salt, delay, sender=sender)


def test_schedule_batch__proposer__schedules_snekmate_operation(
    batch_timelock, emitter, chain, alice
):
    batch = pings(emitter, 3)

    tx = schedule(batch_timelock, batch, alice)

    op_id = batch_timelock.hash_operation_batch(*batch, EMPTY, SALT)
    assert batch_timelock.is_operation_pending(op_id)
    assert batch_timelock.get_timestamp(op_id) == chain.blocks[tx.block_number].timestamp + DELAY
    scheduled = tx.decode_logs(batch_timelock.CallScheduled)
    assert [(e.id, e.index, e.target, e.amount) for e in scheduled] == [
        (op_id, i, emitter.address, 0) for i in range(3)
    ]
    assert [e.payload for e in scheduled] == batch[2]
    assert {(e.predecessor, e.delay) for e in scheduled} == {(EMPTY, DELAY)}
    [salted] = tx.decode_logs(batch_timelock.CallSalt)
    assert (salted.id, salted.salt) == (op_id, SALT)


def test_schedule_batch__empty_salt__no_call_salt_event(batch_timelock, emitter, alice):
    tx = schedule(batch_timelock, pings(emitter, 2), alice, salt=EMPTY)

    assert len(tx.decode_logs(batch_timelock.CallScheduled)) == 2
    assert not tx.decode_logs(batch_timelock.CallSalt)


def test_schedule_batch__non_proposer__reverts(batch_timelock, emitter, bob):
    with ape.reverts(MISSING_ROLE):
        schedule(batch_timelock, pings(emitter, 2), bob)


def test_schedule_batch__length_mismatch__reverts(batch_timelock, emitter, alice):
    targets, amounts, payloads = pings(emitter, 2)

    with ape.reverts("timelock_controller: length mismatch"):
        schedule(batch_timelock, (targets, amounts[:1], payloads), alice)


def test_schedule_batch__below_minimum_delay__reverts(batch_timelock, emitter, alice):
    with ape.reverts("timelock_controller: insufficient delay"):
        schedule(batch_timelock, pings(emitter, 2), alice, delay=DELAY - 1)


def test_schedule_batch__twice__reverts(batch_timelock, emitter, alice):
    schedule(batch_timelock, pings(emitter, 2), alice)

    with ape.reverts("timelock_controller: operation already scheduled"):
        schedule(batch_timelock, pings(emitter, 2), alice)


def test_schedule_batch__more_than_max_batch_size__reverts(batch_timelock, emitter, alice):
    assert batch_timelock.MAX_BATCH_SIZE() == 8

    with ape.reverts():
        schedule(batch_timelock, pings(emitter, 9), alice)


def test_execute_batch__ready__runs_calls_in_order(
    batch_timelock, emitter, chain, alice, bob, deployer
):
    targets, amounts, payloads = pings(emitter, 2)
    batch = ([*targets, deployer.address], [*amounts, 77], [*payloads, b""])
    schedule(batch_timelock, batch, alice)
    op_id = batch_timelock.hash_operation_batch(*batch, EMPTY, SALT)
    chain.pending_timestamp = batch_timelock.get_timestamp(op_id)
    before = deployer.balance

    tx = batch_timelock.execute_batch(*batch, EMPTY, SALT, value=77, sender=bob)

    assert [e.seq for e in tx.decode_logs(emitter.Ping)] == [0, 1]
    assert {e.sender for e in tx.decode_logs(emitter.Ping)} == {batch_timelock.address}
    assert deployer.balance == before + 77
    executed = tx.decode_logs(batch_timelock.CallExecuted)
    assert [(e.id, e.index, e.target, e.amount) for e in executed] == [
        (op_id, 0, emitter.address, 0),
        (op_id, 1, emitter.address, 0),
        (op_id, 2, deployer.address, 77),
    ]
    assert batch_timelock.is_operation_done(op_id)


def test_execute_batch__before_ready__reverts(batch_timelock, emitter, alice, bob):
    batch = pings(emitter, 2)
    schedule(batch_timelock, batch, alice)

    with ape.reverts("timelock_controller: operation is not ready"):
        batch_timelock.execute_batch(*batch, EMPTY, SALT, sender=bob)


def test_execute_batch__non_executor__reverts(batch_timelock, emitter, chain, alice):
    batch = pings(emitter, 2)
    schedule(batch_timelock, batch, alice)
    chain.pending_timestamp += DELAY

    with ape.reverts(MISSING_ROLE):
        batch_timelock.execute_batch(*batch, EMPTY, SALT, sender=alice)


def test_execute_batch__twice__reverts(batch_timelock, emitter, chain, alice, bob):
    batch = pings(emitter, 2)
    schedule(batch_timelock, batch, alice)
    chain.pending_timestamp += DELAY
    batch_timelock.execute_batch(*batch, EMPTY, SALT, sender=bob)

    with ape.reverts("timelock_controller: operation is not ready"):
        batch_timelock.execute_batch(*batch, EMPTY, SALT, sender=bob)


def test_execute_batch__predecessor_not_done__reverts_until_it_is(
    batch_timelock, emitter, chain, alice, bob
):
    first = pings(emitter, 2)
    second = pings(emitter, 3)
    schedule(batch_timelock, first, alice)
    first_id = batch_timelock.hash_operation_batch(*first, EMPTY, SALT)
    schedule(batch_timelock, second, alice, predecessor=first_id)
    chain.pending_timestamp += DELAY

    with ape.reverts("timelock_controller: missing dependency"):
        batch_timelock.execute_batch(*second, first_id, SALT, sender=bob)

    batch_timelock.execute_batch(*first, EMPTY, SALT, sender=bob)
    tx = batch_timelock.execute_batch(*second, first_id, SALT, sender=bob)
    assert len(tx.decode_logs(batch_timelock.CallExecuted)) == 3


def test_execute_batch__failing_call__reverts_whole_batch(
    batch_timelock, emitter, chain, alice, bob
):
    targets, amounts, payloads = pings(emitter, 2)
    # The last call fails: the timelock itself lacks CANCELLER_ROLE.
    batch = ([*targets, batch_timelock.address], [*amounts, 0],
             [*payloads, batch_timelock.cancel.encode_input(EMPTY)])
    schedule(batch_timelock, batch, alice)
    op_id = batch_timelock.hash_operation_batch(*batch, EMPTY, SALT)
    chain.pending_timestamp += DELAY

    with ape.reverts(MISSING_ROLE):
        batch_timelock.execute_batch(*batch, EMPTY, SALT, sender=bob)

    assert batch_timelock.is_operation_pending(op_id)
    assert not batch_timelock.is_operation_done(op_id)


def test_cancel__batch_operation__by_canceller(batch_timelock, emitter, alice):
    batch = pings(emitter, 2)
    schedule(batch_timelock, batch, alice)
    op_id = batch_timelock.hash_operation_batch(*batch, EMPTY, SALT)

    tx = batch_timelock.cancel(op_id, sender=alice)

    [cancelled] = tx.decode_logs(batch_timelock.Cancelled)
    assert cancelled.id == op_id
    assert not batch_timelock.is_operation(op_id)


def test_schedule_and_execute_batch__gas__grows_linearly(
    batch_timelock, emitter, chain, alice, bob
):
    """Before the bound of 8, any batch paid ~1.5M gas of memory (snekmate's 255 bound)."""
    costs = {}
    for count in (2, 8):
        batch = pings(emitter, count)
        scheduled = schedule(batch_timelock, batch, alice)
        chain.pending_timestamp += DELAY
        executed = batch_timelock.execute_batch(*batch, EMPTY, SALT, sender=bob)
        costs[count] = (scheduled.gas_used, executed.gas_used)

    (schedule_2, execute_2), (schedule_8, execute_8) = costs[2], costs[8]
    assert schedule_2 < 100_000
    assert execute_2 < 100_000
    assert (schedule_8 - schedule_2) / 6 < 10_000
    assert (execute_8 - execute_2) / 6 < 15_000
