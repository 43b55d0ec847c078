"""A small HTTP client for the backend API; every failure becomes an `ApiError` with a
message fit to show a person (never a traceback)."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """The backend refused or could not answer; `status` is 0 when it did not answer at all."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def __str__(self) -> str:
        prefix = f"backend answered {self.status}: " if self.status else ""
        return prefix + self.message


def _detail(response: httpx.Response) -> str:
    """The backend's `detail` (FastAPI's shape), else a short plain body, else the reason."""
    try:
        body = response.json()
    except ValueError:
        return _plain_text(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        return "; ".join(_validation_item(item) for item in detail)[:300]
    return str(detail or body)[:300]


def _validation_item(item: dict[str, Any]) -> str:
    """One of FastAPI's 422 items as `field: message` (the leading body/query dropped)."""
    location = [str(part) for part in item.get("loc") or []][1:]
    message = str(item.get("msg") or item)
    return f"{'.'.join(location)}: {message}" if location else message


def _plain_text(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text or "html" in response.headers.get("content-type", "") or text.startswith("<"):
        return response.reason_phrase
    return text.splitlines()[0][:300]


class BackendClient:
    """The backend's endpoints the dashboard uses; `token` is the SIWE session (bearer)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                    transport=transport)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError(0, f"the backend at {self.base_url} does not answer "
                              f"({type(error).__name__}: {error})") from None
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        return self.request("GET", path, params=clean).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.request("POST", path, json=body)
        return response.json() if response.content else None

    # auth
    def nonce(self) -> str:
        return self.get("/auth/nonce")["nonce"]

    def verify(self, message: str, signature: str) -> dict[str, Any]:
        return self.post("/auth/verify", {"message": message, "signature": signature})

    def me(self) -> dict[str, Any]:
        return self.get("/auth/me")

    def logout(self) -> None:
        self.post("/auth/logout")

    # applications (admins)
    def applications(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/applications", **filters)

    def application(self, app_id: str) -> dict[str, Any]:
        return self.get(f"/applications/{app_id}")

    def approve(self, app_id: str, note: str) -> dict[str, Any]:
        return self.post(f"/applications/{app_id}/approve", {"note": note})

    def reject(self, app_id: str, note: str) -> dict[str, Any]:
        return self.post(f"/applications/{app_id}/reject", {"note": note})

    # auditor API (public)
    def events(self, **filters: Any) -> dict[str, Any]:
        return self.get("/events", **filters)

    def events_csv(self, **filters: Any) -> str:
        clean = {k: v for k, v in filters.items() if v is not None and v != ""}
        return self.request("GET", "/events", params={**clean, "format": "csv"}).text

    def licenses(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/licenses", **filters)

    def license(self, token_id: int) -> dict[str, Any]:
        return self.get(f"/licenses/{token_id}")

    def proposals(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/governance/proposals", **filters)

    def readiness(self) -> dict[str, Any]:
        """/readyz's body whether ready (200) or not (503)."""
        try:
            response = self._client.get("/readyz")
        except httpx.HTTPError as error:
            raise ApiError(0, f"the backend at {self.base_url} does not answer "
                              f"({type(error).__name__})") from None
        if response.status_code not in (200, 503):
            raise ApiError(response.status_code, _detail(response))
        return response.json()

    def vault_audit_export(self) -> tuple[str, str | None]:
        """GET /vault/audit/export (auditor roles only): the whole log as JSON lines, and its
        X-Vault-Audit-Head header (`SEQ:HASH` of the newest entry)."""
        response = self.request("GET", "/vault/audit/export")
        return response.text, response.headers.get("X-Vault-Audit-Head")

    def close(self) -> None:
        self._client.close()
