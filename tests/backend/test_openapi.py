"""The OpenAPI document describes what the server sends (the issue's list); Schemathesis
(test_schemathesis.py) then holds every answer to it."""

from __future__ import annotations

import pytest

from backend.api.app import create_app
from backend.api.deps import SESSION_COOKIE


@pytest.fixture
def document(settings, deployment, rpc_url) -> dict:
    """The app's document; no request is served, so nothing is opened."""
    return create_app(settings, deployment, "postgresql://unused", rpc_url).openapi()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def schema_of(document: dict, operation: dict, code: str, media: str = "application/json"):
    schema = operation["responses"][code]["content"][media]["schema"]
    name = schema.get("$ref", "").rpartition("/")[2]
    return document["components"]["schemas"][name] if name else schema


def test_every_422__declared_as_sent__detail_a_string_with_errors(document):
    for name, operation in operations(document):
        schema = schema_of(document, operation, "422")
        assert schema["properties"]["detail"]["type"] == "string", name
        assert schema["properties"]["errors"]["type"] == "array", name
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_refusals_every_operation_can_send__declared(document):
    for name, operation in operations(document):
        for code in ("400", "413", "422", "429"):
            assert code in operation["responses"], (name, code)
            assert schema_of(document, operation, code)["properties"]["detail"]["type"] \
                == "string"


@pytest.mark.parametrize(("operation", "codes"), [
    ("GET /auth/me", {"401", "403", "503"}),
    ("GET /applications/{app_id}", {"401", "403", "404", "503"}),
    ("POST /applications/{app_id}/approve", {"401", "403", "404", "409", "503"}),
    ("POST /applications/approve-batch", {"401", "403", "409", "503"}),
    ("POST /auth/verify", {"401"}),
    ("POST /webhooks/typeform", {"401", "503"}),
    ("GET /licenses/{token_id}", {"404"}),
    ("GET /readyz", {"503"}),
    ("GET /vault/licenses/{token_id}/secrets/{name}", {"401", "403", "404", "503"}),
    ("GET /nodes/me/watch", {"401", "503"}),
    ("POST /nodes/heartbeat", {"401", "403", "503"}),
    ("POST /nodes/executions", {"401", "403", "503"}),
    ("POST /trading/records", {"401", "403", "409", "503"}),
    ("GET /network/guard", {"404"}),
])
def test_route_refusals__declared(document, operation, codes):
    declared = dict(operations(document))[operation]["responses"]
    assert codes <= set(declared), set(declared)


def test_security_schemes__bearer_and_session_cookie__on_gated_operations_only(document):
    schemes = document["components"]["securitySchemes"]
    kinds = {(scheme["type"], scheme.get("scheme"), scheme.get("in"), scheme.get("name"))
             for scheme in schemes.values()}
    assert kinds == {("http", "bearer", None, None), ("apiKey", None, "cookie", SESSION_COOKIE)}
    gated = {name for name, operation in operations(document) if "security" in operation}
    assert {"GET /auth/me", "GET /nodes/validator/access", "GET /applications",
            "PUT /vault/licenses/{token_id}/secrets/{name}", "GET /vault/audit",
            "GET /nodes/me/watch", "POST /nodes/heartbeat", "POST /nodes/executions",
            "POST /trading/records"} <= gated
    assert not gated & {"GET /events", "GET /licenses", "GET /healthz", "GET /auth/nonce",
                        "POST /auth/verify", "POST /webhooks/typeform", "GET /network/functions",
                        "GET /network/nodes", "GET /network/executions", "GET /network/members",
                        "GET /network/guard", "GET /trading/positions", "GET /trading/orders",
                        "GET /trading/pnl"}


def test_non_json_answers__declared(document):
    ops = dict(operations(document))
    assert set(ops["GET /events"]["responses"]["200"]["content"]) \
        == {"application/json", "text/csv"}
    assert set(ops["GET /vault/audit/export"]["responses"]["200"]["content"]) \
        == {"application/x-ndjson"}
