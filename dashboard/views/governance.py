"""Governance: proposals with their state, tallies and deadlines (block numbers)."""

from __future__ import annotations

import streamlit as st

from client.models import Proposal
from dashboard import ui
from dashboard.session import context

COLUMNS = ["proposal_id", "state", "description", "proposer", "snapshot", "deadline", "eta",
           "votes_for", "votes_against", "votes_abstain", "created_block"]


def voting(proposal: Proposal, head: int | None) -> str:
    """Whether votes are still counted at the chain head (deadlines are block numbers)."""
    still_open = (head is not None and proposal.state == "created"
                  and head <= int(proposal.deadline))
    return "open" if still_open else "closed"


ctx = context()
st.header("Governance")
st.caption(f"NodeGovernor `{ctx.chain.governor_address}` · deadlines are block numbers")
state = st.selectbox("State", ["any", "created", "queued", "executed", "canceled"],
                     key="gov_state")
proposals = ui.attempt("Cannot list proposals", lambda: ctx.client().proposals(
    state=None if state == "any" else state, limit=1000))
if proposals is not None:
    readiness = ui.attempt("Cannot read the chain head", lambda: ctx.client().readiness())
    head = readiness.head_block if readiness else None
    if proposals:
        table = ui.table(proposals, COLUMNS)
        table["voting"] = [voting(proposal, head) for proposal in proposals]
        st.dataframe(table, hide_index=True)
    else:
        st.write("No proposal yet.")
