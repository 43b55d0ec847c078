"""The audit log's group commit against the real database: concurrent appends are chained in
batches that verify, and a batch that cannot be written fails every one of its callers."""

from __future__ import annotations

import asyncio

import pytest

from backend.database import Database
from backend.vault import audit
from backend.vault.audit import AuditUnavailable, Event
from tests.vault.helpers import CREDENTIALS, MARKER, OPERATOR_INDEX, audit_rows, noderr

CONCURRENT = 200


def events(count: int) -> list[Event]:
    return [Event(f"0x{n:040x}", "read", "ok", f"req-{n}", n % 7 or None, f"name-{n}",
                  f"version {n}") for n in range(count)]


async def append_concurrently(url: str, batch: list[Event]) -> list[int | BaseException]:
    async with Database(url, size=4) as db:
        return await asyncio.gather(*(audit.record(db, event) for event in batch),
                                    return_exceptions=True)


def test_concurrent_appends__batched__chain_verifies(database_url, db, cli_env):
    batch = events(CONCURRENT)
    seqs = asyncio.run(append_concurrently(database_url, batch))
    assert sorted(seqs) == list(range(1, CONCURRENT + 1))
    rows = audit_rows(db)
    by_request = {row["request_id"]: row for row in rows}
    assert all(by_request[event.request_id]["seq"] == seq for event, seq in zip(batch, seqs,
                                                                                strict=True))
    verdict = audit.verify(rows, db.execute("SELECT seq, hash FROM vault_audit_head").fetchone())
    assert verdict.intact and verdict.entries == CONCURRENT, verdict.reason
    batches = len({row["at"] for row in rows})
    assert batches < CONCURRENT / 4, f"{batches} commits for {CONCURRENT} entries"
    code, output = noderr("vault", "verify-audit")
    assert code == 0 and f"{CONCURRENT} entries" in output, output


def test_failing_flush__every_waiter_fails__nothing_written(database_url, db):
    db.execute("ALTER FUNCTION vault_audit_append_batch(text[], numeric[], text[], text[],"
               " text[], text[], text[]) RENAME TO vault_audit_append_batch_gone")
    outcomes = asyncio.run(append_concurrently(database_url, events(50)))
    assert all(isinstance(outcome, AuditUnavailable) for outcome in outcomes), outcomes
    assert audit_rows(db) == []
    assert db.execute("SELECT seq FROM vault_audit_head").fetchone() == (0,)


@pytest.fixture
def batch_breaks(db):
    """From the call on, every group commit fails (the audit function is gone)."""
    return lambda: db.execute("ALTER FUNCTION vault_audit_append_batch(text[], numeric[],"
                              " text[], text[], text[], text[], text[])"
                              " RENAME TO vault_audit_append_batch_gone")


def test_failing_flush__read_refused__value_not_returned(api, db, batch_breaks):
    token = api.license(OPERATOR_INDEX)
    assert api.put(OPERATOR_INDEX, token, "binance", CREDENTIALS).status_code == 200
    batch_breaks()
    read = api.get(OPERATOR_INDEX, token, "binance")
    assert read.status_code == 503 and "audit log unavailable" in read.json()["detail"]
    assert MARKER not in read.text
    assert [row["action"] for row in audit_rows(db)] == ["write"]
