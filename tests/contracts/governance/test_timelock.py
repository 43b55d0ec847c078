"""NodeTimelock: constructor pass-through and the production wiring done by deploy_governance."""

import ape

from tests.contracts.governance_setup import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTOR_ROLE,
    MIN_DELAY,
    PROPOSER_ROLE,
)
from tests.contracts.license_constants import MISSING_ROLE

ZERO = "0x0000000000000000000000000000000000000000"


def test_deploy__passes_arguments_through(project, chain, deployer, alice, bob, carol):
    timelock = deployer.deploy(project.NodeTimelock, 3600, [alice], [bob], carol)

    assert timelock.get_minimum_delay() == 3600
    assert timelock.hasRole(PROPOSER_ROLE, alice)
    assert timelock.hasRole(CANCELLER_ROLE, alice)
    assert timelock.hasRole(EXECUTOR_ROLE, bob)
    assert not timelock.hasRole(EXECUTOR_ROLE, alice)
    assert timelock.hasRole(DEFAULT_ADMIN_ROLE, carol)
    assert timelock.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert not timelock.hasRole(DEFAULT_ADMIN_ROLE, deployer)
    [change] = chain.get_receipt(timelock.txn_hash).decode_logs(timelock.MinimumDelayChange)
    assert (change.old_duration, change.new_duration) == (0, 3600)


def test_deploy__without_admin__is_self_administered(project, deployer, alice):
    timelock = deployer.deploy(project.NodeTimelock, 0, [alice], [ZERO], ZERO)

    assert timelock.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert not timelock.hasRole(DEFAULT_ADMIN_ROLE, deployer)
    assert timelock.hasRole(EXECUTOR_ROLE, ZERO)


def test_wiring__governor_is_only_proposer_canceller_executor(timelock, governor, deployer):
    assert timelock.get_minimum_delay() == MIN_DELAY
    for role in (PROPOSER_ROLE, CANCELLER_ROLE, EXECUTOR_ROLE):
        assert timelock.hasRole(role, governor)
        assert not timelock.hasRole(role, deployer)
    assert not timelock.hasRole(EXECUTOR_ROLE, ZERO)


def test_wiring__timelock_administers_itself_and_license(timelock, license, deployer):
    assert timelock.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert license.hasRole(DEFAULT_ADMIN_ROLE, timelock)


def test_wiring__deployer_keeps_no_admin_power(timelock, license, deployer, alice):
    assert not timelock.hasRole(DEFAULT_ADMIN_ROLE, deployer)
    assert not license.hasRole(DEFAULT_ADMIN_ROLE, deployer)
    with ape.reverts(MISSING_ROLE):
        timelock.grantRole(PROPOSER_ROLE, deployer, sender=deployer)
    with ape.reverts(MISSING_ROLE):
        license.grantRole(DEFAULT_ADMIN_ROLE, deployer, sender=deployer)


def test_schedule__by_non_proposer__reverts(timelock, deployer, alice):
    with ape.reverts(MISSING_ROLE):
        timelock.schedule(alice, 0, b"", b"\x00" * 32, b"\x00" * 32, MIN_DELAY, sender=deployer)


def test_update_delay__not_by_timelock__reverts(timelock, deployer):
    with ape.reverts("timelock_controller: caller must be timelock"):
        timelock.update_delay(1, sender=deployer)
