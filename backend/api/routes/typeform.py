"""`POST /webhooks/typeform`: Typeform's form_response webhook."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from backend.api.deps import BackendDep
from backend.api.openapi import problems
from backend.typeform.intake import receive_webhook

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks/typeform", responses=problems(401, 503))
async def webhook(request: Request, backend: BackendDep) -> dict[str, Any]:
    """Typeform's form_response webhook: verified, idempotent on event_id."""
    return await receive_webhook(backend.settings, backend.db, await request.body(),
                                 request.headers.get("typeform-signature"))
