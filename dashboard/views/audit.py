"""Audit: every contract event (filters, a timeline, CSV download) and, for holders of an
auditor role, the vault's audit log with its hash chain verified here, in the dashboard."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from client import BackendError, EventFilters
from client.models import ChainEvent, VaultAuditExport
from dashboard import session, ui, vault_audit
from dashboard.safe_text import escape_markdown, inline_code
from dashboard.session import Context, context

COLUMNS = ["block_number", "block_timestamp", "contract_name", "event_name", "tx_hash",
           "log_index", "args"]
MAX_EVENTS = 5000
VAULT_COLUMNS = ["seq", "at", "actor", "action", "outcome", "token_id", "secret_name",
                 "detail", "request_id", "hash"]
VAULT_EXPORT = "vault_export"


def event_filters(contracts: tuple[str, ...]) -> EventFilters:
    top = st.columns(3)
    contract = top[0].selectbox("Contract", ["any", *contracts], key="ev_contract")
    event = top[1].text_input("Event name (e.g. LicenseMinted)", key="ev_event").strip()
    address = top[2].text_input("Address in any argument", key="ev_address").strip()
    bottom = st.columns(3)
    token = bottom[0].text_input("Token id", key="ev_token").strip()
    from_block = bottom[1].number_input("From block", min_value=0, value=0, key="ev_from")
    to_block = bottom[2].number_input("To block (0: head)", min_value=0, value=0, key="ev_to")
    return EventFilters(contract=None if contract == "any" else contract, event=event or None,
                        address=address or None,
                        token_id=int(token) if token.isdigit() else None,
                        from_block=from_block or None, to_block=to_block or None)


def load_events(ctx: Context, filters: EventFilters) -> list[ChainEvent] | None:
    client, rows, cursor = ctx.client(), [], None
    while len(rows) < MAX_EVENTS:
        page = ui.attempt("Cannot read events", lambda c=cursor: client.events(
            filters, cursor=c, limit=1000))
        if page is None:
            return None
        rows += page.events
        cursor = page.next_cursor
        if not cursor:
            break
    return rows


def timeline(rows: list[ChainEvent]) -> None:
    frame = pd.DataFrame(ui.records(rows))
    frame["time"] = pd.to_datetime(frame["block_timestamp"], utc=True).dt.floor("min")
    counts = frame.groupby(["time", "event_name"]).size().unstack(fill_value=0)
    st.bar_chart(counts)


def events_section(ctx: Context) -> None:
    st.subheader("Contract events")
    filters = event_filters(ctx.chain.contracts)
    rows = load_events(ctx, filters)
    if rows is None:
        return
    st.caption(f"{len(rows)} events" + (" (first 5000 shown)" if len(rows) >= MAX_EVENTS
                                         else ""))
    if not rows:
        st.write("No event matches.")
        return
    timeline(rows)
    st.dataframe(pd.DataFrame(ui.records(rows), columns=COLUMNS).astype({"args": str}),
                 hide_index=True)
    csv = ui.attempt("Cannot export CSV", lambda: ctx.client().events_csv(
        filters, limit=1000))
    if csv is not None:
        st.download_button("Download CSV", csv, file_name="noderr-events.csv",
                           mime="text/csv", key="ev_csv")


def load_export(ctx: Context) -> VaultAuditExport | str:
    """The export and its head header, or the error to show (kept: reading is audited)."""
    try:
        return ctx.client().vault_audit_export()
    except BackendError as error:
        return f"Cannot export the vault audit log: {escape_markdown(error)}"


def verdict_message(verdict: vault_audit.Verdict) -> None:
    if verdict.intact:
        st.success(f"Hash chain verified in this dashboard: {verdict.entries} entries, seq 1 "
                   f"to {verdict.head_seq}, head hash {verdict.head_hash[:16]}… matches the "
                   "vault's head. No entry was altered, removed, reordered or cut off.")
    else:
        st.error(f"Verification FAILED at entry {verdict.bad_seq}: "
                 f"{escape_markdown(verdict.reason)}. "
                 f"The {verdict.entries} entries before it check out.")


def show_export(export: VaultAuditExport) -> None:
    try:
        entries = vault_audit.parse_export(export.text)
        head = vault_audit.parse_head(export.head)
    except vault_audit.ExportError as error:
        st.error(f"Cannot verify the vault audit log: {escape_markdown(error)}")
        return
    verdict_message(vault_audit.verify(entries, head))
    frame = pd.DataFrame(entries[::-1], columns=VAULT_COLUMNS)
    st.dataframe(frame, hide_index=True)
    st.download_button("Download the export (JSON lines)", export.text, key="vault_download",
                       file_name="vault-audit.ndjson", mime="application/x-ndjson")
    st.caption("Check it elsewhere: " + inline_code(
        f"noderr vault verify-audit --file vault-audit.ndjson --anchor {export.head}"))


def vault_section(ctx: Context) -> None:
    st.subheader("Vault audit log")
    roles = ctx.settings.vault_auditor_roles
    if not session.holds_any(ctx, roles):
        st.info(f"You need {' or '.join(roles)} on NodeLicense to read and verify the vault "
                "audit log; your wallet holds none of them.")
        return
    st.caption("Newest first. Reading the log is itself recorded in it (audit_export).")
    if st.button("Reload and verify", key="vault_reload") or VAULT_EXPORT not in st.session_state:
        st.session_state[VAULT_EXPORT] = load_export(ctx)
    export = st.session_state[VAULT_EXPORT]
    if isinstance(export, str):
        st.error(export)
    else:
        show_export(export)


ctx = context()
st.header("Audit")
if ui.require_sign_in(ctx):
    events_section(ctx)
    vault_section(ctx)
