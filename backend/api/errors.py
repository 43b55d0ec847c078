"""The one place a service's refusal (backend/errors.py) becomes an HTTP answer, and the
answer to a request FastAPI cannot validate."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from backend.errors import (
    Conflict,
    CredentialsRejected,
    InvalidApplication,
    InvalidInput,
    NotAllowed,
    NotFound,
    NotSignedIn,
    Refused,
    TooLarge,
    Unavailable,
)

STATUS: dict[type[Refused], int] = {
    InvalidInput: 400, NotSignedIn: 401, CredentialsRejected: 401, NotAllowed: 403,
    NotFound: 404, Conflict: 409, TooLarge: 413, InvalidApplication: 422, Unavailable: 503}


def status_of(error: Refused) -> int:
    return next(STATUS[kind] for kind in type(error).__mro__ if kind in STATUS)


def headers_of(error: Refused) -> dict[str, str] | None:
    if isinstance(error, NotSignedIn):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, Unavailable) and error.retry_after is not None:
        return {"Retry-After": str(error.retry_after)}
    return None


def http_exception(error: Refused) -> HTTPException:
    """For code at the edge that answers with HTTPException (the vault's access checks)."""
    return HTTPException(status_of(error), error.message, headers=headers_of(error))


async def refused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Refused)
    return JSONResponse({"detail": error.message}, status_code=status_of(error),
                        headers=headers_of(error))


def validation_problem(problems: Sequence[tuple[Sequence[str | int], str]]) -> JSONResponse:
    """422 with every problem (where, what) in one readable `detail` line, and each under
    `errors`: the shape of every 422 the API sends."""
    lines = [f"{'.'.join(str(part) for part in loc)}: {msg}" for loc, msg in problems]
    return JSONResponse({"detail": "; ".join(lines) or "invalid request",
                         "errors": [{"loc": list(loc), "msg": msg} for loc, msg in problems]},
                        status_code=422)


async def invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return validation_problem([(item["loc"], item["msg"]) for item in error.errors()])


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(RequestValidationError, invalid_request)
