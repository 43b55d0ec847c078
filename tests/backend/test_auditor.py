"""The public auditor API and health endpoints, on a mirror built by the real indexer."""

from __future__ import annotations

import csv
import io

import pytest

from tests.backend.siwe_helpers import KEYS

A, B = KEYS[1].address, KEYS[2].address
HISTORY = ["Transfer", "Locked", "LicenseMinted", "LicenseSuspended", "LicenseReinstated",
           "Transfer", "LicenseRevoked"]


@pytest.fixture
def history(ops):
    """Oracle #2 to A (suspended, reinstated, revoked), Guardian #3 to B (#1 is the
    genesis validator's)."""
    first = ops.mint(A, 1)
    ops.mint(B, 2)
    ops.suspend(first)
    ops.send(ops.contract.functions.reinstate(first))
    ops.revoke(first)
    ops.index()
    return first


def test_events__filters_and_cursor_pagination(client, history):
    minted = client.get("/events", params={"event": "LicenseMinted"}).json()
    assert [e["args"]["token_id"] for e in minted["events"]] == ["1", "2", "3"]
    by_token = client.get("/events", params={"contract": "NodeLicense", "token_id": 2}).json()
    names = [e["event_name"] for e in by_token["events"] if e["event_name"].startswith("Lic")]
    assert names == ["LicenseMinted", "LicenseSuspended", "LicenseReinstated", "LicenseRevoked"]
    by_address = client.get("/events", params={"address": B.lower(),
                                                "event": "LicenseMinted"}).json()
    assert [e["args"]["owner"] for e in by_address["events"]] == [B.lower()]

    pages, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/events", params=params).json()
        pages += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = client.get("/events", params={"limit": 1000}).json()["events"]
    assert pages == everything and len(everything) > 3


def test_events__block_range(client, history):
    everything = client.get("/events").json()["events"]
    last = everything[-1]["block_number"]
    only_last = client.get("/events", params={"from_block": last, "to_block": last}).json()
    assert {e["block_number"] for e in only_last["events"]} == {last}


def test_events__csv_export(client, history):
    response = client.get("/events", params={"format": "csv", "event": "LicenseMinted"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["event_name"] for row in rows] == ["LicenseMinted"] * 3  # genesis, A, B
    assert '"owner"' in rows[0]["args"]


@pytest.mark.parametrize(("params", "status"), [
    ({"cursor": "!!!"}, 400), ({"limit": 0}, 422), ({"token_id": -1}, 422),
    ({"since": "yesterday"}, 422), ({"format": "xml"}, 422),
])
def test_events__bad_parameters__4xx(client, params, status):
    assert client.get("/events", params=params).status_code == status


def test_licenses__list_and_history(client, history):
    licenses = client.get("/licenses").json()
    assert [(item["token_id"], item["status"]) for item in licenses] == [
        (1, "active"), (2, "revoked"), (3, "active")]
    active = client.get("/licenses", params={"status": "active"}).json()
    assert [item["token_id"] for item in active] == [1, 3]
    one = client.get("/licenses/2").json()
    assert [h["event_name"] for h in one["history"]] == HISTORY
    assert client.get("/licenses/99").status_code == 404
    assert client.get(f"/licenses/{2**256}").status_code == 422


def test_governance__proposals_list(client, ops):
    ops.index()
    assert client.get("/governance/proposals").json() == []
    assert client.get("/governance/proposals", params={"state": "bogus"}).status_code == 422


def test_health__healthz_and_readyz(client, ops):
    assert client.get("/healthz").json() == {"status": "ok"}
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert "not run" in not_ready.json()["checks"]["indexer"]
    ops.index()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": "ok", "rpc": "ok", "indexer": "ok"}
    ops.mine(6)
    assert "6 blocks behind" in client.get("/readyz").json()["checks"]["indexer"]


def test_openapi_docs_served(client):
    assert client.get("/docs").status_code == 200
    assert "/auth/verify" in client.get("/openapi.json").json()["paths"]
