"""`/nodes/*`: what a node calls to prove its license before it activates, and while it runs:
the license watch it long-polls, its heartbeats and its execution records."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from backend import authz, network
from backend.api.deps import BackendDep, SignedInCaller, license_gate
from backend.api.openapi import signed_in
from backend.caller import Caller
from noderr.domain import NODE_TYPE_LABELS, NodeType

router = APIRouter()
T = TypeVar("T")


@router.get("/nodes/me", **signed_in())
async def nodes_me(caller: SignedInCaller, backend: BackendDep) -> dict[str, Any]:
    """The caller's active licenses; 403 without one, 503 when the mirror lags."""
    await authz.require_any_license(backend, caller)
    licenses = [{**item, "node_type_name": NODE_TYPE_LABELS[item["node_type"]]}
                for item in caller.licenses]
    return {"address": caller.address, "licenses": licenses,
            "indexed_block": caller.indexed_block}


class HeldLicense(BaseModel):
    token_id: int
    node_type: int
    node_type_name: str
    status: Literal["active", "suspended"]


class LicenseWatch(BaseModel):
    """Every license the caller holds at `indexed_block`, suspended ones too (revoked or
    reassigned ones are not the caller's any more)."""

    address: str
    indexed_block: int | None
    licenses: list[HeldLicense]


class HeartbeatAck(BaseModel):
    recorded: bool
    indexed_block: int | None


class Accepted(BaseModel):
    accepted: int


async def _client_gone(request: Request) -> None:
    """Return when the client disconnects (the request has no body left to read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _unless_gone(request: Request, work: Awaitable[T]) -> T | Response:
    """`work`'s answer, or, once the client has gone, nothing (and `work` is cancelled)."""
    answer, gone = asyncio.ensure_future(work), asyncio.ensure_future(_client_gone(request))
    try:
        await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not answer.done():
            answer.cancel()
    if answer.cancelled():
        return Response(status_code=204)
    return answer.result()


@router.get("/nodes/me/watch", **signed_in())
async def watch(
    request: Request, caller: SignedInCaller, backend: BackendDep,
    after_block: int | None = Query(None, ge=0, le=2**62, description=(
        "The indexed block of the caller's last answer: wait until the mirror moves on.")),
    timeout_s: float = Query(25.0, ge=0, le=30, description="Longest wait, in seconds."),
) -> LicenseWatch:
    """Long poll of the caller's licenses, for a running node (no license needed: a
    suspended node keeps watching). Answers once the mirror's indexed block is not
    `after_block` any more (at once without it), else after `timeout_s` with the licenses as
    they are; 503 while the mirror lags, or when the process holds too many watches."""
    return await _unless_gone(request, network.watch(backend, caller, after_block, timeout_s))


@router.post("/nodes/heartbeat", **signed_in())
async def heartbeat(beat: network.Heartbeat, caller: SignedInCaller,
                    backend: BackendDep) -> HeartbeatAck:
    """A node's heartbeat, for the license it runs under: the caller must own it, active or
    suspended (403 naming the token otherwise)."""
    indexed_block = await network.record_heartbeat(backend, caller, beat)
    return HeartbeatAck(recorded=True, indexed_block=indexed_block)


@router.post("/nodes/executions", **signed_in())
async def executions(report: network.ExecutionReport, caller: SignedInCaller,
                     backend: BackendDep) -> Accepted:
    """Execution records of the caller's node, all stored or none: the caller must hold
    `token_id` as its active license of `node_type`, and every function must be one of that
    type's (422 naming the first that is not)."""
    return Accepted(accepted=await network.record_executions(backend, caller, report))


def _gated_route(node_type: NodeType) -> None:
    name = node_type.label.lower()

    async def access(caller: Caller = Depends(license_gate(node_type))) -> dict[str, Any]:
        license_ = caller.license(node_type)
        return {"address": caller.address, "node_type": int(node_type),
                "token_id": license_["token_id"] if license_ else None,
                "indexed_block": caller.indexed_block}

    access.__doc__ = (f"License-gated: 200 only for a holder of an active {node_type.label}"
                      " license now (403 otherwise, 503 when the mirror lags).")
    router.add_api_route(f"/nodes/{name}/access", access, methods=["GET"],
                         name=f"{name}_access", **signed_in())


for _node_type in NodeType:
    _gated_route(_node_type)
