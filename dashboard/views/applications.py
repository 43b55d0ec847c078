"""Applications (admins): filter, read one with its history, approve (the wallet sends the
mint transaction the backend returns) or reject with a note."""

from __future__ import annotations

from typing import Any

import streamlit as st

from client import BackendError
from client.models import ApplicationDetail
from dashboard import session, ui
from dashboard.safe_text import escape_markdown
from dashboard.session import Context, context
from noderr.domain import MINTER_ROLE, NODE_TYPE_LABELS

STATUSES = ["pending", "approved", "minted", "rejected"]
COLUMNS = ["applicant_name", "wallet_address", "node_type", "status", "wallet_verified",
           "region", "created_at", "id"]


def filters() -> dict[str, Any]:
    left, middle, right = st.columns(3)
    status = left.selectbox("Status", ["any", *STATUSES], key="app_status")
    node_type = middle.selectbox("Node type", ["any", *NODE_TYPE_LABELS], key="app_type",
                                 format_func=lambda v: v if v == "any" else ui.node_type_name(v))
    verified = right.selectbox("Wallet verified", ["any", "yes", "no"], key="app_verified")
    return {"status": None if status == "any" else status,
            "node_type": None if node_type == "any" else node_type,
            "verified": None if verified == "any" else verified == "yes"}


def approve(app_id: str) -> None:
    ctx = session.context()
    note = st.session_state.get(f"note_{app_id}", "").strip() or "approved"
    try:
        approved = ctx.client().approve(app_id, note)
    except BackendError as error:
        session.flash("error", f"Approval refused: {escape_markdown(error)}")
        return
    if approved.proposal_transaction:
        session.flash("success", "Approved. A Validator license is minted only by governance: "
                                 "a validator proposes it from the Governance page.")
        return
    tx = approved.mint_transaction
    if not tx:
        session.flash("error", "The backend approved but returned no mint transaction.")
        return
    label = f"Mint for {approved.applicant_name} ({approved.wallet_address})"
    session.send_transaction(ctx, tx.to, tx.data, label)


def reject(app_id: str) -> None:
    ctx = session.context()
    note = st.session_state.get(f"note_{app_id}", "").strip()
    if not note:
        session.flash("error", "A rejection needs a note: the applicant reads it.")
        return
    try:
        ctx.client().reject(app_id, note)
    except BackendError as error:
        session.flash("error", f"Rejection refused: {escape_markdown(error)}")
        return
    session.flash("success", "Application rejected.")


def actions(ctx: Context, app: ApplicationDetail) -> None:
    status, app_id = app.status, app.id
    if status not in ("pending", "approved"):
        return
    st.text_input("Review note (kept in the history)", key=f"note_{app_id}")
    left, right = st.columns(2)
    if status == "pending" and MINTER_ROLE in ctx.roles:
        if not app.wallet_verified:
            left.warning("The applicant has not confirmed the wallet by signing in yet.")
        left.button("Approve and mint", key=f"approve_{app_id}", type="primary",
                    on_click=approve, args=(app_id,), disabled=not app.wallet_verified)
    if status == "approved" and MINTER_ROLE in ctx.roles and app.mint_transaction:
        tx = app.mint_transaction
        left.button("Send the mint transaction again", key=f"mint_{app_id}",
                    on_click=lambda: session.send_transaction(
                        session.context(), tx.to, tx.data,
                        f"Mint for {app.applicant_name} ({app.wallet_address})"))
    right.button("Reject", key=f"reject_{app_id}", on_click=reject, args=(app_id,))


def detail(ctx: Context, app_id: str) -> None:
    app = ui.attempt("Cannot read the application", lambda: ctx.client().application(app_id))
    if app is None:
        return
    st.subheader(f"{escape_markdown(app.applicant_name)} · {app.node_type.label} · "
                 f"{escape_markdown(app.status)}")
    shown = app.model_dump(mode="json", exclude={"history", "mint_transaction"})
    st.dataframe([{"field": k, "value": str(v)} for k, v in shown.items()], hide_index=True)
    if app.status == "approved":
        st.info("Approved: the status becomes minted once the indexer has seen the mint.")
    st.markdown("**History**")
    st.dataframe(ui.records(app.history), hide_index=True)
    actions(ctx, app)


ctx = context()
st.header("Applications")
st.button("Refresh", key="refresh_applications")
rows = ui.attempt("Cannot list applications", lambda: ctx.client().applications(**filters()))
if rows is not None:
    st.dataframe(ui.table(rows, COLUMNS), hide_index=True)
    if rows:
        labels = {row.id: f"{row.applicant_name} · {row.wallet_address}" for row in rows}
        chosen = st.selectbox("Application", list(labels), format_func=labels.get,
                              key="app_chosen")
        detail(ctx, chosen)
    else:
        st.write("No application matches.")
