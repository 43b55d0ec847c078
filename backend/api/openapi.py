"""The OpenAPI document says what the server sends, so a client generated from it works (and
Schemathesis, tests/backend/test_schemathesis.py, holds the server to it).

Routes declare their own refusals with `signed_in(...)` or `problems(...)`; `install` adds
what every operation can answer (400 bad Content-Length, 413 body too large, 422 invalid or
NUL-bearing input, 429 rate limited), the one 422 shape, and the security schemes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from backend.api.deps import SESSION_COOKIE


class Problem(BaseModel):
    """Every refusal other than a 422."""

    detail: str = Field(description="Why, safe to show the caller.")


class ProblemItem(BaseModel):
    loc: list[str | int] = Field(description="Where: query, path, header, cookie or body, "
                                             "then the field.")
    msg: str


class ValidationProblem(BaseModel):
    """Every 422: the problems in one line, and each under `errors` when the input failed
    validation."""

    detail: str = Field(description="Every problem in one readable line.")
    errors: list[ProblemItem] = Field(default_factory=list)


REASONS = {
    400: "Malformed input (bad Content-Length header, cursor, signature, webhook body).",
    401: "No live session, or credentials rejected.",
    403: "Signed in, but this caller may not do this.",
    404: "Not found.",
    409: "Not possible in the current state.",
    413: "Request body or input over its size limit.",
    422: "Invalid input (with each problem under `errors`).",
    429: "Too many requests from this client; retry after `Retry-After` seconds.",
    503: "A dependency cannot serve this now (the mirror lags, the chain or the vault's "
         "audit log is unavailable); retry after `Retry-After` seconds when given.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds after which trying again is worthwhile.",
                               "schema": {"type": "integer"}}}
HEADERS = {401: {"WWW-Authenticate": {"description": "Bearer (when no session was presented).",
                                      "schema": {"type": "string"}}},
           429: RETRY_AFTER, 503: RETRY_AFTER}
EVERY_OPERATION = (400, 413, 422, 429)
BEARER, COOKIE = "bearerToken", "sessionCookie"
SECURITY_SCHEMES = {
    BEARER: {"type": "http", "scheme": "bearer",
             "description": "The `token` from POST /auth/verify."},
    COOKIE: {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
             "description": "The session cookie POST /auth/verify sets."},
}
SESSION = [{BEARER: []}, {COOKIE: []}]
"""Either the bearer token or the session cookie."""


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for refusals with a `{"detail": ...}` body."""
    return {code: {"model": Problem, "description": REASONS[code],
                   **({"headers": HEADERS[code]} if code in HEADERS else {})} for code in codes}


def signed_in(*codes: int, ok: dict[str, Any] | None = None) -> dict[str, Any]:
    """Route keyword arguments of an operation that needs a session: its security, and its
    refusals (401, 403, 503 when the mirror lags, and `codes`); `ok` describes its 200 when
    that is not JSON."""
    responses = problems(401, 403, 503, *codes)
    if ok is not None:
        responses[200] = ok
    return {"responses": responses, "openapi_extra": {"security": SESSION}}


def install(app: FastAPI) -> None:
    """Build the app's document once, on first request, with the common answers added."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _, definitions = models_json_schema(
        [(Problem, "validation"), (ValidationProblem, "validation")],
        ref_template="#/components/schemas/{model}")
    schemas.update(definitions["$defs"])
    components["securitySchemes"] = SECURITY_SCHEMES
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in EVERY_OPERATION:
                responses[str(code)] = _problem_response(code)
    return document


def _problem_response(code: int) -> dict[str, Any]:
    model = ValidationProblem if code == 422 else Problem
    response = {"description": REASONS[code], "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
    return {**response, "headers": HEADERS[code]} if code in HEADERS else response
