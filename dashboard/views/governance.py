"""Governance: proposals with their state, tallies and deadlines (block numbers)."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.session import context

COLUMNS = ["proposal_id", "state", "description", "proposer", "snapshot", "deadline", "eta",
           "votes_for", "votes_against", "votes_abstain", "created_block"]

ctx = context()
st.header("Governance")
st.caption(f"NodeGovernor `{ctx.chain.governor_address}` · deadlines are block numbers")
state = st.selectbox("State", ["any", "created", "queued", "executed", "canceled"],
                     key="gov_state")
rows = ui.attempt("Cannot list proposals", lambda: ctx.client().proposals(
    state=None if state == "any" else state, limit=1000))
if rows is not None:
    readiness = ui.attempt("Cannot read the chain head", lambda: ctx.client().readiness())
    head = (readiness or {}).get("head_block")
    for row in rows:
        deadline = int(row["deadline"]) if row.get("deadline") else None
        row["voting"] = ("open" if head is not None and deadline is not None
                         and row["state"] == "created" and head <= deadline else "closed")
    if rows:
        st.dataframe(ui.table(rows, [*COLUMNS, "voting"]), hide_index=True)
    else:
        st.write("No proposal yet.")
