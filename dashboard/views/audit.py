"""Audit: every contract event (filters, a timeline, CSV download) and the vault's audit log
with its verification result when the backend offers one."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.session import Context, context

COLUMNS = ["block_number", "block_timestamp", "contract_name", "event_name", "tx_hash",
           "log_index", "args"]
MAX_EVENTS = 5000


def event_filters() -> dict[str, Any]:
    top = st.columns(3)
    contract = top[0].selectbox("Contract", ["any", "NodeLicense", "NodeGovernor",
                                             "NodeTimelock"], key="ev_contract")
    event = top[1].text_input("Event name (e.g. LicenseMinted)", key="ev_event").strip()
    address = top[2].text_input("Address in any argument", key="ev_address").strip()
    bottom = st.columns(3)
    token = bottom[0].text_input("Token id", key="ev_token").strip()
    from_block = bottom[1].number_input("From block", min_value=0, value=0, key="ev_from")
    to_block = bottom[2].number_input("To block (0: head)", min_value=0, value=0, key="ev_to")
    return {"contract": None if contract == "any" else contract, "event": event or None,
            "address": address or None, "token_id": int(token) if token.isdigit() else None,
            "from_block": from_block or None, "to_block": to_block or None}


def load_events(ctx: Context, filters: dict[str, Any]) -> list[dict[str, Any]] | None:
    client, rows, cursor = ctx.client(), [], None
    while len(rows) < MAX_EVENTS:
        page = ui.attempt("Cannot read events", lambda c=cursor: client.events(
            **filters, cursor=c, limit=1000))
        if page is None:
            return None
        rows += page["events"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return rows


def timeline(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows)
    frame["time"] = pd.to_datetime(frame["block_timestamp"], utc=True).dt.floor("min")
    counts = frame.groupby(["time", "event_name"]).size().unstack(fill_value=0)
    st.bar_chart(counts)


def events_section(ctx: Context) -> None:
    st.subheader("Contract events")
    filters = event_filters()
    rows = load_events(ctx, filters)
    if rows is None:
        return
    st.caption(f"{len(rows)} events" + (" (first 5000 shown)" if len(rows) >= MAX_EVENTS
                                         else ""))
    if not rows:
        st.write("No event matches.")
        return
    timeline(rows)
    st.dataframe(pd.DataFrame(rows, columns=COLUMNS).astype({"args": str}), hide_index=True)
    csv = ui.attempt("Cannot export CSV", lambda: ctx.client().events_csv(
        **filters, limit=10_000))
    if csv is not None:
        st.download_button("Download CSV", csv, file_name="noderr-events.csv",
                           mime="text/csv", key="ev_csv")


def vault_section(ctx: Context) -> None:
    st.subheader("Vault audit log")
    audit = ui.attempt("Cannot read the vault audit log", lambda: ctx.client().vault_audit())
    if audit is None:
        st.info("This backend offers no vault audit log endpoint yet (GET /vault/audit): "
                "nothing to verify here.")
        return
    verified = audit.get("verified")
    if verified is True:
        st.success("Hash chain verified: no entry was altered, removed or reordered.")
    elif verified is False:
        st.error(f"Verification FAILED: {audit.get('reason') or audit.get('detail')}")
    st.dataframe(audit.get("entries") or [], hide_index=True)


ctx = context()
st.header("Audit")
if ui.require_sign_in(ctx):
    events_section(ctx)
    vault_section(ctx)
