"""NodeFeed: a round lands only with a quorum of distinct Active Validator signatures, and
reads back through Chainlink's AggregatorV3Interface.

Four genesis validators (n = 4, quorum 3) hold their licenses in the governed stack; the
timelock (impersonated) stands for a passed proposal when a validator is admitted,
suspended, revoked or reassigned, or the bounds change. A transmit carries the whole Active
validator list, which the feed verifies against NodeLicense once per membership (its
`validator_set_nonce`) and then trusts from its cache: the attacker cases below forge that
list, reuse a cached one after the membership moved, and misplace signatures in it.
"""

import ape
import pytest

from noderr.feed_report import Report, compact_signature, report_digest, transmit_args
from noderr.feed_report import sign_report as sign
from tests.contracts.conftest import (
    FEED_DECIMALS,
    FEED_DESCRIPTION,
    FEED_MAX_ANSWER,
    FEED_MIN_ANSWER,
    signing_key,
)
from tests.contracts.license_constants import GUARDIAN, ORACLE, VALIDATOR, application_id

pytestmark = pytest.mark.usefixtures("no_revert_tracebacks")

OBSERVED_AT = 1_700_000_000
MAX_LOW_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
FIRST_THREE = 0b0111


def report(round_id=1, answer=6_512_345_000_000):
    return Report(round=round_id, answer=answer, observed_at=OBSERVED_AT)


def ascending(addresses):
    return sorted(addresses, key=lambda address: int(address, 16))


@pytest.fixture
def transmit(feed, sign_report, validator_keys, mallory):
    """Factory: transmit(report, keys=first three validators, sender=mallory,
    validators=the live Active set) -> receipt."""

    def _transmit(rep, keys=None, sender=mallory, validators=None):
        keys = validator_keys[:3] if keys is None else keys
        return feed.transmit(*sign_report(keys, rep, validators=validators), sender=sender)

    return _transmit


@pytest.fixture
def signature_of(chain, feed):
    """Factory: signature_of(key, report) -> its compact signature for this feed and chain."""

    def _signature_of(key, rep):
        return compact_signature(sign(key.private_key, chain.chain_id, feed.address, rep))

    return _signature_of


@pytest.fixture
def token_of(feed_stack):
    def _token_of(key):
        return feed_stack.license.token_of(key.address, VALIDATOR)

    return _token_of


@pytest.fixture
def genesis_list(validator_keys):
    """The four genesis validators, ascending: the Active list before any change."""
    return [key.address for key in validator_keys]


def test_views__deployed__aggregator_metadata(feed, feed_stack, feed_governance):
    assert feed.decimals() == FEED_DECIMALS
    assert feed.description() == FEED_DESCRIPTION
    assert feed.version() == 1
    assert feed.license() == feed_stack.license.address
    assert feed.governance() == feed_governance.address
    assert (feed.min_answer(), feed.max_answer()) == (FEED_MIN_ANSWER, FEED_MAX_ANSWER)


def test_report_digest__matches_the_python_helper(chain, feed):
    rep = report(answer=-42)
    assert feed.report_digest(rep.as_tuple()) == report_digest(chain.chain_id, feed.address, rep)


def test_transmit__quorum__records_the_round(chain, feed, validator_keys, mallory, transmit):
    tx = transmit(report(round_id=7))

    block_time = chain.blocks[tx.block_number].timestamp
    expected = (7, report().answer, OBSERVED_AT, block_time, 7)
    assert feed.latestRoundData() == expected
    assert feed.getRoundData(7) == expected
    assert feed.latest_round() == 7
    (event,) = tx.decode_logs(feed.Transmitted)
    assert (event.round, event.answer, event.observed_at) == (7, report().answer, OBSERVED_AT)
    assert event.transmitter == mallory.address
    assert event.signers == [key.address for key in validator_keys[:3]]


def test_transmit__every_validator_signs__records_the_round(feed, transmit, validator_keys):
    tx = transmit(report(), keys=validator_keys)

    assert feed.latestRoundData()[1] == report().answer
    (event,) = tx.decode_logs(feed.Transmitted)
    assert event.signers == [key.address for key in validator_keys]


def test_transmit__quorum_with_a_gap__signers_are_the_marked_entries(feed, transmit,
                                                                     validator_keys):
    keys = [validator_keys[0], validator_keys[2], validator_keys[3]]
    tx = transmit(report(), keys=keys)

    (event,) = tx.decode_logs(feed.Transmitted)
    assert event.signers == [key.address for key in keys]


def test_transmit__next_rounds__latest_advances_and_earlier_rounds_stay(feed, transmit):
    transmit(report(round_id=1, answer=100))
    transmit(report(round_id=5, answer=-250))  # the list now comes from the cache

    assert feed.latestRoundData()[:2] == (5, -250)
    assert feed.getRoundData(1)[:2] == (1, 100)
    assert feed.getRoundData(5)[:2] == (5, -250)


@pytest.mark.parametrize("answer", [FEED_MIN_ANSWER, FEED_MAX_ANSWER])
def test_transmit__answer_at_a_bound__records_it(feed, transmit, answer):
    transmit(report(answer=answer))
    assert feed.latestRoundData()[1] == answer


def test_transmit__one_signature_short__reverts(transmit, validator_keys):
    with ape.reverts("NodeFeed: quorum not met"):
        transmit(report(), keys=validator_keys[:2])


def test_transmit__no_signature__reverts(transmit):
    with ape.reverts("NodeFeed: quorum not met"):
        transmit(report(), keys=[])


def test_transmit__one_signer_for_two_entries__reverts(feed, sign_report, validator_keys,
                                                       mallory):
    """A duplicate signer: the second validator's signature also stands for the third."""
    rep, listed, _, signatures = sign_report(validator_keys[:2], report())
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(rep, listed, FIRST_THREE, [*signatures, signatures[1]], sender=mallory)


def test_transmit__more_signatures_than_marked_entries__reverts(feed, sign_report,
                                                                validator_keys, mallory):
    """A duplicate signature appended to pass the quorum count: the bitmap marks two."""
    rep, listed, signed, signatures = sign_report(validator_keys[:2], report())
    with ape.reverts("NodeFeed: signer bitmap mismatch"):
        feed.transmit(rep, listed, signed, [*signatures, signatures[1]], sender=mallory)


def test_transmit__entry_marked_beyond_the_list__reverts(feed, sign_report, validator_keys,
                                                         mallory):
    rep, listed, _, signatures = sign_report(validator_keys[:3], report())
    with ape.reverts("NodeFeed: signer bitmap mismatch"):
        feed.transmit(rep, listed, 0b10011, signatures, sender=mallory)


def test_transmit__signatures_not_in_list_order__reverts(feed, sign_report, validator_keys,
                                                        mallory):
    rep, listed, signed, signatures = sign_report(validator_keys[:3], report())
    first, second, third = signatures
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(rep, listed, signed, [first, third, second], sender=mallory)


def test_transmit__bitmap_points_at_the_wrong_entry__reverts(feed, sign_report, validator_keys,
                                                            mallory):
    """The first three signed, the bitmap claims the first two and the fourth."""
    rep, listed, _, signatures = sign_report(validator_keys[:3], report())
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(rep, listed, 0b1011, signatures, sender=mallory)


def test_transmit__non_validator_signs_for_an_entry__reverts(feed, sign_report, signature_of,
                                                            validator_keys, outsider_key,
                                                            mallory):
    rep, listed, signed, signatures = sign_report(validator_keys[:3], report())
    signatures[2] = signature_of(outsider_key, report())
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(rep, listed, signed, signatures, sender=mallory)


@pytest.mark.parametrize("node_type", [ORACLE, GUARDIAN])
def test_transmit__other_licensee_listed__reverts(feed_stack, minter, validator_keys,
                                                   outsider_key, transmit, genesis_list,
                                                   node_type):
    """An Oracle or Guardian licensee inserted into the list, signing for itself."""
    feed_stack.license.mint(outsider_key.address, node_type, application_id(9_001),
                            sender=minter)
    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(), keys=[*validator_keys[:2], outsider_key],
                 validators=[*genesis_list, outsider_key.address])


def test_transmit__non_validator_replaces_a_validator__reverts(transmit, validator_keys,
                                                               outsider_key, genesis_list):
    """A list of the right length with an outsider in place of the fourth validator."""
    forged = ascending([*genesis_list[:3], outsider_key.address])
    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(), keys=[*validator_keys[:2], outsider_key], validators=forged)


def test_transmit__validator_omitted__reverts(transmit, validator_keys, genesis_list):
    """Three of four listed: three signatures would be a quorum of n = 3."""
    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(), keys=validator_keys[:3], validators=genesis_list[:3])


def test_transmit__duplicate_list_entry__reverts(feed, signature_of, validator_keys,
                                                 genesis_list, mallory):
    """Four entries, the active count, with the first validator twice in place of the
    fourth: its one signature would count twice."""
    listed = [genesis_list[0], *genesis_list[:3]]
    signatures = [signature_of(key, report()) for key in
                  (validator_keys[0], validator_keys[0], validator_keys[1])]
    with ape.reverts("NodeFeed: validator set mismatch"):
        feed.transmit(report().as_tuple(), listed, FIRST_THREE, signatures, sender=mallory)


def test_transmit__list_not_ascending__reverts(feed, signature_of, validator_keys,
                                               genesis_list, mallory):
    listed = [genesis_list[1], genesis_list[0], *genesis_list[2:]]
    signatures = [signature_of(key, report()) for key in
                  (validator_keys[1], validator_keys[0], validator_keys[2])]
    with ape.reverts("NodeFeed: validator set mismatch"):
        feed.transmit(report().as_tuple(), listed, FIRST_THREE, signatures, sender=mallory)


def test_transmit__suspended_validator_kept_in_the_list__reverts(
        feed_stack, feed_governance, transmit, validator_keys, token_of, genesis_list):
    suspended = validator_keys[3]
    feed_stack.license.suspend(token_of(suspended), "double sign", sender=feed_governance)

    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(), keys=[validator_keys[0], validator_keys[2], suspended],
                 validators=genesis_list)


def test_transmit__suspended_validator_signs_for_an_entry__reverts(
        feed, feed_stack, feed_governance, sign_report, signature_of, validator_keys, token_of,
        mallory):
    """Left out of the live list, the suspended validator's signature has no entry of its
    own: put in the place of another's, it is refused."""
    suspended = validator_keys[3]
    feed_stack.license.suspend(token_of(suspended), "double sign", sender=feed_governance)
    rep, listed, signed, signatures = sign_report(validator_keys[:3], report())
    signatures[2] = signature_of(suspended, report())

    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(rep, listed, signed, signatures, sender=mallory)


def test_transmit_args__signer_not_listed__raises(validator_keys, outsider_key, genesis_list):
    signatures = {key.address: bytes(64) + b"\x1b" for key in (*validator_keys[:2], outsider_key)}
    with pytest.raises(ValueError, match="not in the validator list"):
        transmit_args(report(), genesis_list, signatures)


@pytest.mark.parametrize("change", ["suspend", "revoke", "reassign", "mint"])
def test_transmit__cached_list_after_a_membership_change__reverts(
        feed, feed_stack, feed_governance, transmit, validator_keys, token_of, genesis_list,
        change):
    """The genesis list is verified and cached by a first round; once governance changes the
    Active set, the same list is checked again and refused."""
    transmit(report(round_id=1), validators=genesis_list)
    license, changed = feed_stack.license, validator_keys[3]
    if change == "suspend":
        license.suspend(token_of(changed), "offline", sender=feed_governance)
    elif change == "revoke":
        license.revoke(token_of(changed), "key leaked", sender=feed_governance)
    elif change == "reassign":
        license.reassign(token_of(changed), signing_key("feed-new-key").address, "lost key",
                         sender=feed_governance)
    else:
        license.mint(signing_key("feed-newcomer").address, VALIDATOR, application_id(9_003),
                     sender=feed_governance)

    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(round_id=2), validators=genesis_list)
    assert feed.latest_round() == 1


def test_transmit__validator_reinstated__the_list_without_it_reverts(
        feed_stack, feed_governance, transmit, validator_keys, token_of, genesis_list):
    token = token_of(validator_keys[3])
    feed_stack.license.suspend(token, "offline", sender=feed_governance)
    transmit(report(round_id=1), validators=genesis_list[:3])  # caches the three
    feed_stack.license.reinstate(token, sender=feed_governance)

    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(round_id=2), validators=genesis_list[:3])
    transmit(report(round_id=2), validators=genesis_list)


def test_transmit__revoked_validator_kept_in_the_list__reverts(
        feed_stack, feed_governance, transmit, validator_keys, token_of, genesis_list):
    revoked = validator_keys[0]
    feed_stack.license.revoke(token_of(revoked), "key leaked", sender=feed_governance)

    with ape.reverts("NodeFeed: validator set mismatch"):
        transmit(report(), keys=validator_keys[:3], validators=genesis_list)


def test_transmit__validator_suspended__quorum_of_the_rest_passes(
        feed, feed_stack, feed_governance, transmit, validator_keys, token_of):
    feed_stack.license.suspend(token_of(validator_keys[3]), "offline", sender=feed_governance)
    transmit(report(), keys=validator_keys[:3])  # n = 3, quorum 3
    assert feed.latest_round() == 1


def test_transmit__validator_reassigned__the_new_key_signs(
        feed, feed_stack, feed_governance, transmit, validator_keys, token_of):
    new_key = signing_key("feed-new-key")
    feed_stack.license.reassign(token_of(validator_keys[0]), new_key.address, "lost key",
                                sender=feed_governance)
    transmit(report(), keys=[new_key, *validator_keys[1:3]])
    assert feed.latest_round() == 1


def test_transmit__validator_admitted__quorum_rises(feed_stack, feed_governance, transmit,
                                                    validator_keys):
    newcomer = signing_key("feed-newcomer")
    feed_stack.license.mint(newcomer.address, VALIDATOR, application_id(9_002),
                            sender=feed_governance)

    with ape.reverts("NodeFeed: quorum not met"):  # n = 5, quorum 4
        transmit(report(), keys=validator_keys[:3])
    transmit(report(), keys=[*validator_keys[:3], newcomer])


def test_transmit__replayed__reverts(feed, sign_report, validator_keys, mallory):
    args = sign_report(validator_keys[:3], report())
    feed.transmit(*args, sender=mallory)
    with ape.reverts("NodeFeed: stale round"):
        feed.transmit(*args, sender=mallory)


def test_transmit__signed_for_another_feed__reverts(feed, sign_report, validator_keys, mallory):
    """Signed in another domain, the digest recovers to an unrelated address."""
    args = sign_report(validator_keys[:3], report(), feed_address=mallory.address)
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(*args, sender=mallory)


def test_transmit__signed_for_another_chain__reverts(chain, feed, sign_report, validator_keys,
                                                     mallory):
    args = sign_report(validator_keys[:3], report(), chain_id=chain.chain_id + 1)
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(*args, sender=mallory)


def test_transmit__signed_another_report__reverts(feed, sign_report, validator_keys, mallory):
    _, listed, signed, signatures = sign_report(validator_keys[:3], report(answer=1))
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(report(answer=2).as_tuple(), listed, signed, signatures, sender=mallory)


def test_transmit__high_s_signature__reverts(feed, sign_report, validator_keys, mallory):
    """An s above secp256k1n / 2 (the malleable half) is refused before recovery."""
    rep, listed, signed, signatures = sign_report(validator_keys[:3], report())
    r, vs = signatures[0]
    signatures[0] = (r, (vs & (1 << 255)) | (MAX_LOW_S + 1))
    with ape.reverts("NodeFeed: bad signature"):
        feed.transmit(rep, listed, signed, signatures, sender=mallory)


def test_transmit__flipped_recovery_bit__reverts(feed, sign_report, validator_keys, mallory):
    """The wrong v recovers another public key, not the listed validator."""
    rep, listed, signed, signatures = sign_report(validator_keys[:3], report())
    r, vs = signatures[0]
    signatures[0] = (r, vs ^ (1 << 255))
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(rep, listed, signed, signatures, sender=mallory)


def test_transmit__unrecoverable_signature__reverts(feed, sign_report, validator_keys, mallory):
    rep, listed, signed, signatures = sign_report(validator_keys[:3], report())
    signatures[0] = (0, 1)
    with ape.reverts("NodeFeed: bad signature"):
        feed.transmit(rep, listed, signed, signatures, sender=mallory)


@pytest.mark.parametrize("round_id", [4, 3])
def test_transmit__stale_round__reverts(transmit, round_id):
    transmit(report(round_id=4))
    with ape.reverts("NodeFeed: stale round"):
        transmit(report(round_id=round_id))


def test_transmit__round_zero__reverts(transmit):
    with ape.reverts("NodeFeed: stale round"):
        transmit(report(round_id=0))


@pytest.mark.parametrize("answer", [FEED_MIN_ANSWER - 1, FEED_MAX_ANSWER + 1])
def test_transmit__answer_out_of_bounds__reverts(transmit, answer):
    with ape.reverts("NodeFeed: answer out of bounds"):
        transmit(report(answer=answer))


def test_set_bounds__by_governance__applies_to_the_next_round(feed, feed_governance, transmit):
    tx = feed.set_bounds(10, 20, sender=feed_governance)

    (event,) = tx.decode_logs(feed.BoundsSet)
    assert (event.min_answer, event.max_answer) == (10, 20)
    assert (feed.min_answer(), feed.max_answer()) == (10, 20)
    with ape.reverts("NodeFeed: answer out of bounds"):
        transmit(report(answer=21))
    transmit(report(answer=20))


def test_set_bounds__not_governance__reverts(feed, mallory, deployer):
    for caller in (mallory, deployer):
        with ape.reverts("NodeFeed: caller is not governance"):
            feed.set_bounds(0, 1, sender=caller)


def test_set_bounds__min_above_max__reverts(feed, feed_governance):
    with ape.reverts("NodeFeed: min above max"):
        feed.set_bounds(2, 1, sender=feed_governance)


def test_latest_round_data__before_the_first_round__reverts(feed):
    with ape.reverts("NodeFeed: no data present"):
        feed.latestRoundData()


@pytest.mark.parametrize("round_id", [0, 2, 2**32])
def test_get_round_data__unknown_round__reverts(feed, transmit, round_id):
    transmit(report(round_id=1))
    with ape.reverts("NodeFeed: no data for round"):
        feed.getRoundData(round_id)
