"""NodeLicense codes, roles and revert reasons shared by the contract tests.

Importable as `license_constants` because pytest puts the folder of
tests/contracts/conftest.py on sys.path.
"""

from eth_utils import keccak

from noderr.domain import ROLE_IDS, LicenseStatus, NodeType

ORACLE, GUARDIAN, VALIDATOR = (int(node_type) for node_type in NodeType)
NODE_TYPES = (ORACLE, GUARDIAN, VALIDATOR)
ACTIVE, SUSPENDED = (int(status) for status in LicenseStatus)

DEFAULT_ADMIN_ROLE = ROLE_IDS["DEFAULT_ADMIN_ROLE"]
MINTER_ROLE = ROLE_IDS["MINTER_ROLE"]
REVOKER_ROLE = ROLE_IDS["REVOKER_ROLE"]
PAUSER_ROLE = ROLE_IDS["PAUSER_ROLE"]

MISSING_ROLE = "access_control: account is missing role"
PAUSED = "pausable: contract is paused"
NOT_PAUSED = "pausable: contract is not paused"
SOULBOUND = "NodeLicense: soulbound"
NONEXISTENT = "NodeLicense: nonexistent token"
ADMITTED = "NodeLicense: validators are admitted by governance"
GOVERNED = "NodeLicense: validators are governed by governance"


def application_id(n: int) -> bytes:
    """A deterministic, non-empty 32-byte application id."""
    return keccak(text=f"application-{n}")


ZERO_ADDRESS = "0x" + "00" * 20
