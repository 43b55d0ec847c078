"""`GET /metrics` of the real API app (real Postgres, anvil and indexer): each request counted
by route template, method, status and gated, and timed; the emergency halt and the nodes by
status as the mirror shows them at the scrape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from noderr.halt_report import GUARD_CONTRACT
from tests.backend.helpers import bearer, sample, sign_in
from tests.backend.siwe_helpers import KEYS
from tests.backend.test_network import beat
from tests.backend.test_trading import GUARDIANS, halt

ORACLE, GUARDIAN = 1, 2
OPERATOR = KEYS[1].address
GATED = "/nodes/oracle/access"


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def requests(client: TestClient, route: str, status: int, gated: str, method: str = "GET"
             ) -> float:
    return sample(scrape(client), "noderr_api_requests_total", route=route, method=method,
                  status=str(status), gated=gated) or 0.0


def test_requests__gated_route_mirror_lagging__503_counted_as_gated(client, ops):
    headers = bearer(sign_in(client, 1))
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    ops.mine(6)  # NODERR_MAX_LAG_BLOCKS is 5
    before = requests(client, GATED, 503, "true")
    assert client.get(GATED, headers=headers).status_code == 503
    assert requests(client, GATED, 503, "true") == before + 1


def test_requests__gated_route_without_license__403_counted_as_gated(client, ops):
    headers = bearer(sign_in(client, 1))
    ops.index()
    before = requests(client, GATED, 403, "true")
    assert client.get(GATED, headers=headers).status_code == 403
    assert requests(client, GATED, 403, "true") == before + 1


def test_requests__path_parameters__counted_under_the_route_template(client, ops):
    ops.index()
    before = requests(client, "/licenses/{token_id}", 404, "false")
    assert client.get("/licenses/424242").status_code == 404
    assert client.get("/licenses/434343").status_code == 404
    assert requests(client, "/licenses/{token_id}", 404, "false") == before + 2


def test_requests__no_route_matches__one_unmatched_label(client):
    before = requests(client, "unmatched", 404, "false")
    assert client.get("/no/such/path/8f3a").status_code == 404
    text = scrape(client)
    assert sample(text, "noderr_api_requests_total", route="unmatched", method="GET",
                  status="404", gated="false") == before + 1
    assert "/no/such/path/8f3a" not in text


def test_requests__body_over_the_limit__413_counted(make_client, settings):
    small = make_client(settings.model_copy(update={"max_body_bytes": 16}))
    before = requests(small, "unmatched", 413, "false", method="POST")
    assert small.post("/applications", content=b"x" * 64,
                      headers={"content-type": "application/json"}).status_code == 413
    assert requests(small, "unmatched", 413, "false", method="POST") == before + 1


def test_latency__each_request__observed_in_its_route_histogram(client):
    def observed() -> float:
        return sample(scrape(client), "noderr_api_request_duration_seconds_count",
                      route="/healthz", gated="false") or 0.0

    before = observed()
    client.get("/healthz")
    assert observed() == before + 1


def test_halted__quorum_halt_indexed__1_then_0_once_resumed(client, ops, w3, deployment):
    record = deployment.contracts[GUARD_CONTRACT]
    guard = w3.eth.contract(address=record.address, abi=record.abi)
    for key in GUARDIANS:
        ops.mint(key.address, GUARDIAN)
    ops.index()
    assert sample(scrape(client), "noderr_trading_halted") == 0
    halt(ops, guard, GUARDIANS[:2], "drawdown 25% over limit 20%")
    ops.index()
    assert sample(scrape(client), "noderr_trading_halted") == 1
    ops.govern(guard.functions.resume())
    ops.index()
    assert sample(scrape(client), "noderr_trading_halted") == 0


def test_nodes__heartbeat_goes_silent__counted_stale_not_active(client, ops, db):
    headers = bearer(sign_in(client, 1))
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    assert beat(client, headers, token_id).status_code == 200

    def nodes(status: str) -> float | None:
        return sample(scrape(client), "noderr_network_nodes", node_type="Oracle", status=status)

    assert (nodes("active"), nodes("stale")) == (1, 0)
    db.execute("UPDATE node_health SET last_heartbeat = now() - interval '31 seconds'")
    assert (nodes("active"), nodes("stale")) == (0, 1)
    assert sample(scrape(client), "noderr_network_nodes", node_type="Validator",
                  status="stale") == 0
