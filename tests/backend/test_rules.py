"""The backend's rules without a database or a chain: every refusal has its HTTP status, the
lag limit and the confirmations it must stay above, node types in applications, readiness."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from backend import errors
from backend.api.errors import headers_of, status_of
from backend.applications import ApplicationIn
from backend.readiness import indexer_check
from noderr_cli.main import app as noderr_cli

FORM = {"applicant_name": "Ada", "contact": "ada@example.org",
        "wallet_address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}


def test_every_refusal__has_an_http_status():
    kinds = [value for value in vars(errors).values()
             if isinstance(value, type) and issubclass(value, errors.Refused)
             and value is not errors.Refused]
    assert {kind.__name__: status_of(kind("why")) for kind in kinds} == {
        "InvalidInput": 400, "NotSignedIn": 401, "CredentialsRejected": 401, "NotAllowed": 403,
        "NotFound": 404, "Conflict": 409, "TooLarge": 413, "InvalidApplication": 422,
        "Unavailable": 503}


def test_refusal_headers__bearer_challenge_and_retry_after():
    assert headers_of(errors.NotSignedIn("x")) == {"WWW-Authenticate": "Bearer"}
    assert headers_of(errors.Unavailable("x", retry_after=2)) == {"Retry-After": "2"}
    assert headers_of(errors.Unavailable("x")) is None
    assert headers_of(errors.CredentialsRejected("x")) is None


def test_cli_api__confirmations_at_the_lag_limit__refuses_to_start(monkeypatch):
    monkeypatch.setenv("NODERR_INDEXER_CONFIRMATIONS", "5")
    monkeypatch.setenv("NODERR_MAX_LAG_BLOCKS", "5")
    result = CliRunner().invoke(noderr_cli, ["api", "--port", "1"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "NODERR_INDEXER_CONFIRMATIONS (5) must be below NODERR_MAX_LAG_BLOCKS (5)" in lines[0]
    assert "Noderr API on" not in result.output


@pytest.mark.parametrize(("given", "node_type"), [
    ("Oracle", 1), (" guardian ", 2), ("VALIDATOR", 3), (2, 2), ("3", 3)])
def test_application__node_type_by_name_or_code(given, node_type):
    assert ApplicationIn(**FORM, node_type=given).node_type == node_type


@pytest.mark.parametrize("given", ["Miner", 0, 4, "", True, 1.0, None])
def test_application__unknown_node_type__refused_with_the_choices(given):
    with pytest.raises(ValidationError,
                       match="node type must be one of Oracle, Guardian, Validator or 1-3"):
        ApplicationIn(**FORM, node_type=given)


def test_readiness__indexer_check():
    assert indexer_check(None, 10, 5) == "no checkpoint: the indexer has not run"
    assert indexer_check(3, None, 5) == "unknown lag: the chain does not answer"
    assert indexer_check(5, 10, 5) == "ok"
    assert indexer_check(4, 10, 5) == "6 blocks behind (limit 5)"
