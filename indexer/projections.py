"""Projections: licenses, role_members, proposals, votes, as functions of `chain_events`.

Each relevant event is one SQL statement applied in (block, log index) order, in the same
transaction as the raw rows and the checkpoint. The same code serves three callers:
- the indexer, for each new batch;
- a reorg, which deletes the rows of every entity an undone event touched and replays the
  remaining events of those entities from chain_events (undo by replay: no inverse
  operations to get wrong);
- `noderr index rebuild`, which replays everything from chain_events, with no RPC call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eth_utils import keccak
from psycopg import Cursor

from indexer.decode import Event

LICENSE_CONTRACT = "NodeLicense"
GOVERNOR_CONTRACT = "NodeGovernor"
ZERO_ADDRESS = "0x" + "00" * 20
ROLE_EVENTS = {"RoleGranted", "RoleRevoked"}
LICENSE_EVENTS = {"LicenseMinted", "LicenseSuspended", "LicenseReinstated", "LicenseRevoked",
                  "LicenseReassigned", "Transfer"}
PROPOSAL_EVENTS = {"ProposalCreated", "VoteCast", "ProposalQueued", "ProposalExecuted",
                   "ProposalCanceled"}
RELEVANT_EVENTS = sorted(ROLE_EVENTS | LICENSE_EVENTS | PROPOSAL_EVENTS)
VOTE_COLUMNS = {0: "votes_against", 1: "votes_for", 2: "votes_abstain"}

Key = tuple[str, str, Any]  # (kind, contract address, entity id)
LICENSE_WHERE = "chain_id = %s AND contract_address = %s AND token_id = %s"
PROPOSAL_WHERE = "chain_id = %s AND governor_address = %s AND proposal_id = %s"


def role_names(abis: Iterable[dict[str, Any]]) -> dict[str, str]:
    """keccak(NAME) → NAME for every `*_ROLE` getter in the ABIs, and 0x00… → DEFAULT_ADMIN_ROLE.

    Only a label: a role whose id is not keccak of its getter's name stays unnamed."""
    names = {"0x" + "00" * 32: "DEFAULT_ADMIN_ROLE"}
    for abi in abis:
        name = abi.get("name", "")
        if abi.get("type") == "function" and name.endswith("_ROLE") and not abi.get("inputs"):
            names.setdefault("0x" + keccak(text=name).hex(), name)
    return names


def _token_id(event: Event) -> int:
    if event.event_name == "Transfer":  # field names vary by library; positions are the ABI
        return int(list(event.args.values())[2])
    return int(event.args["token_id"])


def projection_key(event: Event) -> Key | None:
    """The entity an event changes, or None when no projection cares."""
    name, args = event.event_name, event.args
    if args is None or name is None:
        return None
    if name in ROLE_EVENTS:
        return ("role", event.contract_address, (args["role"], args["account"]))
    if event.contract_name == LICENSE_CONTRACT and name in LICENSE_EVENTS:
        return ("license", event.contract_address, _token_id(event))
    if event.contract_name == GOVERNOR_CONTRACT and name in PROPOSAL_EVENTS:
        return ("proposal", event.contract_address, int(args["proposal_id"]))
    return None


class Projector:
    """Applies events to the projection tables of one chain."""

    def __init__(self, chain_id: int, roles: dict[str, str]) -> None:
        self.chain_id, self.roles = chain_id, roles
        self._handlers: dict[str, Callable[[Cursor, Event], None]] = {
            "LicenseMinted": self._minted, "LicenseSuspended": self._suspended,
            "LicenseReinstated": self._reinstated, "LicenseRevoked": self._revoked,
            "LicenseReassigned": self._reassigned, "Transfer": self._transfer,
            "RoleGranted": self._role_granted, "RoleRevoked": self._role_revoked,
            "ProposalCreated": self._proposal_created, "VoteCast": self._vote_cast,
            "ProposalQueued": self._proposal_queued, "ProposalExecuted": self._proposal_executed,
            "ProposalCanceled": self._proposal_canceled,
        }

    def apply(self, cur: Cursor, events: Iterable[Event]) -> int:
        """Apply the events that matter, in the order given; return how many did."""
        applied = 0
        for event in events:
            if projection_key(event) is not None:
                self._handlers[event.event_name](cur, event)
                applied += 1
        return applied

    def delete(self, cur: Cursor, keys: Iterable[Key]) -> None:
        """Remove the rows of `keys` (before replaying their remaining events)."""
        for kind, address, ident in keys:
            if kind == "license":
                cur.execute(f"DELETE FROM licenses WHERE {LICENSE_WHERE}",
                            (self.chain_id, address, ident))
            elif kind == "role":
                cur.execute("DELETE FROM role_members WHERE chain_id = %s AND contract_address"
                            " = %s AND role = %s AND account = %s",
                            (self.chain_id, address, *ident))
            else:
                for table in ("votes", "proposals"):
                    cur.execute(f"DELETE FROM {table} WHERE {PROPOSAL_WHERE}",
                                (self.chain_id, address, ident))

    def delete_all(self, cur: Cursor) -> None:
        for table in ("votes", "proposals", "role_members", "licenses"):
            cur.execute(f"DELETE FROM {table} WHERE chain_id = %s", (self.chain_id,))

    # Licenses -----------------------------------------------------------------------------

    def _minted(self, cur: Cursor, e: Event) -> None:
        a = e.args
        cur.execute(
            "INSERT INTO licenses (chain_id, contract_address, token_id, owner, node_type,"
            " status, status_reason, application_id, minted_block, minted_tx, last_change_block)"
            " VALUES (%s, %s, %s, %s, %s, 'active', NULL, %s, %s, %s, %s)"
            " ON CONFLICT (chain_id, contract_address, token_id) DO UPDATE SET"
            " owner = EXCLUDED.owner, node_type = EXCLUDED.node_type, status = 'active',"
            " status_reason = NULL, application_id = EXCLUDED.application_id,"
            " minted_block = EXCLUDED.minted_block, minted_tx = EXCLUDED.minted_tx,"
            " last_change_block = EXCLUDED.last_change_block",
            (self.chain_id, e.contract_address, int(a["token_id"]), a["owner"], a["node_type"],
             a["application_id"], e.block_number, e.tx_hash, e.block_number))

    def _set_status(self, cur: Cursor, e: Event, status: str, reason: str | None) -> None:
        cur.execute(f"UPDATE licenses SET status = %s, status_reason = %s,"
                    f" last_change_block = %s WHERE {LICENSE_WHERE}",
                    (status, reason, e.block_number, self.chain_id, e.contract_address,
                     int(e.args["token_id"])))

    def _suspended(self, cur: Cursor, e: Event) -> None:
        self._set_status(cur, e, "suspended", e.args["reason"])

    def _reinstated(self, cur: Cursor, e: Event) -> None:
        self._set_status(cur, e, "active", None)

    def _revoked(self, cur: Cursor, e: Event) -> None:
        self._set_status(cur, e, "revoked", e.args["reason"])

    def _set_owner(self, cur: Cursor, e: Event, owner: str) -> None:
        cur.execute(f"UPDATE licenses SET owner = %s, last_change_block = %s"
                    f" WHERE {LICENSE_WHERE} AND owner <> %s",
                    (owner, e.block_number, self.chain_id, e.contract_address, _token_id(e),
                     owner))

    def _reassigned(self, cur: Cursor, e: Event) -> None:
        self._set_owner(cur, e, e.args["new_owner"])

    def _transfer(self, cur: Cursor, e: Event) -> None:
        """Mint and burn transfers are covered by LicenseMinted/LicenseRevoked."""
        receiver = list(e.args.values())[1]
        if receiver != ZERO_ADDRESS:
            self._set_owner(cur, e, receiver)

    # Roles --------------------------------------------------------------------------------

    def _role_granted(self, cur: Cursor, e: Event) -> None:
        a = e.args
        cur.execute(
            "INSERT INTO role_members (chain_id, contract_address, contract_name, role,"
            " role_name, account, granted_by, granted_block) VALUES (%s, %s, %s, %s, %s, %s,"
            " %s, %s) ON CONFLICT DO NOTHING",
            (self.chain_id, e.contract_address, e.contract_name, a["role"],
             self.roles.get(a["role"]), a["account"], a["sender"], e.block_number))

    def _role_revoked(self, cur: Cursor, e: Event) -> None:
        cur.execute("DELETE FROM role_members WHERE chain_id = %s AND contract_address = %s"
                    " AND role = %s AND account = %s",
                    (self.chain_id, e.contract_address, e.args["role"], e.args["account"]))

    # Proposals and votes ------------------------------------------------------------------

    def _proposal_created(self, cur: Cursor, e: Event) -> None:
        from psycopg.types.json import Jsonb

        a = e.args
        cur.execute(
            'INSERT INTO proposals (chain_id, governor_address, proposal_id, proposer, targets,'
            ' "values", calldatas, description, state, snapshot, deadline, created_block,'
            " last_change_block) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'created', %s, %s,"
            " %s, %s)",
            (self.chain_id, e.contract_address, int(a["proposal_id"]), a["proposer"],
             Jsonb(a["targets"]), Jsonb(a["values"]), Jsonb(a["calldatas"]), a["description"],
             int(a["vote_start"]), int(a["vote_end"]), e.block_number, e.block_number))

    def _vote_cast(self, cur: Cursor, e: Event) -> None:
        a = e.args
        proposal, weight = int(a["proposal_id"]), int(a["weight"])
        cur.execute(
            "INSERT INTO votes (chain_id, governor_address, proposal_id, voter, token_id,"
            " support, weight, reason, block_number, tx_hash, log_index) VALUES (%s, %s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s)",
            (self.chain_id, e.contract_address, proposal, a["voter"], int(a["token_id"]),
             a["support"], weight, a["reason"], e.block_number, e.tx_hash, e.log_index))
        column = VOTE_COLUMNS.get(a["support"])
        if column is not None:
            cur.execute(f"UPDATE proposals SET {column} = {column} + %s, last_change_block = %s"
                        f" WHERE {PROPOSAL_WHERE}",
                        (weight, e.block_number, self.chain_id, e.contract_address, proposal))

    def _set_state(self, cur: Cursor, e: Event, state: str, eta: int | None = None) -> None:
        cur.execute(f"UPDATE proposals SET state = %s, eta = COALESCE(%s, eta),"
                    f" last_change_block = %s WHERE {PROPOSAL_WHERE}",
                    (state, eta, e.block_number, self.chain_id, e.contract_address,
                     int(e.args["proposal_id"])))

    def _proposal_queued(self, cur: Cursor, e: Event) -> None:
        self._set_state(cur, e, "queued", int(e.args["eta"]))

    def _proposal_executed(self, cur: Cursor, e: Event) -> None:
        self._set_state(cur, e, "executed")

    def _proposal_canceled(self, cur: Cursor, e: Event) -> None:
        self._set_state(cur, e, "canceled")
