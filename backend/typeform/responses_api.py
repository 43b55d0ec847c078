"""The Typeform Responses API: every completed response of the form, for the backfill."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from backend.settings import BackendSettings
from backend.typeform.parsing import TypeformError


async def fetch_responses(settings: BackendSettings, since: datetime | None,
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
