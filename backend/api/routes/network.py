"""The public monitoring API of the node network: the function catalogue, node health, the
execution logs and the licensed members. Anyone may call it, so each client is rate-limited
(NODERR_RATE_LIMIT_PUBLIC) and pages hold at most MAX_PAGE rows, each filter with an index
(migration 0006_network)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from backend import network
from backend.api.cursor import decode_time_cursor, encode_time_cursor
from backend.api.deps import BackendDep
from backend.api.rate_limits import PUBLIC, rate_limited
from noderr.catalogue import BY_NAME
from noderr.execution_results import ExecutionResult

router = APIRouter(tags=["network"], dependencies=[Depends(rate_limited(PUBLIC))])
MAX_PAGE = 1000
ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class CatalogueFunction(BaseModel):
    name: str
    node_type: int
    node_type_name: str
    category: str
    description: str


class NodeHealth(BaseModel):
    """A node as its heartbeats and the mirror show it."""

    address: str
    node_type: int
    node_type_name: str
    token_id: int
    status: Literal["active", "suspended", "stale", "stopped"]
    last_heartbeat: datetime
    started_at: datetime
    software_version: str


class ExecutionItem(BaseModel):
    id: int
    address: str
    node_type: int
    node_type_name: str
    token_id: int
    function: str
    started_at: datetime
    duration_ms: float
    outcome: Literal["ok", "rejected", "error"]
    error: str | None
    result: ExecutionResult | None = Field(
        description="What the run found, where its function reports it: detect_double_sign "
                    "the double signers (double_signs), score_peer the peers scoring low "
                    "(low_scores); null otherwise.")


class ExecutionPage(BaseModel):
    """Newest first; pass `next_cursor` on for older records (null: the last page)."""

    items: list[ExecutionItem]
    next_cursor: str | None


class Member(BaseModel):
    address: str
    node_type: int
    token_id: int


class Members(BaseModel):
    """The active licenses at `indexed_block`: the keys whose bus messages count."""

    indexed_block: int | None
    members: list[Member]


@router.get("/network/functions")
async def functions(backend: BackendDep) -> list[CatalogueFunction]:
    """The catalogue of node functions, by node type and category."""
    return [CatalogueFunction(**row) for row in await network.functions(backend.db)]


@router.get("/network/nodes")
async def nodes(backend: BackendDep) -> list[NodeHealth]:
    """Every node that has sent a heartbeat: stopped (it said so, or its license is no longer
    its own), stale (silent for NODERR_NODE_STALE_AFTER seconds), else its license's status."""
    return [NodeHealth(**row) for row in await network.nodes(backend)]


@router.get("/network/executions")
async def executions(
    backend: BackendDep,
    function: str | None = Query(None, max_length=64, description="A catalogue function."),
    node: str | None = Query(None, pattern=ADDRESS, description="The node's address."),
    outcome: Literal["ok", "rejected", "error"] | None = None,
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(None, max_length=100),
) -> ExecutionPage:
    """Execution records of every node, newest first, filtered; cursor pagination. A record
    of detect_double_sign names the double signers it found (`result.double_signs`)."""
    if function is not None and function not in BY_NAME:
        raise RequestValidationError([{
            "loc": ("query", "function"), "type": "value_error",
            "msg": f"{function!r} is not a function of the catalogue (GET /network/functions)"}])
    before = decode_time_cursor(cursor) if cursor is not None else None
    rows = await network.executions(
        backend.db, {"function": function, "address": node, "outcome": outcome}, before,
        limit + 1)
    items = [ExecutionItem(**row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return ExecutionPage(items=items,
                         next_cursor=encode_time_cursor(last.started_at, last.id) if last else None)


@router.get("/network/members")
async def members(backend: BackendDep) -> Members:
    """Every active license in the mirror, by address: what a bus receiver checks a message's
    signer against."""
    return Members(**await network.members(backend))
