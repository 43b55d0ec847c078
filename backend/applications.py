"""Operator applications: created from Typeform or the API, claimed by SIWE, reviewed by
admins; an approval returns the mint transaction and the chain decides when it is `minted`."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, field_validator

from backend.authz import NODE_TYPES

_MINT = function_signature_to_4byte_selector("mint(address,uint8,bytes32)")
Status = Literal["pending", "approved", "rejected", "minted"]
COLUMNS = sql.SQL(", ").join(map(sql.Identifier, (
    "id", "application_id", "source", "applicant_name", "contact", "wallet_address",
    "wallet_verified", "node_type", "region", "experience", "status", "review_note", "token_id",
    "created_at", "updated_at")))


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
        names = {name.lower(): code for code, name in NODE_TYPES.items()}
        if isinstance(value, str) and value.strip().lower() in names:
            return names[value.strip().lower()]
        if isinstance(value, int | str) and str(value).strip() in {"1", "2", "3"}:
            return int(value)
        raise ValueError(f"node type must be one of {', '.join(NODE_TYPES.values())} or 1-3")

    @field_validator("experience", "region", mode="before")
    @classmethod
    def _text(cls, value: object) -> str:
        return "" if value is None else str(value)


def application_id(app_uuid: uuid.UUID) -> str:
    """The bytes32 the license is minted for: keccak256 of a prefix and the uuid."""
    return "0x" + keccak(b"noderr-application:" + app_uuid.bytes).hex()


def mint_transaction(license_address: str, chain_id: int, row: dict[str, Any]) -> dict[str, Any]:
    args = encode(["address", "uint8", "bytes32"],
                  [row["wallet_address"], row["node_type"], bytes.fromhex(
                      row["application_id"][2:])])
    return {"to": license_address, "data": "0x" + (_MINT + args).hex(), "value": "0x0",
            "chain_id": chain_id}


async def record(conn: AsyncConnection, app: uuid.UUID, action: str, from_status: str | None,
                 to_status: str, actor: str, note: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO application_events (application, action, from_status, to_status, actor, "
        "note) VALUES (%s, %s, %s, %s, %s, %s)", (app, action, from_status, to_status, actor,
                                                  note))


async def create(conn: AsyncConnection, data: ApplicationIn, *, source: str, actor: str,
                 verified: bool = False, typeform_token: str | None = None,
                 answers: dict[str, Any] | None = None) -> dict[str, Any] | None:
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


RECONCILE_SQL = """
WITH minted AS (
  SELECT a.id, a.status AS from_status, e.args->>'token_id' AS token_id,
         e.args->>'actor' AS actor, e.tx_hash
  FROM applications a
  JOIN chain_events e ON e.chain_id = %(chain_id)s AND e.contract_name = 'NodeLicense'
   AND e.contract_address = %(license)s AND e.event_name = 'LicenseMinted'
   AND e.args->>'application_id' = a.application_id
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
"""


async def reconcile_minted(conn: AsyncConnection, mirror_key: dict[str, object]) -> None:
    """Mark `minted` every application whose LicenseMinted the indexer has seen."""
    await conn.execute(RECONCILE_SQL, mirror_key)
