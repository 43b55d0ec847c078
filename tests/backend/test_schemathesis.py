"""Schemathesis against the live app (real anvil, real PostgreSQL): for every operation of the
app's own OpenAPI document, generated valid and invalid requests, signed out and signed in as
an admin; each answer must be no 5xx and must match the document (status code, content type,
body schema).

The requests go through the test's TestClient, whose event loop holds the app's database pool
(Schemathesis's own ASGI client would run a second loop). Examples are bounded per operation
and mode so the whole run stays around a minute."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation

from tests.backend.helpers import bearer, sign_in

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 6
"""Per operation, per generation mode, per caller."""
RUN = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def send(client: TestClient, case: Case, headers: dict[str, str]) -> Any:
    """The case as Schemathesis would send it (requests-style arguments), through httpx."""
    request = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    sent_headers = dict(request.get("headers") or {})
    if request.get("cookies"):
        sent_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in request["cookies"].items())
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    elif "data" in request:
        data = request["data"]
        body["content" if isinstance(data, bytes | str) else "data"] = data
    return client.request(request["method"], request["url"], params=request.get("params"),
                          headers=sent_headers, **body)


def failures_of(client: TestClient, operation: APIOperation, mode: GenerationMode,
                headers: dict[str, str]) -> list[str]:
    @RUN
    @given(case=operation.as_strategy(generation_mode=mode))
    def conforms(case: Case) -> None:
        case.validate_response(send(client, case, headers), checks=CHECKS)

    try:
        conforms()
    except Unsatisfiable:  # nothing to make invalid: an operation without input
        return []
    except (Exception, BaseExceptionGroup) as failure:
        return [f"{operation.method.upper()} {operation.path} ({mode.value}): {failure}"]
    return []


def every_failure(client: TestClient, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    return [failure for result in schema.get_all_operations()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for failure in failures_of(client, result.ok(), mode, headers)]


def test_every_operation__signed_out_and_as_admin__answers_as_documented(client, ops):
    ops.index()
    failures = every_failure(client, {}) + every_failure(client, bearer(sign_in(client, 0)))
    assert not failures, "\n\n".join(failures)
