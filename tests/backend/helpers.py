"""Helpers shared by the backend tests (constants, SIWE sign-in, the mirror)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from backend.caller_cache import CallerCache
from tests.backend.siwe_helpers import KEYS, sign, siwe_text

TYPEFORM_SECRET = "test-webhook-secret"  # noqa: S105 - test value
TYPEFORM_TOKEN = "tfp_test_token"  # noqa: S105 - test value
ADMIN = KEYS[0].address  # anvil #0: MINTER, REVOKER and PAUSER in tests (the timelock is admin)


def sign_in(client: TestClient, key_index: int = 0) -> str:
    """SIWE sign-in as anvil account `key_index`; the bearer token (the cookie is set too)."""
    nonce = client.get("/auth/nonce").json()["nonce"]
    text = siwe_text(KEYS[key_index].address, nonce)
    response = client.post("/auth/verify", json={"message": text,
                                                 "signature": sign(text, key_index)})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def wait_listening(cache: CallerCache, timeout: float = 10.0) -> None:
    """Return once the caller cache is on (in production it is on long before requests)."""
    deadline = time.monotonic() + timeout
    while not cache.listening:
        if time.monotonic() > deadline:
            raise TimeoutError("the caller cache did not start listening")
        await asyncio.sleep(0.01)


def fixture_path(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / name


GENEROUS_RATE_LIMIT_ENV = {f"NODERR_RATE_LIMIT_{rule.upper()}": "100000/minute"
                           for rule in ("sign_in", "applications", "public", "anonymous")}
"""The same generous limits for services started as processes (dashboard and node stacks):
their tests sign in and read from one address far faster than a person would."""


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` with exactly `labels` in Prometheus text, else None."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None
