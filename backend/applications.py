"""Operator applications: created from Typeform or the API, claimed by SIWE, reviewed by
admins; an approval returns the mint transaction and the chain decides when it is `minted`.

An Oracle or Guardian license is minted by a MINTER wallet (`mint_transaction`). A Validator
license carries a vote, so only governance mints it: an approved Validator application offers
instead `proposal_transaction`, the governor's `propose` of that mint, for a validator's wallet
to send; once the proposal passes and the timelock executes it, its LicenseMinted carries the
application id like any other mint.

The state machine: `pending` -> `approved` (MINTER holders, once the applicant has confirmed
the wallet by signing in) or `rejected` (admins); `approved` -> `rejected` until the mint is
seen; any state but `minted` -> `minted` when the indexer has seen the application's
LicenseMinted (reconciled before every read or change). Every step is one row of history."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, field_validator

from backend import authz, mirror
from backend.caller import Caller
from backend.context import Backend
from backend.errors import Conflict, NotAllowed, NotFound
from noderr.domain import ADMIN_ROLES, NODE_TYPE_LABELS, NodeType

_MINT = function_signature_to_4byte_selector("mint(address,uint8,bytes32)")
_PROPOSE = function_signature_to_4byte_selector("propose(address[],uint256[],bytes[],string)")
Status = Literal["pending", "approved", "rejected", "minted"]
Row = dict[str, Any]
COLUMNS = sql.SQL(", ").join(map(sql.Identifier, (
    "id", "application_id", "source", "applicant_name", "contact", "wallet_address",
    "wallet_verified", "node_type", "region", "experience", "status", "review_note", "token_id",
    "created_at", "updated_at")))


@dataclass(frozen=True)
class Transition:
    """A review action: the statuses it may start from and the status it leads to."""

    action: str
    allowed: tuple[Status, ...]
    to_status: Status


APPROVE = Transition("approve", ("pending",), "approved")
REJECT = Transition("reject", ("pending", "approved"), "rejected")


def query(template: str) -> sql.Composed:
    """`template` with `{columns}` replaced by the application columns an API answer shows."""
    return sql.SQL(template).format(columns=COLUMNS)


class ApplicationIn(BaseModel):
    """What an applicant tells us; the wallet is only a claim until it signs in."""

    applicant_name: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=3, max_length=200)
    wallet_address: str = Field(description="The address that will hold the license.")
    node_type: int = Field(description="1 Oracle, 2 Guardian, 3 Validator (or the name).")
    region: str = Field("", max_length=100)
    experience: str = Field("", max_length=2000)

    @field_validator("wallet_address", mode="before")
    @classmethod
    def _checksum(cls, value: object) -> str:
        try:
            return to_checksum_address(str(value).strip())
        except ValueError:
            raise ValueError(f"not an Ethereum address: {str(value)[:60]!r}") from None

    @field_validator("node_type", mode="before")
    @classmethod
    def _node_type(cls, value: object) -> int:
        if isinstance(value, int | str) and not isinstance(value, bool):
            with contextlib.suppress(ValueError):
                return int(NodeType.parse(value))
        raise ValueError(f"node type must be one of {', '.join(NODE_TYPE_LABELS.values())} "
                         f"or 1-{len(NodeType)}")

    @field_validator("experience", "region", mode="before")
    @classmethod
    def _text(cls, value: object) -> str:
        return "" if value is None else str(value)


def application_id(app_uuid: uuid.UUID) -> str:
    """The bytes32 the license is minted for: keccak256 of a prefix and the uuid."""
    return "0x" + keccak(b"noderr-application:" + app_uuid.bytes).hex()


def is_validator(row: Row) -> bool:
    return row["node_type"] == NodeType.VALIDATOR


def mint_call(row: Row) -> bytes:
    """NodeLicense `mint(wallet, node_type, application_id)` calldata of the application."""
    return _MINT + encode(["address", "uint8", "bytes32"],
                          [row["wallet_address"], row["node_type"],
                           bytes.fromhex(row["application_id"][2:])])


def mint_transaction(license_address: str, chain_id: int, row: Row) -> dict[str, Any]:
    """The mint a MINTER wallet sends for an approved Oracle or Guardian application."""
    return {"to": license_address, "data": "0x" + mint_call(row).hex(), "value": "0x0",
            "chain_id": chain_id}


def proposal_description(row: Row) -> str:
    """The admission proposal's description: names the application id, so that a proposal
    can be linked to its application (and the same application is proposed only once)."""
    return (f"Admit {row['wallet_address']} as a Validator "
            f"(application {row['application_id']})")


def proposal_transaction(backend: Backend, row: Row) -> dict[str, Any]:
    """The governor's `propose` of the Validator mint, for a validator's wallet to send."""
    args = encode(["address[]", "uint256[]", "bytes[]", "string"],
                  [[backend.license_address], [0], [mint_call(row)], proposal_description(row)])
    return {"to": backend.governor_address, "data": "0x" + (_PROPOSE + args).hex(),
            "value": "0x0", "chain_id": backend.chain_id,
            "description": proposal_description(row)}


def view(backend: Backend, row: Row) -> dict[str, Any]:
    """An application as the API shows it; an approved one with the transaction that admits
    it: `mint_transaction` (Oracle, Guardian) or `proposal_transaction` (Validator)."""
    out = {**row, "id": str(row["id"]),
           "token_id": None if row["token_id"] is None else int(row["token_id"])}
    if row["status"] == "approved" and is_validator(row):
        out["proposal_transaction"] = proposal_transaction(backend, row)
    elif row["status"] == "approved":
        out["mint_transaction"] = mint_transaction(backend.license_address, backend.chain_id,
                                                   row)
    return out


async def record(conn: AsyncConnection, app: uuid.UUID, action: str, from_status: str | None,
                 to_status: str, actor: str, note: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO application_events (application, action, from_status, to_status, actor, "
        "note) VALUES (%s, %s, %s, %s, %s, %s)", (app, action, from_status, to_status, actor,
                                                  note))


async def create(conn: AsyncConnection, data: ApplicationIn, *, source: str, actor: str,
                 verified: bool = False, typeform_token: str | None = None,
                 answers: dict[str, Any] | None = None) -> Row | None:
    """Insert an application (None when its Typeform response is already stored)."""
    app_uuid = uuid.uuid4()
    row = await (await conn.execute(
        query("INSERT INTO applications (id, application_id, source, typeform_token, "
              "applicant_name, contact, wallet_address, wallet_verified, node_type, region, "
              "experience, answers) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
              "ON CONFLICT (typeform_token) DO NOTHING RETURNING {columns}"),
        (app_uuid, application_id(app_uuid), source, typeform_token, data.applicant_name,
         data.contact, data.wallet_address, verified, data.node_type, data.region,
         data.experience, Jsonb(answers or {})))).fetchone()
    if row is not None:
        await record(conn, app_uuid, "created", None, "pending", actor,
                     f"from {source}" + ("; wallet verified by SIWE" if verified else ""))
    return row


RECONCILE_SQL = sql.SQL("""
WITH minted AS (
  SELECT a.id, a.status AS from_status, m.token_id, m.actor, m.tx_hash
  FROM applications a
  JOIN ({license_minted}) m ON m.application_id = a.application_id
  WHERE a.status <> 'minted'
  FOR UPDATE OF a SKIP LOCKED
), updated AS (
  UPDATE applications a SET status = 'minted', token_id = minted.token_id::numeric,
         updated_at = now()
  FROM minted WHERE a.id = minted.id RETURNING a.id
)
INSERT INTO application_events (application, action, from_status, to_status, actor, note)
SELECT id, 'minted', from_status, 'minted', actor, 'LicenseMinted in transaction ' || tx_hash
FROM minted
""").format(license_minted=mirror.LICENSE_MINTED)


async def reconcile_minted(conn: AsyncConnection, mirror_key: dict[str, object]) -> None:
    """Mark `minted` every application whose LicenseMinted the indexer has seen."""
    await conn.execute(RECONCILE_SQL, mirror_key)


async def apply(backend: Backend, caller: Caller, data: ApplicationIn) -> dict[str, Any]:
    """An application by the signed-in wallet (its address is verified by the session)."""
    if data.wallet_address != caller.address:
        raise NotAllowed(f"wallet_address must be the signed-in wallet {caller.address}")
    async with backend.db.transaction() as conn:
        row = await create(conn, data, source="api", actor=caller.address, verified=True)
    assert row is not None
    return view(backend, row)


async def load(backend: Backend, app_id: uuid.UUID) -> Row:
    """The application as of the mirror now (NotFound if there is none)."""
    async with backend.db.transaction() as conn:
        await reconcile_minted(conn, backend.mirror_key)
        row = await (await conn.execute(
            query("SELECT {columns} FROM applications WHERE id = %s"), (app_id,))).fetchone()
    if row is None:
        raise NotFound(f"no application {app_id}")
    return row


async def search(backend: Backend, status: Status | None, node_type: int | None,
                 wallet: str | None, verified: bool | None, limit: int,
                 offset: int) -> list[dict[str, Any]]:
    """Applications, newest first, filtered (None: any)."""
    async with backend.db.transaction() as conn:
        await reconcile_minted(conn, backend.mirror_key)
        rows = await (await conn.execute(
            query(
                "SELECT {columns} FROM applications WHERE "
                "(%(status)s::text IS NULL OR status = %(status)s) AND "
                "(%(node_type)s::int IS NULL OR node_type = %(node_type)s) AND "
                "(%(wallet)s::text IS NULL OR lower(wallet_address) = lower(%(wallet)s)) AND "
                "(%(verified)s::bool IS NULL OR wallet_verified = %(verified)s) "
                "ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s"),
            {"status": status, "node_type": node_type, "wallet": wallet, "verified": verified,
             "limit": limit, "offset": offset})).fetchall()
    return [view(backend, row) for row in rows]


ADMISSION_FIELDS = ("id", "application_id", "applicant_name", "wallet_address", "region",
                    "review_note", "updated_at")


async def awaiting_admission(backend: Backend) -> list[dict[str, Any]]:
    """Approved Validator applications not yet minted, oldest approval first, each with its
    `proposal_transaction`: what a validator reads to propose an admission."""
    rows = await search(backend, "approved", NodeType.VALIDATOR, None, None, 1000, 0)
    return [{**{name: row[name] for name in ADMISSION_FIELDS},
             "proposal_transaction": row["proposal_transaction"]} for row in reversed(rows)]


async def reader_is_admin(backend: Backend, caller: Caller, row: Row) -> bool:
    """The applicant's own wallet, or an admin, may read an application; True for an admin
    (a MINTER or REVOKER holder by a mirror fresh enough to trust its roles)."""
    is_admin = caller.holds_any(ADMIN_ROLES)
    if row["wallet_address"].lower() == caller.address.lower():
        return is_admin and await authz.mirror_lag(backend, caller) is None
    await authz.require_fresh_mirror(backend, caller)
    if not is_admin:
        raise NotAllowed("only the application's wallet or an admin may read it")
    return True


async def detail(backend: Backend, caller: Caller, app_id: uuid.UUID) -> dict[str, Any]:
    """One application with its history; for admins also every raw Typeform answer."""
    row = await load(backend, app_id)
    is_admin = await reader_is_admin(backend, caller, row)
    history = await backend.db.fetch(
        "SELECT action, from_status, to_status, actor, note, at FROM application_events "
        "WHERE application = %s ORDER BY id", (app_id,))
    out = {**view(backend, row), "history": history}
    if is_admin:
        out["answers"] = await raw_answers(backend, app_id)
    return out


async def raw_answers(backend: Backend, app_id: uuid.UUID) -> dict[str, Any]:
    """Every answer of the application's Typeform response, by field ref ({} from the API)."""
    row = await backend.db.fetch_one("SELECT answers FROM applications WHERE id = %s", (app_id,))
    return row["answers"] if row else {}


async def claim(backend: Backend, caller: Caller, app_id: uuid.UUID) -> dict[str, Any]:
    """The applicant signed in with the typed wallet: the application's wallet is verified."""
    row = await load(backend, app_id)
    if row["wallet_address"].lower() != caller.address.lower():
        raise NotAllowed(f"signed-in wallet {caller.address} is not this application's "
                         f"wallet {row['wallet_address']}")
    if row["wallet_verified"]:
        return view(backend, row)
    async with backend.db.transaction() as conn:
        row = await (await conn.execute(
            query("UPDATE applications SET wallet_verified = true, updated_at = now() "
                  "WHERE id = %s RETURNING {columns}"), (app_id,))).fetchone()
        await record(conn, app_id, "wallet_verified", row["status"], row["status"],
                     caller.address, "wallet confirmed by SIWE sign-in")
    return view(backend, row)


async def transition(backend: Backend, app_id: uuid.UUID, step: Transition, actor: str,
                     note: str) -> Row:
    """Take `step` on the application, recorded with `note`; NotFound or Conflict if not."""
    async with backend.db.transaction() as conn:
        await reconcile_minted(conn, backend.mirror_key)
        row = await (await conn.execute(
            query("SELECT {columns} FROM applications WHERE id = %s FOR UPDATE"),
            (app_id,))).fetchone()
        if row is None:
            raise NotFound(f"no application {app_id}")
        if row["status"] not in step.allowed:
            raise Conflict(f"cannot {step.action} an application that is {row['status']}")
        if step is APPROVE and not row["wallet_verified"]:
            raise Conflict("the applicant has not confirmed the wallet by signing in "
                           "(POST /applications/{id}/claim)")
        from_status = row["status"]
        row = await (await conn.execute(
            query("UPDATE applications SET status = %s, review_note = %s, "
                  "updated_at = now() WHERE id = %s RETURNING {columns}"),
            (step.to_status, note, app_id))).fetchone()
        await record(conn, app_id, step.action, from_status, step.to_status, actor, note)
    return row


async def review(backend: Backend, caller: Caller, app_id: uuid.UUID, step: Transition,
                 note: str) -> dict[str, Any]:
    """An admin's approval or rejection; an approval shows the exact transaction that
    admits the applicant (a mint, or for a Validator a governance proposal)."""
    return view(backend, await transition(backend, app_id, step, caller.address, note))
