"""Governance as production deploys it, shared by the governance and e2e tests.

`deploy_governance` runs `onchain.deploy.deploy_all` (the one deploy path of `noderr deploy`)
on ape's chain with the test timings below: NodeLicense, NodeTimelock and NodeGovernor
deployed, the governor the timelock's only proposer, canceller and executor, the timelock
NodeLicense's only admin, the deployer left with no admin power, the minter, revoker and
pauser fixtures holding NodeLicense's operational roles, and the given accounts holding the
genesis Validator licenses (docs/governance.md lists the steps).
"""

from dataclasses import dataclass, field

from ape import chain
from eth_utils import keccak

from noderr.deployment import CONTRACT_NAMES
from noderr.domain import role_id
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings

DEFAULT_ADMIN_ROLE = role_id("DEFAULT_ADMIN_ROLE")
PROPOSER_ROLE = role_id("PROPOSER_ROLE")
EXECUTOR_ROLE = role_id("EXECUTOR_ROLE")
CANCELLER_ROLE = role_id("CANCELLER_ROLE")

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
    license: object
    timelock: object
    governor: object


def deploy_governance(project, deployer, minter, revoker, pauser, validators) -> Governance:
    """The three contracts deployed and wired by `deploy_all` (no feed), as ape contract instances;
    `validators` (accounts) are the genesis validators, minted in that order (token ids 1...)."""
    settings = DeploySettings(
        minters=[minter.address], revokers=[revoker.address], pausers=[pauser.address],
        genesis_validators=[account.address for account in validators],
        timelock_delay=MIN_DELAY, voting_delay=VOTING_DELAY, voting_period=VOTING_PERIOD,
        proposal_threshold=PROPOSAL_THRESHOLD, quorum_percent=QUORUM_NUMERATOR,
        grace_period=GRACE_PERIOD, feeds=[])
    deployment = deploy_all(chain.provider.web3, deployer.address, settings,
                            compiled(CONTRACT_NAMES))
    license_, timelock, governor = (project.get_contract(name).at(record.address)
                                    for name, record in deployment.contracts.items())
    return Governance(license=license_, timelock=timelock, governor=governor)


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
