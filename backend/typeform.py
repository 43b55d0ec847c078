"""Typeform: the signed webhook (`POST /webhooks/typeform`) and the Responses API backfill.

Answers are mapped to application fields by their field `ref` (NODERR_TYPEFORM_FIELDS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ValidationError

from backend import applications as apps
from backend.context import Backend, get_backend
from backend.database import Database
from backend.settings import BackendSettings

log = logging.getLogger("noderr.backend.typeform")
router = APIRouter(tags=["webhooks"])
ACTOR = "typeform"


class TypeformError(ValueError):
    """A Typeform payload or response that cannot become an application."""


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """`Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>`, constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + base64.b64encode(
        hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), header.encode())


def answer_value(answer: dict[str, Any]) -> Any:
    """The value of one answer, whatever its documented type."""
    kind = answer.get("type")
    if kind == "choice":
        choice = answer.get("choice") or {}
        return choice.get("label") or choice.get("other")
    if kind == "choices":
        choices = answer.get("choices") or {}
        return ", ".join([*choices.get("labels", []), *filter(None, [choices.get("other")])])
    if isinstance(kind, str) and kind in answer:
        return answer[kind]
    raise TypeformError(f"answer of unknown type {kind!r}")


def to_application(answers: Any, mapping: dict[str, str]) -> tuple[apps.ApplicationIn,
                                                                  dict[str, Any]]:
    """The application the answers describe, and every answer by ref (kept for reviewers)."""
    if not isinstance(answers, list):
        raise TypeformError("answers must be a list")
    by_ref: dict[str, Any] = {}
    for answer in answers:
        ref = (answer.get("field") or {}).get("ref") if isinstance(answer, dict) else None
        if not isinstance(ref, str):
            raise TypeformError("an answer has no field.ref")
        by_ref[ref] = answer_value(answer)
    values = {target: by_ref[ref] for ref, target in mapping.items() if ref in by_ref}
    try:
        return apps.ApplicationIn(**values), by_ref
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in error.errors())
        raise TypeformError(f"answers do not make an application: {problems}") from None


def parse_webhook(body: bytes, form_id: str | None) -> tuple[str, dict[str, Any]]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(400, "webhook body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("form_response"), dict):
        raise HTTPException(400, "webhook body has no form_response object")
    if payload.get("event_type") != "form_response":
        raise HTTPException(400, f"event_type {payload.get('event_type')!r} is not form_response")
    event_id, response = payload.get("event_id"), payload["form_response"]
    if not isinstance(event_id, str) or not event_id or not isinstance(response.get("token"), str):
        raise HTTPException(400, "webhook lacks event_id or form_response.token")
    if response.get("form_id") != form_id:
        raise HTTPException(400, f"form {response.get('form_id')!r} is not the configured "
                                 "applications form")
    return event_id, response


@router.post("/webhooks/typeform")
async def webhook(request: Request, backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    """Typeform's form_response webhook: verified, idempotent on event_id."""
    secret = backend.settings.typeform_secret
    if secret is None or not backend.settings.typeform_form_id:
        raise HTTPException(503, "Typeform is not configured (NODERR_TYPEFORM_SECRET, "
                                 "NODERR_TYPEFORM_FORM_ID)")
    body = await request.body()
    if not signature_ok(secret.get_secret_value(), body, request.headers.get(
            "typeform-signature")):
        log.warning("Typeform webhook with a missing or bad signature rejected")
        raise HTTPException(401, "missing or bad Typeform-Signature")
    event_id, response = parse_webhook(body, backend.settings.typeform_form_id)
    try:
        data, answers = to_application(response.get("answers"), backend.settings.typeform_fields)
    except TypeformError as error:
        raise HTTPException(422, str(error)) from None
    return await store_event(backend.db, event_id, response["token"], data, answers)


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


async def fetch_pages(settings: BackendSettings, since: datetime | None,
                      until: datetime | None, page_size: int = 200) -> list[dict[str, Any]]:
    """Every completed response of the form, newest first, paging with `before=<token>`."""
    if not (settings.typeform_token and settings.typeform_form_id):
        raise TypeformError("set NODERR_TYPEFORM_TOKEN and NODERR_TYPEFORM_FORM_ID to backfill")
    url = f"{settings.typeform_api_url.rstrip('/')}/forms/{settings.typeform_form_id}/responses"
    headers = {"Authorization": f"Bearer {settings.typeform_token.get_secret_value()}"}
    params: dict[str, Any] = {"page_size": page_size, "completed": "true"}
    params |= {key: value.strftime("%Y-%m-%dT%H:%M:%SZ") for key, value in
               (("since", since), ("until", until)) if value is not None}
    items: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        while True:
            page = await _get_page(client, url, params)
            items += page
            if len(page) < page_size:
                return items
            params["before"] = page[-1]["token"]


async def _get_page(client: httpx.AsyncClient, url: str,
                    params: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        response = await client.get(url, params=params)
    except httpx.HTTPError as error:
        raise TypeformError(f"Typeform API unreachable: {error}") from None
    if response.status_code != 200:
        raise TypeformError(f"Typeform API answered {response.status_code}: "
                            f"{response.text[:200]}")
    items = response.json().get("items")
    if not isinstance(items, list):
        raise TypeformError("Typeform API answer has no items list")
    return items


async def backfill(settings: BackendSettings, db: Database, since: datetime | None = None,
                   until: datetime | None = None, page_size: int = 200) -> BackfillResult:
    """Create the applications of responses whose webhook never arrived (oldest first)."""
    result = BackfillResult()
    for item in reversed(await fetch_pages(settings, since, until, page_size)):
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
