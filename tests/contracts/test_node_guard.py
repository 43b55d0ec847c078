"""NodeGuard: a quorum of distinct Active Guardian signatures halts the network on-chain, and
only governance (the timelock) resumes it.

Five guardians hold Active Guardian licenses beside the governed stack (n = 5: a majority is
3); the timelock (impersonated) stands for a passed proposal. Signatures are checked against
the guard's own nonce, so a halt cannot be replayed after a resume.
"""

import ape
import pytest

from noderr.halt_report import Halt, halt_args, halt_digest, sign_halt
from tests.contracts.conftest import signing_key
from tests.contracts.license_constants import GUARDIAN, ORACLE, application_id

pytestmark = pytest.mark.usefixtures("no_revert_tracebacks")

REASON = "drawdown 21.4% above the 20% limit"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def ascending(keys):
    return sorted(keys, key=lambda key: int(key.address, 16))


@pytest.fixture
def deadline(chain):
    return chain.pending_timestamp + 3600


@pytest.fixture
def halt_now(guard, deadline):
    """Factory: halt_now(nonce=the guard's) -> a Halt valid for an hour."""

    def _halt(nonce=None, reason=REASON):
        return Halt(reason, deadline, guard.halt_nonce() if nonce is None else nonce)

    return _halt


@pytest.fixture
def send_halt(guard, sign_halt_args, guardian_keys, halt_now, mallory):
    """Factory: send_halt(keys=first three guardians, halt=halt_now()) -> receipt, sent by
    mallory (anyone may carry the guardians' signatures)."""

    def _send(keys=None, halt=None):
        keys = guardian_keys[:3] if keys is None else keys
        return guard.halt(*sign_halt_args(keys, halt or halt_now()), sender=mallory)

    return _send


@pytest.fixture
def guardian_token(feed_stack):
    def _token_of(key):
        return feed_stack.license.token_of(key.address, GUARDIAN)

    return _token_of


def test_views__deployed__majority_quorum_and_not_halted(guard, feed_stack, feed_governance):
    assert guard.license() == feed_stack.license.address
    assert guard.governance() == feed_governance.address
    assert (guard.quorum_numerator(), guard.quorum_denominator()) == (1, 2)
    assert guard.quorum() == 3
    assert guard.halt_nonce() == 0
    assert not guard.is_halted()


def test_eip712_domain__deployed__names_the_guard(chain, guard):
    _, name, version, chain_id, verifying_contract, _, _ = guard.eip712Domain()
    assert (name, version, chain_id, verifying_contract) == ("NodeGuard", "1", chain.chain_id,
                                                             guard.address)


def test_halt_digest__matches_the_python_helper(chain, guard):
    halt = Halt("ünïcode reason", 1_800_000_000, 7)
    assert guard.halt_digest(halt.reason, halt.deadline, halt.nonce) == halt_digest(
        chain.chain_id, guard.address, halt)


def test_halt__quorum__halts_and_logs_the_reason(guard, guardian_keys, send_halt):
    tx = send_halt()

    assert guard.is_halted()
    assert guard.halt_nonce() == 1
    (event,) = tx.decode_logs(guard.Halted)
    assert (event.nonce, event.reason) == (0, REASON)
    assert event.signers == [key.address for key in guardian_keys[:3]]


def test_halt__every_guardian_signs__halts(guard, guardian_keys, send_halt):
    send_halt(keys=guardian_keys)
    assert guard.is_halted()


def test_halt__halt_args_helper__orders_the_signers(chain, guard, guardian_keys, halt_now,
                                                    mallory):
    halt = halt_now()
    signatures = {key.address: sign_halt(key.private_key, chain.chain_id, guard.address, halt)
                  for key in reversed(guardian_keys[:3])}
    guard.halt(*halt_args(halt, signatures), sender=mallory)
    assert guard.is_halted()


def test_halt__one_signature_short__reverts(guard, guardian_keys, send_halt):
    with ape.reverts("NodeGuard: quorum not met"):
        send_halt(keys=guardian_keys[:2])
    assert not guard.is_halted()


def test_halt__single_guardian__reverts(guardian_keys, send_halt):
    with ape.reverts("NodeGuard: quorum not met"):
        send_halt(keys=guardian_keys[:1])


def test_halt__duplicate_signer__reverts(guardian_keys, send_halt):
    first, second = guardian_keys[:2]
    with ape.reverts("NodeGuard: duplicate signer"):
        send_halt(keys=[first, second, second])


def test_halt__signers_not_ascending__reverts(guardian_keys, send_halt):
    first, second, third = guardian_keys[:3]
    with ape.reverts("NodeGuard: signers not ascending"):
        send_halt(keys=[first, third, second])


def test_halt__unlicensed_signer__reverts(guardian_keys, outsider_key, send_halt):
    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(keys=ascending([*guardian_keys[:2], outsider_key]))


def test_halt__oracle_licensee_signer__reverts(feed_stack, minter, guardian_keys, outsider_key,
                                               send_halt):
    feed_stack.license.mint(outsider_key.address, ORACLE, application_id(9_101), sender=minter)
    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(keys=ascending([*guardian_keys[:2], outsider_key]))


def test_halt__validator_signer__reverts(guardian_keys, validator_keys, send_halt):
    """A Validator license, Active and governing, is not a Guardian license."""
    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(keys=ascending([*guardian_keys[:2], validator_keys[0]]))


def test_halt__suspended_guardian__reverts(feed_stack, revoker, guardian_keys, guardian_token,
                                           send_halt):
    suspended = guardian_keys[2]
    feed_stack.license.suspend(guardian_token(suspended), "key compromised", sender=revoker)

    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(keys=guardian_keys[:3])


def test_halt__revoked_guardian__reverts(feed_stack, revoker, guardian_keys, guardian_token,
                                         send_halt):
    revoked = guardian_keys[0]
    feed_stack.license.revoke(guardian_token(revoked), "left the network", sender=revoker)

    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(keys=guardian_keys[:3])


def test_halt__guardians_suspended__quorum_follows_the_active_count(
        guard, feed_stack, revoker, guardian_keys, guardian_token, send_halt):
    for key in guardian_keys[2:]:
        feed_stack.license.suspend(guardian_token(key), "offline", sender=revoker)

    assert guard.quorum() == 2  # n = 2
    send_halt(keys=guardian_keys[:2])
    assert guard.is_halted()


def test_halt__guardian_admitted__quorum_rises(guard, feed_stack, minter, guardian_keys,
                                               send_halt):
    newcomer = signing_key("guard-newcomer")
    feed_stack.license.mint(newcomer.address, GUARDIAN, application_id(9_102), sender=minter)

    assert guard.quorum() == 4  # n = 6
    with ape.reverts("NodeGuard: quorum not met"):
        send_halt(keys=guardian_keys[:3])
    send_halt(keys=guardian_keys[:4])


def test_halt__no_active_guardian__reverts(guard, feed_stack, revoker, guardian_keys,
                                           guardian_token, send_halt):
    """The quorum never drops below one signature, which only a guardian can give."""
    for key in guardian_keys:
        feed_stack.license.suspend(guardian_token(key), "offline", sender=revoker)

    assert guard.quorum() == 1
    with ape.reverts("NodeGuard: quorum not met"):
        send_halt(keys=[])
    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(keys=guardian_keys[:1])


def test_halt__at_the_deadline__halts(chain, guard, send_halt, halt_now):
    halt = halt_now()
    chain.pending_timestamp = halt.deadline
    send_halt(halt=halt)
    assert guard.is_halted()


def test_halt__past_the_deadline__reverts(chain, guard, send_halt, halt_now):
    halt = halt_now()
    chain.pending_timestamp = halt.deadline + 1
    with ape.reverts("NodeGuard: expired"):
        send_halt(halt=halt)
    assert not guard.is_halted()


def test_halt__already_halted__reverts(send_halt, halt_now, guardian_keys):
    send_halt()
    with ape.reverts("NodeGuard: already halted"):
        send_halt(keys=guardian_keys[2:], halt=halt_now(reason="second halt"))


def test_halt__replayed_after_resume__reverts(guard, feed_governance, sign_halt_args,
                                              halt_now, guardian_keys, mallory):
    """Signed over nonce 0, the used halt recovers to unrelated addresses once the nonce is 1."""
    args = sign_halt_args(guardian_keys[:3], halt_now())
    guard.halt(*args, sender=mallory)
    guard.resume(sender=feed_governance)

    with ape.reverts("NodeGuard: signer not an active guardian"):
        guard.halt(*args, sender=mallory)
    assert not guard.is_halted()


def test_halt__new_nonce_after_resume__halts_again(guard, feed_governance, send_halt):
    send_halt()
    guard.resume(sender=feed_governance)

    tx = send_halt()  # signed over nonce 1
    (event,) = tx.decode_logs(guard.Halted)
    assert event.nonce == 1
    assert guard.is_halted()
    assert guard.halt_nonce() == 2


def test_halt__stale_nonce_signed__reverts(send_halt, halt_now):
    with ape.reverts("NodeGuard: signer not an active guardian"):
        send_halt(halt=halt_now(nonce=1))


def test_halt__signed_for_another_guard__reverts(guard, sign_halt_args, guardian_keys,
                                                 halt_now, mallory):
    args = sign_halt_args(guardian_keys[:3], halt_now(), guard_address=mallory.address)
    with ape.reverts("NodeGuard: signer not an active guardian"):
        guard.halt(*args, sender=mallory)


def test_halt__signed_for_another_chain__reverts(chain, guard, sign_halt_args, guardian_keys,
                                                 halt_now, mallory):
    args = sign_halt_args(guardian_keys[:3], halt_now(), chain_id=chain.chain_id + 1)
    with ape.reverts("NodeGuard: signer not an active guardian"):
        guard.halt(*args, sender=mallory)


def test_halt__reason_changed__reverts(guard, sign_halt_args, guardian_keys, halt_now,
                                       mallory):
    _, deadline, signatures = sign_halt_args(guardian_keys[:3], halt_now())
    with ape.reverts("NodeGuard: signer not an active guardian"):
        guard.halt("a reason nobody signed", deadline, signatures, sender=mallory)


def test_halt__deadline_extended__reverts(guard, sign_halt_args, guardian_keys, halt_now,
                                          mallory):
    reason, deadline, signatures = sign_halt_args(guardian_keys[:3], halt_now())
    with ape.reverts("NodeGuard: signer not an active guardian"):
        guard.halt(reason, deadline + 1, signatures, sender=mallory)


def test_halt__high_s_signature__reverts(guard, sign_halt_args, guardian_keys, halt_now,
                                         mallory):
    """The malleable twin (n - s, flipped v) of a valid signature is refused."""
    reason, deadline, signatures = sign_halt_args(guardian_keys[:3], halt_now())
    r, s, v = signatures[0]
    signatures[0] = (r, SECP256K1_N - s, 55 - v)
    with ape.reverts("NodeGuard: bad signature"):
        guard.halt(reason, deadline, signatures, sender=mallory)


@pytest.mark.parametrize("v", [0, 1, 29])
def test_halt__bad_v__reverts(guard, sign_halt_args, guardian_keys, halt_now, mallory, v):
    reason, deadline, signatures = sign_halt_args(guardian_keys[:3], halt_now())
    r, s, _ = signatures[0]
    signatures[0] = (r, s, v)
    with ape.reverts("NodeGuard: bad signature"):
        guard.halt(reason, deadline, signatures, sender=mallory)


def test_halt__unrecoverable_signature__reverts(guard, sign_halt_args, guardian_keys, halt_now,
                                                mallory):
    reason, deadline, signatures = sign_halt_args(guardian_keys[:3], halt_now())
    signatures[0] = (0, 1, 27)
    with ape.reverts("NodeGuard: bad signature"):
        guard.halt(reason, deadline, signatures, sender=mallory)


def test_resume__by_governance__ends_the_halt(guard, feed_governance, send_halt):
    send_halt()
    tx = guard.resume(sender=feed_governance)

    assert not guard.is_halted()
    (event,) = tx.decode_logs(guard.Resumed)
    assert event.nonce == 0


def test_resume__not_governance__reverts(guard, send_halt, mallory, deployer, guardian_keys,
                                         accounts):
    send_halt()
    guardian = accounts[guardian_keys[0].address]
    guardian.balance += 10**18
    for caller in (mallory, deployer, guardian):
        with ape.reverts("NodeGuard: caller is not governance"):
            guard.resume(sender=caller)
    assert guard.is_halted()


def test_resume__not_halted__reverts(guard, feed_governance):
    with ape.reverts("NodeGuard: not halted"):
        guard.resume(sender=feed_governance)


@pytest.mark.parametrize(("numerator", "denominator", "quorum"),
                         [(1, 2, 3), (2, 3, 4), (3, 4, 4), (4, 5, 5), (1, 1, 5), (50, 100, 3)])
def test_set_quorum__by_governance__sets_the_quorum(guard, feed_governance, numerator,
                                                    denominator, quorum):
    tx = guard.set_quorum(numerator, denominator, sender=feed_governance)

    (event,) = tx.decode_logs(guard.QuorumSet)
    assert (event.numerator, event.denominator) == (numerator, denominator)
    assert (guard.quorum_numerator(), guard.quorum_denominator()) == (numerator, denominator)
    assert guard.quorum() == quorum  # n = 5


def test_set_quorum__raised__applies_to_the_next_halt(guard, feed_governance, guardian_keys,
                                                      send_halt):
    guard.set_quorum(2, 3, sender=feed_governance)

    with ape.reverts("NodeGuard: quorum not met"):
        send_halt(keys=guardian_keys[:3])
    send_halt(keys=guardian_keys[:4])
    assert guard.is_halted()


@pytest.mark.parametrize(("numerator", "denominator", "reason"), [
    (1, 3, "NodeGuard: quorum below a majority"),
    (0, 1, "NodeGuard: quorum below a majority"),
    (3, 2, "NodeGuard: quorum above all guardians"),
    (0, 0, "NodeGuard: zero denominator"),
])
def test_set_quorum__out_of_bounds__reverts(guard, feed_governance, numerator, denominator,
                                            reason):
    with ape.reverts(reason):
        guard.set_quorum(numerator, denominator, sender=feed_governance)


def test_set_quorum__not_governance__reverts(guard, mallory, deployer):
    for caller in (mallory, deployer):
        with ape.reverts("NodeGuard: caller is not governance"):
            guard.set_quorum(2, 3, sender=caller)


def test_deploy__zero_addresses__revert(project, deployer, feed_stack, feed_governance):
    zero = "0x" + "00" * 20
    with ape.reverts("NodeGuard: zero license"):
        deployer.deploy(project.NodeGuard, zero, feed_governance)
    with ape.reverts("NodeGuard: zero governance"):
        deployer.deploy(project.NodeGuard, feed_stack.license, zero)
