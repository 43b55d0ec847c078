"""Deployment and wiring of the governance contracts, shared by the governance and e2e tests.

`deploy_governance` performs exactly the production wiring (the deploy script
must do the same steps in the same order):

1. deploy NodeTimelock(min_delay, [], [], deployer): no proposer yet, the
   deployer is a temporary admin so it can wire roles without a delay;
2. deploy NodeGovernor(license, timelock, voting_delay, voting_period,
   proposal_threshold, quorum_numerator, grace_period);
3. on the timelock grant the governor PROPOSER_ROLE, CANCELLER_ROLE and
   EXECUTOR_ROLE (the governor is the only proposer, canceller and executor);
4. on NodeLicense grant DEFAULT_ADMIN_ROLE to the timelock, then the deployer
   renounces its DEFAULT_ADMIN_ROLE on NodeLicense;
5. the deployer renounces its DEFAULT_ADMIN_ROLE on the timelock.

Afterwards the deployer holds no admin power on either contract; NodeLicense's
operational roles (minter, revoker, pauser) are untouched.
"""

from dataclasses import dataclass, field

from eth_utils import keccak

DEFAULT_ADMIN_ROLE = b"\x00" * 32
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")

# Proposal states, OpenZeppelin's order.
PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
AGAINST, FOR, ABSTAIN = 0, 1, 2

# Test settings: short in blocks, realistic in seconds (time is moved, not waited).
MIN_DELAY = 2 * 24 * 3600  # timelock delay, seconds
VOTING_DELAY = 2  # blocks
VOTING_PERIOD = 10  # blocks
PROPOSAL_THRESHOLD = 1  # active Validator licenses
QUORUM_NUMERATOR = 50  # percent
GRACE_PERIOD = 14 * 24 * 3600  # seconds


@dataclass
class Governance:
    timelock: object
    governor: object


def deploy_governance(
    project,
    deployer,
    license,
    *,
    min_delay=MIN_DELAY,
    voting_delay=VOTING_DELAY,
    voting_period=VOTING_PERIOD,
    proposal_threshold=PROPOSAL_THRESHOLD,
    quorum_numerator=QUORUM_NUMERATOR,
    grace_period=GRACE_PERIOD,
):
    """Deploy NodeTimelock + NodeGovernor and hand the license's admin power to the timelock."""
    timelock = deployer.deploy(project.NodeTimelock, min_delay, [], [], deployer)
    governor = deployer.deploy(
        project.NodeGovernor,
        license,
        timelock,
        voting_delay,
        voting_period,
        proposal_threshold,
        quorum_numerator,
        grace_period,
    )
    for role in (PROPOSER_ROLE, CANCELLER_ROLE, EXECUTOR_ROLE):
        timelock.grantRole(role, governor, sender=deployer)
    license.grantRole(DEFAULT_ADMIN_ROLE, timelock, sender=deployer)
    license.renounceRole(DEFAULT_ADMIN_ROLE, deployer, sender=deployer)
    timelock.renounceRole(DEFAULT_ADMIN_ROLE, deployer, sender=deployer)
    return Governance(timelock=timelock, governor=governor)


@dataclass
class Proposal:
    """The four arrays and description of a proposal, in the shapes the governor takes."""

    targets: list
    values: list
    calldatas: list
    description: str
    _hash: bytes = field(init=False, repr=False)

    def __post_init__(self):
        self._hash = keccak(text=self.description)

    @property
    def description_hash(self) -> bytes:
        return self._hash

    @property
    def propose_args(self) -> tuple:
        return (self.targets, self.values, self.calldatas, self.description)

    @property
    def args(self) -> tuple:
        """Arguments of hash_proposal/queue/execute/cancel."""
        return (self.targets, self.values, self.calldatas, self.description_hash)


def call(contract, method: str, *args) -> Proposal:
    """A one-action proposal calling `contract.method(*args)`, described by the call itself."""
    calldata = getattr(contract, method).encode_input(*args)
    description = f"{method}({', '.join(str(a) for a in args)}) on {contract.address}"
    return Proposal([contract.address], [0], [calldata], description)
