"""The public auditor API: it repeats what is public on-chain, from the indexer's tables."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from psycopg import sql

from backend.context import Backend, get_backend

router = APIRouter(tags=["auditor"])
UINT256_MAX = 2**256 - 1
EVENT_COLUMNS = ("block_number", "block_timestamp", "tx_hash", "log_index", "contract_name",
                 "contract_address", "event_name", "args")


def encode_cursor(row: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{row['block_number']}:{row['log_index']}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        block, log_index = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return int(block), int(log_index)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "bad cursor: pass next_cursor from a previous page") from None


def event_filters(backend: Backend, contract: str | None, event: str | None,
                  token_id: int | None, address: str | None, from_block: int | None,
                  to_block: int | None, since: datetime | None, until: datetime | None,
                  cursor: str | None) -> tuple[sql.Composed, dict[str, Any]]:
    clauses = [sql.SQL("chain_id = %(chain_id)s")]
    params: dict[str, Any] = {"chain_id": backend.chain_id}
    optional = [
        (contract, "(contract_name = %(contract)s OR contract_address = lower(%(contract)s))"),
        (event, "event_name = %(event)s"),
        (token_id, "coalesce(args->>'token_id', args->>'tokenId') = %(token_id)s::text"),
        (address, "EXISTS (SELECT 1 FROM jsonb_each_text(args) a "
                  "WHERE a.value = lower(%(address)s))"),
        (from_block, "block_number >= %(from_block)s"), (to_block, "block_number <= %(to_block)s"),
        (since, "block_timestamp >= %(since)s"), (until, "block_timestamp <= %(until)s"),
    ]
    values = {"contract": contract, "event": event, "token_id": token_id, "address": address,
              "from_block": from_block, "to_block": to_block, "since": since, "until": until}
    for value, clause in optional:
        if value is not None:
            clauses.append(sql.SQL(clause))
    params |= {k: v for k, v in values.items() if v is not None}
    if cursor is not None:
        params["after_block"], params["after_log"] = decode_cursor(cursor)
        clauses.append(sql.SQL("(block_number, log_index) > (%(after_block)s, %(after_log)s)"))
    return sql.SQL(" AND ").join(clauses), params


@router.get("/events")
async def events(
    contract: str | None = Query(None, max_length=64, description="Name or address."),
    event: str | None = Query(None, max_length=64),
    token_id: int | None = Query(None, ge=0, le=UINT256_MAX),
    address: str | None = Query(None, max_length=42, description="Any address argument."),
    from_block: int | None = Query(None, ge=0, le=2**62),
    to_block: int | None = Query(None, ge=0, le=2**62),
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=10_000),
    format: Literal["json", "csv"] = "json",
    backend: Backend = Depends(get_backend),
) -> Any:
    """Every decoded contract event, oldest first, filtered; cursor pagination; CSV export."""
    where, params = event_filters(backend, contract, event, token_id, address, from_block,
                                  to_block, since, until, cursor)
    query = sql.SQL("SELECT {} FROM chain_events WHERE {} ORDER BY block_number, log_index "
                    "LIMIT %(limit)s").format(
        sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS)), where)
    rows = await backend.db.fetch(query, {**params, "limit": limit + 1})
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    if format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="noderr-events.csv"'}
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        return Response(to_csv(rows), media_type="text/csv", headers=headers)
    return {"events": rows, "next_cursor": next_cursor}


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EVENT_COLUMNS)
    for row in rows:
        writer.writerow([json.dumps(row["args"], sort_keys=True) if key == "args" else
                         row[key].isoformat() if isinstance(row[key], datetime) else row[key]
                         for key in EVENT_COLUMNS])
    return out.getvalue()


LICENSE_COLUMNS = sql.SQL("token_id, owner, node_type, status, status_reason, application_id, "
                          "minted_block, minted_tx, last_change_block")


def license_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "token_id": int(row["token_id"])}


@router.get("/licenses")
async def licenses(
    owner: str | None = Query(None, max_length=42),
    node_type: int | None = Query(None, ge=1, le=3),
    status: Literal["active", "suspended", "revoked"] | None = None,
    after: int = Query(0, ge=0, le=UINT256_MAX, description="Token id to page after."),
    limit: int = Query(100, ge=1, le=1000),
    backend: Backend = Depends(get_backend),
) -> list[dict[str, Any]]:
    """Every license the mirror knows (revoked ones too), by token id."""
    query = sql.SQL(
        "SELECT {} FROM licenses WHERE chain_id = %(chain_id)s AND contract_address = "
        "%(license)s AND (%(owner)s::text IS NULL OR owner = lower(%(owner)s)) AND "
        "(%(node_type)s::int IS NULL OR node_type = %(node_type)s) AND "
        "(%(status)s::text IS NULL OR status = %(status)s) AND token_id > %(after)s "
        "ORDER BY token_id LIMIT %(limit)s").format(LICENSE_COLUMNS)
    rows = await backend.db.fetch(query, {**backend.mirror_key, "owner": owner,
                                          "node_type": node_type, "status": status,
                                          "after": Decimal(after), "limit": limit})
    return [license_out(row) for row in rows]


@router.get("/licenses/{token_id}")
async def license_history(token_id: int, backend: Backend = Depends(get_backend)
                          ) -> dict[str, Any]:
    """One license and its full history from the contract's events."""
    if not 0 <= token_id <= UINT256_MAX:
        raise HTTPException(422, "token_id must be a uint256")
    params = {**backend.mirror_key, "token_id": str(token_id)}
    row = await backend.db.fetch_one(sql.SQL(
        "SELECT {} FROM licenses WHERE chain_id = %(chain_id)s AND contract_address = "
        "%(license)s AND token_id = %(token_id)s::numeric").format(LICENSE_COLUMNS), params)
    if row is None:
        raise HTTPException(404, f"no license {token_id} in the mirror")
    history = await backend.db.fetch(
        "SELECT block_number, block_timestamp, tx_hash, log_index, event_name, args "
        "FROM chain_events WHERE chain_id = %(chain_id)s AND contract_address = %(license)s "
        "AND coalesce(args->>'token_id', args->>'tokenId') = %(token_id)s "
        "ORDER BY block_number, log_index", params)
    return {**license_out(row), "history": history}


PROPOSAL_NUMBERS = ("proposal_id", "snapshot", "deadline", "eta", "votes_for", "votes_against",
                    "votes_abstain")


@router.get("/governance/proposals")
async def proposals(
    state: Literal["created", "queued", "executed", "canceled"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    backend: Backend = Depends(get_backend),
) -> list[dict[str, Any]]:
    """Governance proposals with their tallies (uint256 values as decimal strings)."""
    rows = await backend.db.fetch(
        "SELECT proposal_id, proposer, targets, \"values\", calldatas, description, state, "
        "snapshot, deadline, eta, votes_for, votes_against, votes_abstain, created_block, "
        "last_change_block FROM proposals WHERE chain_id = %(chain_id)s AND "
        "(%(state)s::text IS NULL OR state = %(state)s) ORDER BY created_block DESC "
        "LIMIT %(limit)s OFFSET %(offset)s",
        {"chain_id": backend.chain_id, "state": state, "limit": limit, "offset": offset})
    return [{**row, **{key: None if row[key] is None else str(row[key])
                       for key in PROPOSAL_NUMBERS}} for row in rows]
