"""Typeform payloads without I/O: the webhook's signature and envelope, and answers turned
into an application."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from pydantic import ValidationError

from backend.applications import ApplicationIn
from backend.errors import InvalidInput


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


def to_application(answers: Any, mapping: dict[str, str]) -> tuple[ApplicationIn,
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
        return ApplicationIn(**values), by_ref
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in error.errors())
        raise TypeformError(f"answers do not make an application: {problems}") from None


def parse_webhook(body: bytes, form_id: str | None) -> tuple[str, dict[str, Any]]:
    """The event id and form response of a form_response webhook of the applications form."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidInput("webhook body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("form_response"), dict):
        raise InvalidInput("webhook body has no form_response object")
    if payload.get("event_type") != "form_response":
        raise InvalidInput(f"event_type {payload.get('event_type')!r} is not form_response")
    event_id, response = payload.get("event_id"), payload["form_response"]
    if not isinstance(event_id, str) or not event_id or not isinstance(response.get("token"), str):
        raise InvalidInput("webhook lacks event_id or form_response.token")
    if response.get("form_id") != form_id:
        raise InvalidInput(f"form {response.get('form_id')!r} is not the configured "
                           "applications form")
    return event_id, response
