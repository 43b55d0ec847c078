"""Governance: proposals with their state, tallies and deadlines (block numbers), and for
validators the approved Validator applications awaiting admission: a Validator license is
minted only by an executed proposal, which a validator's wallet proposes from here."""

from __future__ import annotations

import streamlit as st

from client.models import Admission, Proposal
from dashboard import session, ui
from dashboard.session import Context, context
from noderr.domain import NodeType

COLUMNS = ["proposal_id", "state", "description", "proposer", "snapshot", "deadline", "eta",
           "votes_for", "votes_against", "votes_abstain", "created_block"]


def voting(proposal: Proposal, head: int | None) -> str:
    """Whether votes are still counted at the chain head (deadlines are block numbers)."""
    still_open = (head is not None and proposal.state == "created"
                  and head <= int(proposal.deadline))
    return "open" if still_open else "closed"


ADMISSION_COLUMNS = ["applicant_name", "wallet_address", "region", "review_note", "updated_at",
                     "application_id"]


def propose(admission: Admission) -> None:
    tx = admission.proposal_transaction
    session.send_transaction(session.context(), tx.to, tx.data,
                             f"Propose admitting {admission.wallet_address} as a Validator")


def admissions(ctx: Context) -> None:
    """Approved Validator applications, each with a button that sends its admission proposal
    from the signed-in validator's wallet."""
    st.subheader("Validator applications awaiting admission")
    licenses = ctx.me.licenses if ctx.me else []
    if not any(item.node_type == NodeType.VALIDATOR for item in licenses):
        st.caption("A Validator license is minted only by governance: a validator proposes "
                   "each approved Validator application. Sign in with a wallet that holds an "
                   "active Validator license to propose one.")
        return
    waiting = ui.attempt("Cannot list the applications awaiting admission",
                         lambda: ctx.client().awaiting_admission())
    if not waiting:
        if waiting is not None:
            st.write("No approved Validator application awaits admission.")
        return
    st.dataframe(ui.table(waiting, ADMISSION_COLUMNS), hide_index=True)
    for admission in waiting:
        st.button("Propose admission", key=f"propose_{admission.id}", on_click=propose,
                  args=(admission,), help=admission.proposal_transaction.description)


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
admissions(ctx)
