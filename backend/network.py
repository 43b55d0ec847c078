"""The node network as the backend records it: the catalogue of node functions, heartbeats,
execution logs, and the license watch a running node long-polls.

- The catalogue (`node_functions`) is `noderr.catalogue.CATALOGUE`, upserted at every start
  of the API: the code is the one source of truth, the table what monitoring reads.
- A heartbeat needs the caller to own the license it names, active or suspended (a suspended
  node keeps saying that it waits); execution records need that license active now. Both are
  decided from the mirror and refused while it lags, as every license-gated request.
- An execution record may carry what its run found (noderr/execution_results.py: whom
  detect_double_sign named): only its function's field, of a fixed shape and bounded size,
  refused with the reason otherwise, stored as jsonb (migration 0011_execution_results).
- The watch answers as soon as this process hears the indexer's checkpoint move (the caller
  cache's NOTIFY listener wakes it), with the caller's licenses read fresh from the mirror.
  While it waits it holds no database connection, only one of the process's waiting places
  (CallerCache.max_waiters); without the listener it reads the checkpoint every
  DEAF_POLL_SECONDS instead."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import psycopg
from eth_utils import to_checksum_address
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from backend import authz, mirror
from backend.caller import Caller
from backend.caller_cache import TooManyWaiters
from backend.context import Backend
from backend.database import Database
from backend.errors import NotAllowed, Unavailable
from noderr.catalogue import BY_NAME, CATALOGUE
from noderr.domain import NODE_TYPE_LABELS, NodeType
from noderr.execution_results import RESULT_FIELDS, ExecutionResult

log = logging.getLogger("noderr.backend.network")
Row = dict[str, Any]
Outcome = Literal["ok", "rejected", "error"]
NodeState = Literal["active", "suspended", "stopping"]
UINT256_MAX = 2**256 - 1
MAX_WAIT_SECONDS = 30.0
DEAF_POLL_SECONDS = 0.5
WATCH_RETRY_AFTER = 5
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)
SEED_RETRY_SECONDS = (1, 2, 5, 10, 30)
MAX_ERROR_LENGTH = 500


class Heartbeat(BaseModel):
    """POST /nodes/heartbeat: a node says it runs, under which license, in which state."""

    node_type: NodeType
    token_id: int = Field(ge=0, le=UINT256_MAX)
    software_version: str = Field(pattern=r"^[\x20-\x7e]{1,64}$",
                                  description="1 to 64 printable ASCII characters.")
    state: NodeState


class Execution(BaseModel):
    """One run of a catalogue function, as the node timed it."""

    function: str = Field(min_length=1, max_length=64)
    started_at: AwareDatetime = Field(description="RFC 3339, with its UTC offset.")
    duration_ms: float = Field(ge=0, allow_inf_nan=False)
    outcome: Outcome
    error: str | None = Field(None, max_length=MAX_ERROR_LENGTH)
    result: ExecutionResult | None = Field(
        None, description="What the run found; only detect_double_sign (double_signs) and "
                          "score_peer (low_scores) report one. A key not in the schema is "
                          "refused.")

    @field_validator("started_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if value < EARLIEST_START:
            raise ValueError(f"before {EARLIEST_START.date()}: not a run of this network")
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("more than a day ahead of the server's clock")
        return value

    @field_validator("result", mode="before")
    @classmethod
    def _no_unknown_keys(cls, value: object) -> object:
        if value is None or isinstance(value, ExecutionResult):
            return value
        return ExecutionResult.model_validate(value, extra="forbid")

    @model_validator(mode="after")
    def _result_of_its_function(self) -> Execution:
        if self.result is None:
            return self
        own = RESULT_FIELDS.get(self.function)
        foreign = sorted(self.result.fields() - {own})
        if foreign:
            whose = f"{self.function}'s is {own}" if own else f"{self.function} reports none"
            raise ValueError(f"result.{foreign[0]} is not a result of {self.function} ({whose})")
        return self


class ExecutionReport(BaseModel):
    """POST /nodes/executions: runs of the functions of one licensed node, stored all or
    none (a function that is not its type's is refused, naming it)."""

    node_type: NodeType
    token_id: int = Field(ge=0, le=UINT256_MAX)
    executions: list[Execution] = Field(min_length=1, max_length=500)

    @field_validator("executions")
    @classmethod
    def _of_the_node_type(cls, value: list[Execution], info: ValidationInfo
                          ) -> list[Execution]:
        node_type = info.data.get("node_type")
        if node_type is None:
            return value
        for index, execution in enumerate(value):
            spec = BY_NAME.get(execution.function)
            if spec is None or spec.node_type != node_type:
                kind = "not in the catalogue" if spec is None else \
                    f"a {spec.node_type.label} function"
                raise ValueError(f"executions[{index}].function {execution.function!r} is "
                                 f"{kind}, not one of the {node_type.label} functions "
                                 "(GET /network/functions)")
        return value


# the catalogue
SEED_SQL = """
INSERT INTO node_functions (name, ordinal, node_type, category, description)
SELECT * FROM unnest(%(names)s::text[], %(ordinals)s::smallint[], %(node_types)s::smallint[],
                     %(categories)s::text[], %(descriptions)s::text[])
ON CONFLICT (name) DO UPDATE SET ordinal = EXCLUDED.ordinal, node_type = EXCLUDED.node_type,
    category = EXCLUDED.category, description = EXCLUDED.description
"""


async def seed_catalogue(db: Database) -> None:
    """Make `node_functions` the code's catalogue (rows no longer in it go), retrying while
    the database does not answer. API processes starting together take turns."""
    for attempt in itertools.count():
        try:
            return await _write_catalogue(db)
        except psycopg.Error as error:
            delay = SEED_RETRY_SECONDS[min(attempt, len(SEED_RETRY_SECONDS) - 1)]
            log.warning("cannot write the function catalogue (%s); retrying in %d s",
                        error, delay)
            await asyncio.sleep(delay)


async def _write_catalogue(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('noderr.node_functions'))")
        await conn.execute(SEED_SQL, {
            "names": [spec.name for spec in CATALOGUE],
            "ordinals": list(range(len(CATALOGUE))),
            "node_types": [int(spec.node_type) for spec in CATALOGUE],
            "categories": [spec.category for spec in CATALOGUE],
            "descriptions": [spec.description for spec in CATALOGUE]})
        await conn.execute("DELETE FROM node_functions WHERE name <> ALL(%s::text[])",
                           ([spec.name for spec in CATALOGUE],))


async def functions(db: Database) -> list[Row]:
    rows = await db.fetch("SELECT name, node_type, category, description FROM node_functions "
                          "ORDER BY ordinal")
    return [{**row, "node_type_name": NODE_TYPE_LABELS[row["node_type"]]} for row in rows]


# the license watch
async def watch(backend: Backend, caller: Caller, after_block: int | None,
                timeout: float) -> Row:
    """Every license the caller holds, once the indexed block differs from `after_block`
    (at once without it), or after `timeout` seconds as they are then."""
    if after_block is not None:
        await authz.require_fresh_mirror(backend, caller)
        await _wait_for_checkpoint(backend, after_block, min(timeout, MAX_WAIT_SECONDS))
    held = await mirror.held_licenses(backend.db, backend.mirror_key, caller.address)
    await authz.require_fresh_mirror(
        backend, dataclasses.replace(caller, indexed_block=held["indexed_block"]))
    return {"address": to_checksum_address(caller.address),
            "indexed_block": held["indexed_block"],
            "licenses": [{**item, "node_type_name": NODE_TYPE_LABELS[item["node_type"]]}
                         for item in held["licenses"]]}


async def _wait_for_checkpoint(backend: Backend, after_block: int, timeout: float) -> None:
    """Return once the indexed block is not `after_block` any more (it passed it, or a reorg
    moved it back), after `timeout` seconds, or at once when the process is stopping (the
    watch then answers with the licenses as they are)."""
    callers = backend.callers
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        with callers.waiting():
            while (remaining := deadline - loop.time()) > 0 and not backend.stopping.is_set():
                if await _indexed_block(backend) != after_block:
                    return
                await _first_of(callers.checkpoint_moved(
                    remaining if callers.listening else min(remaining, DEAF_POLL_SECONDS)),
                    backend.stopping.wait())
    except TooManyWaiters as error:
        raise Unavailable(f"too many license watches in this API process ({error}); retry "
                          f"in {WATCH_RETRY_AFTER} s", retry_after=WATCH_RETRY_AFTER) from None


async def _first_of(*waits: Awaitable[object]) -> None:
    """Return when the first of `waits` is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _indexed_block(backend: Backend) -> int | None:
    """The indexed block as this process last heard it, read from the database while it is
    not listening."""
    callers = backend.callers
    callers.drain()
    if callers.listening:
        return callers.indexed_block
    async with backend.db.connection() as conn:
        return await mirror.indexed_block(conn, backend.chain_id)


# heartbeats and node health
HEARTBEAT_SQL = """
INSERT INTO node_health (address, token_id, node_type, state, software_version)
VALUES (%(address)s, %(token_id)s, %(node_type)s, %(state)s, %(software_version)s)
ON CONFLICT (address, token_id) DO UPDATE SET
    node_type = EXCLUDED.node_type, state = EXCLUDED.state,
    software_version = EXCLUDED.software_version, last_heartbeat = now(),
    started_at = CASE WHEN node_health.state = 'stopping'
                        OR node_health.last_heartbeat < now() - make_interval(secs => %(stale)s)
                      THEN now() ELSE node_health.started_at END
"""
"""A node that said it was stopping, or went stale, starts again with this beat."""


async def record_heartbeat(backend: Backend, caller: Caller, beat: Heartbeat) -> int | None:
    """Store the beat of the caller's node; the indexed block it was judged at."""
    await authz.require_fresh_mirror(backend, caller)
    async with backend.db.connection() as conn:
        license_ = await mirror.license_state(conn, backend.chain_id, backend.license_address,
                                              beat.token_id)
        _require_owned(caller, beat.node_type, beat.token_id, license_)
        await conn.execute(HEARTBEAT_SQL, {
            "address": caller.address.lower(), "token_id": beat.token_id,
            "node_type": int(beat.node_type), "state": beat.state,
            "software_version": beat.software_version,
            "stale": backend.settings.node_stale_after})
    return caller.indexed_block


def _require_owned(caller: Caller, node_type: NodeType, token_id: int,
                   license_: Row | None) -> None:
    """NotAllowed unless the caller owns license `token_id`, of `node_type`, not revoked."""
    if license_ is None:
        raise NotAllowed(f"no license {token_id} in the mirror")
    if license_["status"] == "revoked":
        raise NotAllowed(f"license {token_id} is revoked")
    if license_["owner"] != caller.address.lower():
        raise NotAllowed(f"{caller.address} does not own license {token_id}")
    if license_["node_type"] != node_type:
        raise NotAllowed(f"license {token_id} is a {NODE_TYPE_LABELS[license_['node_type']]} "
                         f"license, not {node_type.label}")


def node_status(row: Row) -> str:
    """stopped (said so, or its license is not its own any more), stale (silent past
    NODERR_NODE_STALE_AFTER), else its license's status in the mirror."""
    if row["state"] == "stopping" or not row["owned"]:
        return "stopped"
    if row["stale"]:
        return "stale"
    return row["license_status"]


async def nodes(backend: Backend) -> list[Row]:
    rows = await mirror.node_health(backend.db, backend.mirror_key,
                                    backend.settings.node_stale_after)
    return [{"address": to_checksum_address(row["address"]), "node_type": row["node_type"],
             "node_type_name": NODE_TYPE_LABELS[row["node_type"]],
             "token_id": int(row["token_id"]), "status": node_status(row),
             "last_heartbeat": row["last_heartbeat"], "started_at": row["started_at"],
             "software_version": row["software_version"]} for row in rows]


async def members(backend: Backend) -> Row:
    """The active licenses at the indexed block: whose signatures the bus accepts."""
    row = await mirror.active_members(backend.db, backend.mirror_key)
    return {"indexed_block": row["indexed_block"],
            "members": [{**item, "address": to_checksum_address(item["address"])}
                        for item in row["members"]]}


# execution logs
INSERT_EXECUTIONS_SQL = """
INSERT INTO node_executions (address, node_type, token_id, function, started_at, duration_ms,
                             outcome, error, result)
SELECT %(address)s, %(node_type)s, %(token_id)s, f, s, d, o, e, j
  FROM unnest(%(functions)s::text[], %(started)s::timestamptz[], %(durations)s::float8[],
              %(outcomes)s::text[], %(errors)s::text[], %(results)s::jsonb[])
       AS r(f, s, d, o, e, j)
"""


async def record_executions(backend: Backend, caller: Caller, report: ExecutionReport) -> int:
    """Store every record of the report (one statement: all or none); how many."""
    await authz.require_fresh_mirror(backend, caller)
    label = report.node_type.label
    held = caller.license(report.node_type)
    if held is None:
        raise NotAllowed(f"{caller.address} holds no active {label} license")
    if int(held["token_id"]) != report.token_id:
        raise NotAllowed(f"license {report.token_id} is not {caller.address}'s active "
                         f"{label} license (that is {held['token_id']})")
    runs = report.executions
    async with backend.db.connection() as conn:
        await conn.execute(INSERT_EXECUTIONS_SQL, {
            "address": caller.address.lower(), "node_type": int(report.node_type),
            "token_id": report.token_id, "functions": [run.function for run in runs],
            "started": [run.started_at for run in runs],
            "durations": [run.duration_ms for run in runs],
            "outcomes": [run.outcome for run in runs], "errors": [run.error for run in runs],
            "results": [stored_result(run.result) for run in runs]})
    return len(runs)


def stored_result(result: ExecutionResult | None) -> Jsonb | None:
    return None if result is None else Jsonb(result.model_dump(mode="json", exclude_none=True))


EXECUTION_COLUMNS = ("id", "address", "node_type", "token_id", "function", "started_at",
                     "duration_ms", "outcome", "error", "result")
EXECUTION_FILTERS = {"function": "function = %(function)s", "address": "address = %(address)s",
                     "outcome": "outcome = %(outcome)s"}


async def executions(db: Database, filters: dict[str, str | None],
                     before: tuple[datetime, int] | None, limit: int) -> list[Row]:
    """Up to `limit` records, newest first, older than the (started_at, id) position `before`;
    `filters` by EXECUTION_FILTERS name (an address in any case), None values ignored."""
    given = {name: value for name, value in filters.items() if value is not None}
    if "address" in given:
        given["address"] = given["address"].lower()
    clauses = [sql.SQL(EXECUTION_FILTERS[name]) for name in EXECUTION_FILTERS if name in given]
    params: dict[str, Any] = {**given, "limit": limit}
    if before is not None:
        params["before_at"], params["before_id"] = before
        clauses.append(sql.SQL("(started_at, id) < (%(before_at)s, %(before_id)s)"))
    query = sql.SQL("SELECT {} FROM node_executions {} ORDER BY started_at DESC, id DESC "
                    "LIMIT %(limit)s").format(
        sql.SQL(", ").join(map(sql.Identifier, EXECUTION_COLUMNS)),
        sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL(""))
    rows = await db.fetch(query, params)
    return [{**row, "address": to_checksum_address(row["address"]),
             "node_type_name": NODE_TYPE_LABELS[row["node_type"]],
             "token_id": int(row["token_id"])} for row in rows]
