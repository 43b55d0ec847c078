"""Applications from Typeform: each signed webhook (idempotent on its event id) and, for
responses whose webhook never arrived, the backfill from the Responses API."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend import applications as apps
from backend.database import Database
from backend.errors import CredentialsRejected, InvalidApplication, Unavailable
from backend.settings import BackendSettings
from backend.typeform.parsing import TypeformError, parse_webhook, signature_ok, to_application
from backend.typeform.responses_api import fetch_responses

log = logging.getLogger("noderr.backend.typeform")
ACTOR = "typeform"


async def receive_webhook(settings: BackendSettings, db: Database, body: bytes,
                          signature: str | None) -> dict[str, Any]:
    """Store the application of a verified form_response webhook (once per event id)."""
    secret = settings.typeform_secret
    if secret is None or not settings.typeform_form_id:
        raise Unavailable("Typeform is not configured (NODERR_TYPEFORM_SECRET, "
                          "NODERR_TYPEFORM_FORM_ID)")
    if not signature_ok(secret.get_secret_value(), body, signature):
        log.warning("Typeform webhook with a missing or bad signature rejected")
        raise CredentialsRejected("missing or bad Typeform-Signature")
    event_id, response = parse_webhook(body, settings.typeform_form_id)
    try:
        data, answers = to_application(response.get("answers"), settings.typeform_fields)
    except TypeformError as error:
        raise InvalidApplication(str(error)) from None
    return await store_event(db, event_id, response["token"], data, answers)


async def store_event(db: Database, event_id: str, token: str, data: apps.ApplicationIn,
                      answers: dict[str, Any]) -> dict[str, Any]:
    async with db.transaction() as conn:
        fresh = await (await conn.execute(
            "INSERT INTO typeform_events (event_id, response_token) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING 1", (event_id, token))).fetchone()
        row = await apps.create(conn, data, source="typeform", actor=ACTOR,
                                typeform_token=token, answers=answers) if fresh else None
        if row is None:
            existing = await (await conn.execute(
                "SELECT id FROM applications WHERE typeform_token = %s", (token,))).fetchone()
            return {"status": "duplicate", "application": str(existing["id"]) if existing
                    else None}
    return {"status": "created", "application": str(row["id"])}


@dataclass
class BackfillResult:
    created: int = 0
    already: int = 0
    invalid: list[str] = field(default_factory=list)


async def backfill(settings: BackendSettings, db: Database, since: datetime | None = None,
                   until: datetime | None = None, page_size: int = 200) -> BackfillResult:
    """Create the applications of responses whose webhook never arrived (oldest first)."""
    result = BackfillResult()
    for item in reversed(await fetch_responses(settings, since, until, page_size)):
        try:
            data, answers = to_application(item.get("answers") or [], settings.typeform_fields)
        except TypeformError as error:
            result.invalid.append(f"{item.get('token')}: {error}")
            continue
        async with db.transaction() as conn:
            row = await apps.create(conn, data, source="typeform", actor=ACTOR + " backfill",
                                    typeform_token=item["token"], answers=answers)
        if row is None:
            result.already += 1
        else:
            result.created += 1
    return result
