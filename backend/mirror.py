"""The read side of the indexer <-> backend contract: every query the backend runs against the
indexer's tables (indexer_checkpoints, licenses, role_members, chain_events, proposals) is
here, and nowhere else (joins with the backend's own tables included). The other side is
indexer/schema.py, which defines those tables; a change to a projection table touches these
two files.

A deployment's rows are selected by its `key` ({"chain_id": ..., "license": NodeLicense's
address in lowercase}, `Backend.mirror_key`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from backend.database import Database

Row = dict[str, Any]
Key = dict[str, object]

CALLER_SQL = """
SELECT s.address, s.token_hash, s.expires_at,
  (SELECT block_number FROM indexer_checkpoints WHERE chain_id = %(chain_id)s) AS indexed_block,
  (SELECT coalesce(json_agg(json_build_object(
       'token_id', l.token_id, 'node_type', l.node_type, 'status', l.status,
       'application_id', l.application_id, 'minted_block', l.minted_block)
       ORDER BY l.node_type), '[]')
     FROM licenses l WHERE l.chain_id = %(chain_id)s AND l.contract_address = %(license)s
       AND l.owner = lower(s.address) AND l.status = 'active') AS licenses,
  (SELECT coalesce(json_agg(coalesce(r.role_name, r.role) ORDER BY r.role_name), '[]')
     FROM role_members r WHERE r.chain_id = %(chain_id)s AND r.contract_address = %(license)s
       AND r.account = lower(s.address)) AS roles
FROM sessions s
WHERE s.token_hash = %(token_hash)s AND s.revoked_at IS NULL AND s.expires_at > now()
"""
"""One round trip: the live session, the mirror's checkpoint, the session's address's active
licenses and NodeLicense roles (the largest cost of a license-gated request)."""


async def caller(db: Database, key: Key, token_hash: bytes) -> Row | None:
    """The session of `token_hash` with what its address holds, or None (no live session)."""
    return await db.fetch_one(CALLER_SQL, {**key, "token_hash": token_hash})


async def indexed_block(conn: psycopg.AsyncConnection[Any], chain_id: int) -> int | None:
    """The last block the indexer has committed for this chain (None before its first run)."""
    cursor = conn.cursor(row_factory=tuple_row)
    await cursor.execute("SELECT block_number FROM indexer_checkpoints WHERE chain_id = %s",
                         (chain_id,))
    row = await cursor.fetchone()
    return None if row is None else int(row[0])


LICENSE_MINTED = sql.SQL(
    "SELECT e.args->>'application_id' AS application_id, e.args->>'token_id' AS token_id, "
    "e.args->>'actor' AS actor, e.tx_hash FROM chain_events e "
    "WHERE e.chain_id = %(chain_id)s AND e.contract_name = 'NodeLicense' "
    "AND e.contract_address = %(license)s AND e.event_name = 'LicenseMinted'")
"""Every LicenseMinted the indexer has seen (a subquery: parameters `chain_id`, `license`)."""


EVENT_COLUMNS = ("block_number", "block_timestamp", "tx_hash", "log_index", "contract_name",
                 "contract_address", "event_name", "args")
EVENT_FILTERS = {
    "contract": "(contract_name = %(contract)s OR contract_address = lower(%(contract)s))",
    "event": "event_name = %(event)s",
    "token_id": "coalesce(args->>'token_id', args->>'tokenId') = %(token_id)s::text",
    "address": "args @? %(address)s::jsonpath",
    "from_block": "block_number >= %(from_block)s",
    "to_block": "block_number <= %(to_block)s",
    "since": "block_timestamp >= %(since)s",
    "until": "block_timestamp <= %(until)s",
}


def argument_equals(value: str) -> str:
    """A jsonpath true for `args` with a top-level argument equal to `value`: strict, so
    arrays are not unwrapped, and written as an operator (`@?`) so the GIN index on args
    answers it instead of a scan of every event."""
    return f"strict $.* ? (@ == {json.dumps(value)})"


async def events(db: Database, chain_id: int, filters: dict[str, Any],
                 after: tuple[int, int] | None, limit: int) -> list[Row]:
    """Up to `limit` decoded events of the chain, oldest first, after the (block, log index)
    position `after`; `filters` by EVENT_FILTERS name, None values ignored."""
    given = {name: value for name, value in filters.items() if value is not None}
    if "address" in given:
        given["address"] = argument_equals(given["address"].lower())
    clauses = [sql.SQL("chain_id = %(chain_id)s"),
               *(sql.SQL(EVENT_FILTERS[name]) for name in EVENT_FILTERS if name in given)]
    params: dict[str, Any] = {**given, "chain_id": chain_id, "limit": limit}
    if after is not None:
        params["after_block"], params["after_log"] = after
        clauses.append(sql.SQL("(block_number, log_index) > (%(after_block)s, %(after_log)s)"))
    query = sql.SQL("SELECT {} FROM chain_events WHERE {} ORDER BY block_number, log_index "
                    "LIMIT %(limit)s").format(
        sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS)), sql.SQL(" AND ").join(clauses))
    return await db.fetch(query, params)


LICENSE_COLUMNS = sql.SQL("token_id, owner, node_type, status, status_reason, application_id, "
                          "minted_block, minted_tx, last_change_block")


async def licenses(db: Database, key: Key, owner: str | None, node_type: int | None,
                   status: str | None, after: int, limit: int) -> list[Row]:
    """Licenses (revoked ones too) by token id after `after`, filtered."""
    query = sql.SQL(
        "SELECT {} FROM licenses WHERE chain_id = %(chain_id)s AND contract_address = "
        "%(license)s AND (%(owner)s::text IS NULL OR owner = lower(%(owner)s)) AND "
        "(%(node_type)s::int IS NULL OR node_type = %(node_type)s) AND "
        "(%(status)s::text IS NULL OR status = %(status)s) AND token_id > %(after)s "
        "ORDER BY token_id LIMIT %(limit)s").format(LICENSE_COLUMNS)
    return await db.fetch(query, {**key, "owner": owner, "node_type": node_type,
                                  "status": status, "after": Decimal(after), "limit": limit})


async def license_with_history(db: Database, key: Key, token_id: int) -> Row | None:
    """One license and, under `history`, every event of the contract naming its token id."""
    params = {**key, "token_id": str(token_id)}
    row = await db.fetch_one(sql.SQL(
        "SELECT {} FROM licenses WHERE chain_id = %(chain_id)s AND contract_address = "
        "%(license)s AND token_id = %(token_id)s::numeric").format(LICENSE_COLUMNS), params)
    if row is None:
        return None
    history = await db.fetch(
        "SELECT block_number, block_timestamp, tx_hash, log_index, event_name, args "
        "FROM chain_events WHERE chain_id = %(chain_id)s AND contract_address = %(license)s "
        "AND coalesce(args->>'token_id', args->>'tokenId') = %(token_id)s "
        "ORDER BY block_number, log_index", params)
    return {**row, "history": history}


async def proposals(db: Database, chain_id: int, state: str | None, limit: int,
                    offset: int) -> list[Row]:
    """Governance proposals with their tallies, newest first."""
    return await db.fetch(
        "SELECT proposal_id, proposer, targets, \"values\", calldatas, description, state, "
        "snapshot, deadline, eta, votes_for, votes_against, votes_abstain, created_block, "
        "last_change_block FROM proposals WHERE chain_id = %(chain_id)s AND "
        "(%(state)s::text IS NULL OR state = %(state)s) ORDER BY created_block DESC "
        "LIMIT %(limit)s OFFSET %(offset)s",
        {"chain_id": chain_id, "state": state, "limit": limit, "offset": offset})


async def license_state(conn: psycopg.AsyncConnection[Any], chain_id: int, contract: str,
                        token_id: int) -> Row | None:
    """Owner, status and node type of one license (the vault's check of a token id)."""
    cursor = await conn.execute(
        "SELECT owner, status, node_type FROM licenses WHERE chain_id = %s"
        " AND contract_address = %s AND token_id = %s", (chain_id, contract.lower(), token_id))
    return await cursor.fetchone()


FINAL_CHANGE = sql.SQL(
    "l.last_change_block <= (SELECT c.block_number FROM indexer_checkpoints c"
    " WHERE c.chain_id = l.chain_id) - %(depth)s")
"""A license's last change lies at least `depth` blocks below the indexed block (a reorg no
deeper than `depth` cannot undo it); false before the indexer's first checkpoint."""


async def stale_vault_keys(conn: psycopg.AsyncConnection[Any], chain_id: int,
                           contract: str, depth: int) -> list[Row]:
    """Vault data keys whose license the mirror shows revoked or owned by someone else now,
    by a change at least `depth` blocks deep."""
    cursor = await conn.execute(sql.SQL(
        "SELECT k.id, k.token_id, k.owner, l.owner AS license_owner, l.status"
        " FROM vault_data_keys k JOIN licenses l ON l.chain_id = k.chain_id"
        " AND l.contract_address = k.contract_address AND l.token_id = k.token_id"
        " WHERE k.chain_id = %(chain_id)s AND k.contract_address = %(contract)s"
        " AND (l.status = 'revoked' OR l.owner <> k.owner) AND {} ORDER BY k.id"
    ).format(FINAL_CHANGE), {"chain_id": chain_id, "contract": contract.lower(), "depth": depth})
    return await cursor.fetchall()


async def license_change_final(conn: psycopg.AsyncConnection[Any], chain_id: int,
                               contract: str, token_id: int, depth: int) -> bool:
    """Whether the license's last change (a transfer, a revocation) is `depth` blocks deep."""
    cursor = await conn.execute(sql.SQL(
        "SELECT {} AS final FROM licenses l WHERE l.chain_id = %(chain_id)s"
        " AND l.contract_address = %(contract)s AND l.token_id = %(token_id)s"
    ).format(FINAL_CHANGE), {"chain_id": chain_id, "contract": contract.lower(),
                             "token_id": token_id, "depth": depth})
    row = await cursor.fetchone()
    return bool(row and row["final"])


HELD_LICENSES_SQL = """
SELECT (SELECT block_number FROM indexer_checkpoints WHERE chain_id = %(chain_id)s)
         AS indexed_block,
       (SELECT coalesce(json_agg(json_build_object(
            'token_id', l.token_id, 'node_type', l.node_type, 'status', l.status)
            ORDER BY l.node_type, l.token_id), '[]')
          FROM licenses l WHERE l.chain_id = %(chain_id)s AND l.contract_address = %(license)s
            AND l.owner = lower(%(address)s) AND l.status <> 'revoked') AS licenses
"""
"""One statement, so the licenses are those of the indexed block it reports."""


async def held_licenses(db: Database, key: Key, address: str) -> Row:
    """The indexed block and every license `address` holds at it, suspended ones too (a
    revoked license is burned; one reassigned away is someone else's)."""
    return (await db.fetch(HELD_LICENSES_SQL, {**key, "address": address}))[0]


ACTIVE_MEMBERS_SQL = """
SELECT (SELECT block_number FROM indexer_checkpoints WHERE chain_id = %(chain_id)s)
         AS indexed_block,
       (SELECT coalesce(json_agg(json_build_object(
            'address', l.owner, 'node_type', l.node_type, 'token_id', l.token_id)
            ORDER BY l.owner, l.node_type), '[]')
          FROM licenses l WHERE l.chain_id = %(chain_id)s AND l.contract_address = %(license)s
            AND l.status = 'active') AS members
"""


async def active_members(db: Database, key: Key) -> Row:
    """The indexed block and every active license at it, by owner."""
    return (await db.fetch(ACTIVE_MEMBERS_SQL, key))[0]


async def node_health(db: Database, key: Key, stale_after: float) -> list[Row]:
    """Every node's last heartbeat (node_health), with whether its address still owns its
    license in the mirror (`owned`), that license's status, and whether the heartbeat is
    older than `stale_after` seconds by the database's clock (`stale`)."""
    return await db.fetch(
        "SELECT h.address, h.node_type, h.token_id, h.state, h.software_version,"
        " h.started_at, h.last_heartbeat,"
        " h.last_heartbeat < now() - make_interval(secs => %(stale_after)s) AS stale,"
        " coalesce(l.owner = h.address AND l.status <> 'revoked', false) AS owned,"
        " l.status AS license_status"
        " FROM node_health h LEFT JOIN licenses l ON l.chain_id = %(chain_id)s"
        " AND l.contract_address = %(license)s AND l.token_id = h.token_id"
        " ORDER BY h.address, h.node_type, h.token_id",
        {**key, "stale_after": stale_after})


GUARD_STATE_SQL = """
SELECT (SELECT block_number FROM indexer_checkpoints WHERE chain_id = %(chain_id)s)
         AS indexed_block,
       e.event_name, e.args, e.block_number, e.block_timestamp
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
    SELECT event_name, args, block_number, block_timestamp FROM chain_events
     WHERE chain_id = %(chain_id)s AND contract_address = %(guard)s
       AND event_name IN ('Halted', 'Resumed')
     ORDER BY block_number DESC, log_index DESC LIMIT 1) AS e ON true
"""
"""One statement, so the last halt or resume is that of the indexed block it reports."""


async def guard_state(db: Database, chain_id: int, guard: str) -> Row:
    """The indexed block and NodeGuard's last `Halted` or `Resumed` at it (`event_name` None
    when it has neither)."""
    return (await db.fetch(GUARD_STATE_SQL, {"chain_id": chain_id, "guard": guard.lower()}))[0]


ROUND_FILTERS = {
    "feed": "r.feed = %(feed)s",
    "leader": "r.leader = %(leader)s",
    "from_round": "r.round >= %(from_round)s",
    "to_round": "r.round <= %(to_round)s",
}
ROUND_STATUS = {
    "transmitted": "t.tx_hash IS NOT NULL",
    "agreed": "t.tx_hash IS NULL AND r.status <> 'failed'",
    "failed": "t.tx_hash IS NULL AND r.status = 'failed'",
}
"""A round's status is the chain's word when its Transmitted event is indexed (backend/rounds)."""
ROUNDS_SQL = """
SELECT r.id, r.feed, r.feed_address, r.round, r.reporter, r.view, r.leader, r.answer,
       r.observed_at, r.signers, r.status, r.decided_at, r.recorded_at,
       CASE WHEN t.tx_hash IS NULL THEN NULL ELSE json_build_object(
           'tx_hash', t.tx_hash, 'block_number', t.block_number, 'args', t.args)
       END AS transmitted
  FROM consensus_rounds r
  LEFT JOIN LATERAL (
    SELECT tx_hash, block_number, args FROM chain_events e
     WHERE e.chain_id = %(chain_id)s AND e.contract_address = r.feed_address
       AND e.event_name = 'Transmitted' AND e.args @> jsonb_build_object('round', r.round)
    ) AS t ON true
 {where} ORDER BY r.recorded_at DESC, r.id DESC LIMIT %(limit)s
"""
"""The round's Transmitted event, found through the GIN index on `args`: at most one, since a
feed's rounds strictly increase. No LIMIT in the lateral: with one, the planner expects an
early hit and scans chain_events for every row (16 s for a page over 20,000 events, against
24 ms through the index; tests/backend/test_rounds.py checks the plan)."""


async def consensus_rounds(db: Database, chain_id: int, filters: dict[str, Any],
                           before: tuple[Any, int] | None, limit: int) -> list[Row]:
    """Up to `limit` rows of consensus_rounds, newest first, older than the (recorded_at, id)
    position `before`, each with its feed's Transmitted event of that round (`transmitted`,
    None while none is indexed); `filters` by ROUND_FILTERS name or `status`, None ignored."""
    given = {name: value for name, value in filters.items() if value is not None}
    if "leader" in given:
        given["leader"] = given["leader"].lower()
    clauses = [sql.SQL(ROUND_FILTERS[name]) for name in ROUND_FILTERS if name in given]
    if "status" in given:
        clauses.append(sql.SQL(ROUND_STATUS[given.pop("status")]))
    params: dict[str, Any] = {**given, "chain_id": chain_id, "limit": limit}
    if before is not None:
        params["before_at"], params["before_id"] = before
        clauses.append(sql.SQL("(r.recorded_at, r.id) < (%(before_at)s, %(before_id)s)"))
    where = sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
    return await db.fetch(sql.SQL(ROUNDS_SQL).format(where=where), params)
