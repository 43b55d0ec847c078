"""`/nodes/*`: what a node calls to prove its license before it activates, and while it runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from backend.authz import NODE_TYPES, Caller, current_caller, mirror_lag, require_license
from backend.context import Backend, get_backend

router = APIRouter()


@router.get("/nodes/me")
async def nodes_me(caller: Caller = Depends(current_caller),
                   backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """The caller's active licenses; 403 without one, 503 when the mirror lags."""
    reason = await mirror_lag(backend, caller)
    if reason is not None:
        raise HTTPException(503, reason, headers={"Retry-After": "2"})
    if not caller.licenses:
        raise HTTPException(403, f"{caller.address} holds no active license")
    licenses = [{**item, "node_type_name": NODE_TYPES[item["node_type"]]}
                for item in caller.licenses]
    return {"address": caller.address, "licenses": licenses,
            "indexed_block": caller.indexed_block}


def _gated_route(node_type: int) -> None:
    name = NODE_TYPES[node_type].lower()

    async def access(caller: Caller = Depends(require_license(node_type))) -> dict[str, Any]:
        license_ = caller.license(node_type)
        return {"address": caller.address, "node_type": node_type,
                "token_id": license_["token_id"] if license_ else None,
                "indexed_block": caller.indexed_block}

    access.__doc__ = (f"License-gated: 200 only for a holder of an active {NODE_TYPES[node_type]}"
                      " license now (403 otherwise, 503 when the mirror lags).")
    router.add_api_route(f"/nodes/{name}/access", access, methods=["GET"],
                         name=f"{name}_access")


for _node_type in NODE_TYPES:
    _gated_route(_node_type)
