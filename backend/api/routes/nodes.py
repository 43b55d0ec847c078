"""`/nodes/*`: what a node calls to prove its license before it activates, and while it runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from backend import authz
from backend.api.deps import BackendDep, SignedInCaller, license_gate
from backend.api.openapi import signed_in
from backend.caller import Caller
from noderr.domain import NODE_TYPE_LABELS, NodeType

router = APIRouter()


@router.get("/nodes/me", **signed_in())
async def nodes_me(caller: SignedInCaller, backend: BackendDep) -> dict[str, Any]:
    """The caller's active licenses; 403 without one, 503 when the mirror lags."""
    await authz.require_any_license(backend, caller)
    licenses = [{**item, "node_type_name": NODE_TYPE_LABELS[item["node_type"]]}
                for item in caller.licenses]
    return {"address": caller.address, "licenses": licenses,
            "indexed_block": caller.indexed_block}


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
