"""The public auditor API: it repeats what is public on-chain, from the indexer's tables.
Anyone may call it, so each client is rate-limited (NODERR_RATE_LIMIT_PUBLIC), pages hold
at most MAX_PAGE rows, and every filter has an index (migration 0005_cost_limits)."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from backend import mirror
from backend.api.deps import BackendDep
from backend.api.openapi import problems
from backend.api.rate_limits import PUBLIC, rate_limited

router = APIRouter(tags=["auditor"], dependencies=[Depends(rate_limited(PUBLIC))])
MAX_PAGE = 1000
UINT256_MAX = 2**256 - 1
PROPOSAL_NUMBERS = ("proposal_id", "snapshot", "deadline", "eta", "votes_for", "votes_against",
                    "votes_abstain")


def encode_cursor(row: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{row['block_number']}:{row['log_index']}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        block, log_index = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return int(block), int(log_index)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "bad cursor: pass next_cursor from a previous page") from None


@router.get("/events", responses={200: {
    "description": "JSON by default; with `format=csv`, CSV (the next cursor in X-Next-Cursor).",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}}})
async def events(
    backend: BackendDep,
    contract: str | None = Query(None, max_length=64, description="Name or address."),
    event: str | None = Query(None, max_length=64),
    token_id: int | None = Query(None, ge=0, le=UINT256_MAX),
    address: str | None = Query(None, max_length=42, description="Any address argument."),
    from_block: int | None = Query(None, ge=0, le=2**62),
    to_block: int | None = Query(None, ge=0, le=2**62),
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Every decoded contract event, oldest first, filtered; cursor pagination; CSV export."""
    filters = {"contract": contract, "event": event, "token_id": token_id, "address": address,
               "from_block": from_block, "to_block": to_block, "since": since, "until": until}
    after = decode_cursor(cursor) if cursor is not None else None
    rows = await mirror.events(backend.db, backend.chain_id, filters, after, limit + 1)
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
    writer.writerow(mirror.EVENT_COLUMNS)
    for row in rows:
        writer.writerow([json.dumps(row["args"], sort_keys=True) if key == "args" else
                         row[key].isoformat() if isinstance(row[key], datetime) else row[key]
                         for key in mirror.EVENT_COLUMNS])
    return out.getvalue()


def license_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "token_id": int(row["token_id"])}


@router.get("/licenses")
async def licenses(
    backend: BackendDep,
    owner: str | None = Query(None, max_length=42),
    node_type: int | None = Query(None, ge=1, le=3),
    status: Literal["active", "suspended", "revoked"] | None = None,
    after: int = Query(0, ge=0, le=UINT256_MAX, description="Token id to page after."),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
) -> list[dict[str, Any]]:
    """Every license the mirror knows (revoked ones too), by token id."""
    rows = await mirror.licenses(backend.db, backend.mirror_key, owner, node_type, status,
                                 after, limit)
    return [license_out(row) for row in rows]


@router.get("/licenses/{token_id}", responses=problems(404))
async def license_history(token_id: int, backend: BackendDep) -> dict[str, Any]:
    """One license and its full history from the contract's events."""
    if not 0 <= token_id <= UINT256_MAX:
        raise HTTPException(422, "token_id must be a uint256")
    row = await mirror.license_with_history(backend.db, backend.mirror_key, token_id)
    if row is None:
        raise HTTPException(404, f"no license {token_id} in the mirror")
    return license_out(row)


@router.get("/governance/proposals")
async def proposals(
    backend: BackendDep,
    state: Literal["created", "queued", "executed", "canceled"] | None = None,
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[dict[str, Any]]:
    """Governance proposals with their tallies (uint256 values as decimal strings)."""
    rows = await mirror.proposals(backend.db, backend.chain_id, state, limit, offset)
    return [{**row, **{key: None if row[key] is None else str(row[key])
                       for key in PROPOSAL_NUMBERS}} for row in rows]
