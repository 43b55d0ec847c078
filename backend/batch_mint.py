"""Batch approval: MINTER holders approve many applications and the server-side minter (off by
default) signs and sends their mint transactions. Applications become `minted` only when the
indexer sees their LicenseMinted."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from eth_abi.exceptions import DecodingError

from backend import applications as apps
from backend.caller import Caller
from backend.chain_client import ChainUnavailable
from backend.context import Backend
from backend.errors import Conflict, Refused, Unavailable
from backend.minter import Minter, MintFailed

log = logging.getLogger("noderr.backend.minter")
Outcome = str | Refused
"""A mint transaction's hash, or why the application got none."""


async def ready_minter(backend: Backend) -> Minter:
    """The server-side minter, if it is on and holds MINTER_ROLE on-chain (Conflict if not)."""
    minter = backend.minter
    if minter is None:
        raise Conflict("server-side minter is off: set NODERR_MINTER_KEYSTORE and "
                       "NODERR_MINTER_PASSWORD_FILE, or approve one by one and sign "
                       "the mint transactions with your wallet")
    try:
        granted = await minter.has_minter_role(backend.chain, backend.license_address)
    except (ChainUnavailable, DecodingError) as error:
        raise Unavailable(f"cannot check the minter's role on-chain: {error}") from None
    if not granted:
        raise Conflict(f"the server-side minter {minter.address} does not hold "
                       "MINTER_ROLE on NodeLicense: grant it first")
    return minter


async def approve_and_mint(backend: Backend, caller: Caller, ids: list[uuid.UUID],
                           note: str) -> tuple[Minter, dict[uuid.UUID, Outcome]]:
    """Approve each application and send its mint from the server-side minter; the minter
    and each id's outcome (ids once each, in order)."""
    minter = await ready_minter(backend)
    ids = list(dict.fromkeys(ids))
    async with minter.lock, backend.db.transaction() as held:
        # One batch at a time per minter account, across every API process (uvicorn workers,
        # replicas) sharing this database: no mint sent twice, nonces in sequence.
        await held.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           (f"noderr-minter:{minter.address}",))
        outcomes = await _approve_and_send(backend, caller, minter, ids, note)
    return minter, {app_id: outcomes[app_id] for app_id in ids}


async def _approve_and_send(backend: Backend, caller: Caller, minter: Minter,
                            ids: list[uuid.UUID], note: str) -> dict[uuid.UUID, Outcome]:
    outcomes: dict[uuid.UUID, Outcome] = {}
    rows: list[dict[str, Any]] = []
    for app_id in ids:
        try:
            rows.append(await approved_row(backend, app_id, caller, note))
        except Refused as refused:
            outcomes[app_id] = refused
    transactions = [apps.mint_transaction(backend.license_address, backend.chain_id, row)
                    for row in rows]
    sent = await minter.send_all(backend.chain, backend.chain_id, transactions)
    for row, result in zip(rows, sent, strict=True):
        outcomes[row["id"]] = await _outcome(backend, caller, minter, row, result)
    return outcomes


async def approved_row(backend: Backend, app_id: uuid.UUID, caller: Caller,
                       note: str) -> dict[str, Any]:
    """The application approved (now, or earlier and no mint sent yet); Refused if not,
    and always for a Validator application: the minter cannot mint Validator licenses."""
    row = await apps.load(backend, app_id)
    if apps.is_validator(row):
        raise Conflict("a Validator license is minted only by governance: approve this "
                       "application on its own (POST /applications/{id}/approve) and have a "
                       "validator send its proposal_transaction")
    if row["status"] == "approved":
        await no_mint_sent(backend, app_id)
        return row
    return await apps.transition(backend, app_id, apps.APPROVE, caller.address, note)


async def no_mint_sent(backend: Backend, app_id: uuid.UUID) -> None:
    sent = await backend.db.fetch_one(
        "SELECT note FROM application_events WHERE application = %s AND action = 'mint_sent' "
        "ORDER BY id DESC LIMIT 1", (app_id,))
    if sent is not None:
        raise Conflict(f"{sent['note']}; wait for the indexer to see it (or, if it "
                       "was dropped, send the application's mint_transaction from "
                       "a MINTER wallet)")


async def _outcome(backend: Backend, caller: Caller, minter: Minter, row: dict[str, Any],
                   result: str | MintFailed) -> Outcome:
    app_id = row["id"]
    if isinstance(result, MintFailed):
        log.warning("server-side mint of application %s failed: %s", app_id, result)
        return Conflict(str(result))
    async with backend.db.transaction() as conn:
        await apps.record(conn, app_id, "mint_sent", "approved", "approved", caller.address,
                          f"mint sent by the server-side minter {minter.address} in "
                          f"transaction {result}")
    log.info("server-side mint of application %s sent: %s", app_id, result)
    return result
