"""Every way a backend call can fail, as one exception with a message fit to show a person
(never a traceback): the backend's own `detail`, FastAPI's 422 items as `field: message`, a
proxy's HTML error page as its reason phrase, a refused connection as "does not answer"."""

from __future__ import annotations

from typing import Any

import httpx

MAX_DETAIL_CHARS = 300


class BackendError(Exception):
    """The backend refused or could not answer: `status` is its HTTP status, 0 when it did not
    answer at all; `detail` is what it said, fit to show a person."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail

    @property
    def unreachable(self) -> bool:
        return self.status == 0

    def __str__(self) -> str:
        prefix = f"backend answered {self.status}: " if self.status else ""
        return prefix + self.detail


def refused(response: httpx.Response) -> BackendError:
    """The error a 4xx or 5xx answer stands for."""
    return BackendError(response.status_code, detail_of(response))


def unreachable(base_url: str, error: httpx.HTTPError) -> BackendError:
    """No answer at all: refused connection, timeout, broken transfer."""
    return BackendError(0, f"the backend at {base_url} does not answer "
                           f"({type(error).__name__}: {error})")


def unexpected(response: httpx.Response, error: ValueError) -> BackendError:
    """A success whose body is not what this client knows the endpoint to answer (a proxy's
    page, or a backend newer than this client)."""
    request = response.request
    return BackendError(response.status_code, f"unexpected answer to {request.method} "
                        f"{request.url.path}: {str(error).splitlines()[0][:MAX_DETAIL_CHARS]}")


def detail_of(response: httpx.Response) -> str:
    """The backend's `detail` (FastAPI's shape), else a short plain body, else the reason."""
    try:
        body = response.json()
    except ValueError:
        return _plain_text(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        return "; ".join(_validation_item(item) for item in detail)[:MAX_DETAIL_CHARS]
    return str(detail or body)[:MAX_DETAIL_CHARS]


def _validation_item(item: dict[str, Any]) -> str:
    """One of FastAPI's 422 items as `field: message` (the leading body/query dropped)."""
    location = [str(part) for part in item.get("loc") or []][1:]
    message = str(item.get("msg") or item)
    return f"{'.'.join(location)}: {message}" if location else message


def _plain_text(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text or "html" in response.headers.get("content-type", "") or text.startswith("<"):
        return response.reason_phrase
    return text.splitlines()[0][:MAX_DETAIL_CHARS]
