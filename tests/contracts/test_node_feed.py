"""NodeFeed: a round lands only with a quorum of distinct Active Validator signatures, and
reads back through Chainlink's AggregatorV3Interface.

Four genesis validators (n = 4, quorum 3) hold their licenses in the governed stack; the
timelock (impersonated) stands for a passed proposal when a validator is admitted,
suspended or revoked, or the bounds change.
"""

import ape
import pytest

from noderr.feed_report import Report, report_digest
from tests.contracts.conftest import (
    FEED_DECIMALS,
    FEED_DESCRIPTION,
    FEED_MAX_ANSWER,
    FEED_MIN_ANSWER,
    signing_key,
)
from tests.contracts.license_constants import ORACLE, VALIDATOR, application_id

pytestmark = pytest.mark.usefixtures("no_revert_tracebacks")

OBSERVED_AT = 1_700_000_000
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def report(round_id=1, answer=6_512_345_000_000):
    return Report(round=round_id, answer=answer, observed_at=OBSERVED_AT)


def ascending(keys):
    return sorted(keys, key=lambda key: int(key.address, 16))


@pytest.fixture
def transmit(feed, sign_report, validator_keys, mallory):
    """Factory: transmit(report, keys=first three validators, sender=mallory) -> receipt."""

    def _transmit(rep, keys=None, sender=mallory):
        keys = validator_keys[:3] if keys is None else keys
        return feed.transmit(*sign_report(keys, rep), sender=sender)

    return _transmit


@pytest.fixture
def token_of(feed_stack):
    def _token_of(key):
        return feed_stack.license.token_of(key.address, VALIDATOR)

    return _token_of


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
    transmit(report(), keys=validator_keys)
    assert feed.latestRoundData()[1] == report().answer


def test_transmit__next_rounds__latest_advances_and_earlier_rounds_stay(feed, transmit):
    transmit(report(round_id=1, answer=100))
    transmit(report(round_id=5, answer=-250))

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


def test_transmit__duplicate_signer__reverts(transmit, validator_keys):
    first, second = validator_keys[:2]
    with ape.reverts("NodeFeed: duplicate signer"):
        transmit(report(), keys=[first, second, second])


def test_transmit__signers_not_ascending__reverts(transmit, validator_keys):
    first, second, third = validator_keys[:3]
    with ape.reverts("NodeFeed: signers not ascending"):
        transmit(report(), keys=[first, third, second])


def test_transmit__non_validator_signer__reverts(validator_keys, outsider_key, transmit):
    with ape.reverts("NodeFeed: signer not an active validator"):
        transmit(report(), keys=ascending([*validator_keys[:2], outsider_key]))


def test_transmit__oracle_licensee_signer__reverts(feed_stack, minter, validator_keys,
                                                   outsider_key, transmit):
    feed_stack.license.mint(outsider_key.address, ORACLE, application_id(9_001), sender=minter)
    with ape.reverts("NodeFeed: signer not an active validator"):
        transmit(report(), keys=ascending([*validator_keys[:2], outsider_key]))


def test_transmit__suspended_validator__reverts(feed_stack, feed_governance, transmit,
                                                validator_keys, token_of):
    suspended = validator_keys[3]
    feed_stack.license.suspend(token_of(suspended), "double sign", sender=feed_governance)

    with ape.reverts("NodeFeed: signer not an active validator"):
        transmit(report(), keys=[validator_keys[0], validator_keys[2], suspended])


def test_transmit__revoked_validator__reverts(feed_stack, feed_governance, transmit,
                                              validator_keys, token_of):
    revoked = validator_keys[0]
    feed_stack.license.revoke(token_of(revoked), "key leaked", sender=feed_governance)

    with ape.reverts("NodeFeed: signer not an active validator"):
        transmit(report(), keys=validator_keys[:3])


def test_transmit__validator_suspended__quorum_of_the_rest_passes(
        feed, feed_stack, feed_governance, transmit, validator_keys, token_of):
    feed_stack.license.suspend(token_of(validator_keys[3]), "offline", sender=feed_governance)
    transmit(report(), keys=validator_keys[:3])  # n = 3, quorum 3
    assert feed.latest_round() == 1


def test_transmit__validator_admitted__quorum_rises(feed_stack, feed_governance, transmit,
                                                    validator_keys):
    newcomer = signing_key("feed-newcomer")
    feed_stack.license.mint(newcomer.address, VALIDATOR, application_id(9_002),
                            sender=feed_governance)

    with ape.reverts("NodeFeed: quorum not met"):  # n = 5, quorum 4
        transmit(report(), keys=validator_keys[:3])
    transmit(report(), keys=ascending([*validator_keys[:3], newcomer]))


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
    _, signatures = sign_report(validator_keys[:3], report(answer=1))
    with ape.reverts("NodeFeed: signer not an active validator"):
        feed.transmit(report(answer=2).as_tuple(), signatures, sender=mallory)


def test_transmit__high_s_signature__reverts(feed, sign_report, validator_keys, mallory):
    """The malleable twin (n - s, flipped v) of a valid signature is refused."""
    rep, signatures = sign_report(validator_keys[:3], report())
    r, s, v = signatures[0]
    signatures[0] = (r, SECP256K1_N - s, 55 - v)
    with ape.reverts("NodeFeed: bad signature"):
        feed.transmit(rep, signatures, sender=mallory)


@pytest.mark.parametrize("v", [0, 1, 29])
def test_transmit__bad_v__reverts(feed, sign_report, validator_keys, mallory, v):
    rep, signatures = sign_report(validator_keys[:3], report())
    r, s, _ = signatures[0]
    signatures[0] = (r, s, v)
    with ape.reverts("NodeFeed: bad signature"):
        feed.transmit(rep, signatures, sender=mallory)


def test_transmit__unrecoverable_signature__reverts(feed, sign_report, validator_keys, mallory):
    rep, signatures = sign_report(validator_keys[:3], report())
    signatures[0] = (0, 1, 27)
    with ape.reverts("NodeFeed: bad signature"):
        feed.transmit(rep, signatures, sender=mallory)


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
