"""Retention of the consensus messages on the real PostgreSQL: `noderr db prune` deletes the
messages recorded before the window, in batches, and nothing else (rounds stay); a dry run
deletes nothing; a second run deletes nothing new. The API prunes by itself, periodically,
one process at a time, and an error there is logged and tried again."""

from __future__ import annotations

import asyncio
import logging
import time

import psycopg
import pytest
from typer.testing import CliRunner

from backend import message_retention
from backend.periodic_prune import PeriodicPrune
from noderr.settings import get_settings
from noderr_cli.main import app

runner = CliRunner()


def fill(db, count: int, days_ago: float, first: int = 0) -> None:
    db.execute(
        "INSERT INTO consensus_messages (feed, round, view, phase, sender, signed_digest,"
        " signature, text, reporter, seen_at, recorded_at)"
        " SELECT 'SP500', g + 1, g + 1, 'prepare', '0xabc', int8send(g), '\\x00', 't', '0xdef',"
        " now(), now() - %s::float8 * interval '1 day'"
        " FROM generate_series(%s::int, %s::int) g", (days_ago, first, first + count - 1))


def remaining(db) -> dict[str, int]:
    return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("consensus_messages", "consensus_rounds")}


@pytest.fixture
def database(database_url, db, monkeypatch):
    """Recent and old messages (3 within the default 7 days, 5 older, 2 more than 30 days old)
    and a round; `noderr` pointed at the database."""
    fill(db, 3, 1)
    fill(db, 3, 8, first=10)
    fill(db, 2, 31, first=20)
    db.execute(
        "INSERT INTO consensus_rounds (feed, feed_address, round, reporter, view, leader,"
        " answer, observed_at, signers, status, decided_at) VALUES ('SP500', '0x01', 1,"
        " '0xdef', 1, '0xdef', 1, 1, '{}', 'agreed', now() - interval '40 days')")
    monkeypatch.setenv("NODERR_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def prune(*args: str) -> str:
    result = runner.invoke(app, ["db", "prune", "--no-progress", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_prune__dry_run__counts_deletes_nothing(database):
    assert "would delete 5 consensus messages" in prune("--dry-run")
    assert remaining(database) == {"consensus_messages": 8, "consensus_rounds": 1}


def test_prune__default_window__old_messages_gone_rounds_stay_idempotent(database):
    assert "deleted 5 consensus messages" in prune()
    assert "(older than 7 days)" in prune()
    assert "deleted 0 consensus messages" in prune()
    assert remaining(database) == {"consensus_messages": 3, "consensus_rounds": 1}


def test_prune__days_from_option_or_setting(database, monkeypatch):
    monkeypatch.setenv("NODERR_CONSENSUS_RETENTION_DAYS", "30")
    assert "deleted 2 consensus messages" in prune()
    assert "deleted 3 consensus messages" in prune("--consensus-older-than", "2")
    assert remaining(database)["consensus_messages"] == 3


def test_prune__in_batches__each_reported(database):
    batches: list[int] = []
    before = message_retention.cutoff(database, 7)
    assert message_retention.prune(database, before, batches.append, batch=2) == 5
    assert batches == [2, 2, 1]


def test_prune__no_database__one_line_exit_1(monkeypatch):
    monkeypatch.setenv("NODERR_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "prune"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "error: cannot connect to the database" in result.output


def wait_for_messages(db, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while remaining(db)["consensus_messages"] != count:
        assert time.monotonic() < deadline, f"still {remaining(db)} after {timeout} s"
        time.sleep(0.05)


def test_api__running__prunes_by_itself_every_period_recent_messages_and_rounds_stay(
        database, make_client, monkeypatch):
    monkeypatch.setenv("NODERR_CONSENSUS_PRUNE_EVERY_S", "0.2")
    client = make_client()
    wait_for_messages(database, 3)
    fill(database, 4, 9, first=30)

    wait_for_messages(database, 3)
    assert client.get("/healthz").status_code == 200
    assert remaining(database) == {"consensus_messages": 3, "consensus_rounds": 1}


def test_prune_exclusively__another_process_pruning__skips_deletes_nothing(database,
                                                                          database_url):
    database.execute(f"SELECT pg_advisory_lock({message_retention.PRUNE_LOCK})")
    with psycopg.connect(database_url, autocommit=True) as worker:
        assert message_retention.prune_exclusively(worker, 7) is None
        assert remaining(database)["consensus_messages"] == 8

        database.execute(f"SELECT pg_advisory_unlock({message_retention.PRUNE_LOCK})")
        assert message_retention.prune_exclusively(worker, 7)[1] == 5
        assert message_retention.prune_exclusively(worker, 7)[1] == 0


def test_periodic_prune__database_away__logged_and_tried_again_each_period(caplog):
    pruning = PeriodicPrune("postgresql://nobody@127.0.0.1:1/none", 0.01, 7)

    async def two_failures() -> None:
        pruning.start()
        while len(caplog.records) < 2:
            await asyncio.sleep(0.01)
        await pruning.stop()

    with caplog.at_level(logging.ERROR, "noderr.backend.retention"):
        asyncio.run(asyncio.wait_for(two_failures(), 20))
    assert all(record.getMessage().startswith("consensus message prune failed (")
               for record in caplog.records)


def test_periodic_prune__every_0__never_runs():
    pruning = PeriodicPrune("postgresql://nobody@127.0.0.1:1/none", 0, 7)

    async def started() -> None:
        pruning.start()
        await pruning.stop()

    asyncio.run(started())
    assert pruning.task is None
