"""NodeLicense codes, roles and revert reasons shared by the contract tests.

Importable as `license_constants` because pytest puts the folder of
tests/contracts/conftest.py on sys.path.
"""

from eth_utils import keccak

ORACLE, GUARDIAN, VALIDATOR = 1, 2, 3
NODE_TYPES = (ORACLE, GUARDIAN, VALIDATOR)
ACTIVE, SUSPENDED = 1, 2

DEFAULT_ADMIN_ROLE = b"\x00" * 32
MINTER_ROLE = keccak(text="MINTER_ROLE")
REVOKER_ROLE = keccak(text="REVOKER_ROLE")
PAUSER_ROLE = keccak(text="PAUSER_ROLE")

MISSING_ROLE = "access_control: account is missing role"
PAUSED = "pausable: contract is paused"
NOT_PAUSED = "pausable: contract is not paused"
SOULBOUND = "NodeLicense: soulbound"
NONEXISTENT = "NodeLicense: nonexistent token"


def application_id(n: int) -> bytes:
    """A deterministic, non-empty 32-byte application id."""
    return keccak(text=f"application-{n}")


ZERO_ADDRESS = "0x" + "00" * 20
