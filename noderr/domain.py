"""The words every part of Noderr shares with the contracts: node types, license statuses and
NodeLicense's roles. The numeric codes are ABI (NodeLicense stores them): they never change."""

from __future__ import annotations

from enum import IntEnum

from eth_utils import keccak


class NodeType(IntEnum):
    """A license's node type, as NodeLicense stores it."""

    ORACLE = 1
    GUARDIAN = 2
    VALIDATOR = 3

    @property
    def label(self) -> str:
        """The name people read: "Oracle", "Guardian", "Validator"."""
        return self.name.capitalize()

    @classmethod
    def parse(cls, value: object) -> NodeType:
        """A node type from its code (1-3, int or digits) or its name in any case."""
        if isinstance(value, str) and not value.strip().isdigit():
            try:
                return cls[value.strip().upper()]
            except KeyError:
                pass
        else:
            try:
                return cls(int(value))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                pass
        names = ", ".join(node_type.label for node_type in cls)
        raise ValueError(f"node type must be one of {names} or 1-{len(cls)}, not {value!r}")


NODE_TYPE_LABELS: dict[int, str] = {node_type.value: node_type.label for node_type in NodeType}


class LicenseStatus(IntEnum):
    """A license's status code in NodeLicense (a revoked license is burned, not a status)."""

    ACTIVE = 1
    SUSPENDED = 2


def role_id(name: str) -> bytes:
    """The bytes32 id of an AccessControl role: keccak256 of its name (the admin role is 0)."""
    return b"\x00" * 32 if name == DEFAULT_ADMIN_ROLE else keccak(text=name)


DEFAULT_ADMIN_ROLE = "DEFAULT_ADMIN_ROLE"
MINTER_ROLE = "MINTER_ROLE"
REVOKER_ROLE = "REVOKER_ROLE"
PAUSER_ROLE = "PAUSER_ROLE"
AUDITOR_ROLE = "AUDITOR_ROLE"
OPERATIONAL_ROLES = (MINTER_ROLE, REVOKER_ROLE, PAUSER_ROLE)
"""The roles `noderr deploy` grants on NodeLicense to the accounts the operators name."""
ADMIN_ROLES = (MINTER_ROLE, REVOKER_ROLE)
"""Holders of either review applications and see applicants' raw answers."""

ROLE_IDS: dict[str, bytes] = {
    name: role_id(name) for name in (DEFAULT_ADMIN_ROLE, *OPERATIONAL_ROLES, AUDITOR_ROLE)}
