"""Licenses: search, one license with its on-chain history, and (role holders) suspend,
reinstate, revoke, reassign through the wallet after a confirmation naming the consequence."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import session, ui
from dashboard.license_calls import license_call
from dashboard.safe_text import escape_markdown, inline_code
from dashboard.session import Context, context
from noderr.domain import DEFAULT_ADMIN_ROLE, NODE_TYPE_LABELS, REVOKER_ROLE, NodeType

COLUMNS = ["token_id", "owner", "node_type", "status", "status_reason", "minted_block",
           "last_change_block"]
CONSEQUENCES = {
    "suspend": "the owner loses access to every license-gated service until reinstated",
    "reinstate": "the owner regains access to license-gated services",
    "revoke": "the license is burned for good; the owner loses access and it cannot be undone",
    "reassign": "the license moves to the new owner; the current owner loses it",
}


def search() -> dict[str, Any]:
    left, middle, right = st.columns(3)
    owner = left.text_input("Owner address", key="lic_owner").strip()
    node_type = middle.selectbox("Node type", ["any", *NODE_TYPE_LABELS], key="lic_type",
                                 format_func=lambda v: v if v == "any" else ui.node_type_name(v))
    status = right.selectbox("Status", ["any", "active", "suspended", "revoked"],
                             key="lic_status")
    return {"owner": owner or None, "node_type": None if node_type == "any" else node_type,
            "status": None if status == "any" else status}


def allowed_actions(ctx: Context, status: str, node_type: NodeType) -> list[str]:
    """What the signed-in wallet may do to a license; a Validator license is suspended,
    reinstated or revoked by governance alone (a proposal), never by a REVOKER."""
    actions = []
    if REVOKER_ROLE in ctx.roles and node_type != NodeType.VALIDATOR:
        actions += {"active": ["suspend", "revoke"],
                    "suspended": ["reinstate", "revoke"]}.get(status, [])
    if DEFAULT_ADMIN_ROLE in ctx.roles and status in ("active", "suspended"):
        actions.append("reassign")
    return actions


def send(action: str, token_id: int, owner: str) -> None:
    ctx = session.context()
    reason = st.session_state.get(f"reason_{action}_{token_id}", "")
    new_owner = st.session_state.get(f"to_{token_id}", "")
    try:
        data = license_call(action, token_id, reason, new_owner)
    except ValueError as error:
        session.flash("error", f"Cannot {action} license {token_id}: "
                               f"{escape_markdown(error)}")
        return
    session.send_transaction(ctx, ctx.chain.license_address, data,
                             f"{action.title()} license #{token_id} of {owner}")


def action_form(token_id: int, owner: str, action: str) -> None:
    st.markdown(f"**{action.title()}** license **#{token_id}** of {inline_code(owner)}")
    if action == "reassign":
        st.text_input("New owner address", key=f"to_{token_id}")
    if action != "reinstate":
        st.text_input("Reason (recorded on-chain)", key=f"reason_{action}_{token_id}")
    confirmed = ui.confirm_box(f"confirm_{action}_{token_id}",
                               f"{action} #{token_id} of {escape_markdown(owner)}: "
                               f"{CONSEQUENCES[action]}")
    st.button(f"{action.title()} license #{token_id}", key=f"do_{action}_{token_id}",
              disabled=not confirmed, on_click=send, args=(action, token_id, owner))


def detail(ctx: Context, token_id: int) -> None:
    lic = ui.attempt("Cannot read the license", lambda: ctx.client().license(token_id))
    if lic is None:
        return
    st.subheader(f"License #{lic.token_id} · {lic.node_type.label} · "
                 f"{escape_markdown(lic.status)}")
    st.markdown(f"Owner {inline_code(lic.owner)} · minted in block {lic.minted_block} "
                f"(tx {inline_code(lic.minted_tx)})")
    st.markdown("**On-chain history**")
    st.dataframe(ui.records(lic.history), hide_index=True)
    actions = allowed_actions(ctx, lic.status, lic.node_type)
    if lic.node_type == NodeType.VALIDATOR and lic.status in ("active", "suspended"):
        st.caption("A Validator license carries a vote: only governance (a passed proposal) "
                   "suspends, reinstates or revokes it.")
    if actions:
        chosen = st.radio("Action", actions, horizontal=True, key=f"action_{token_id}")
        action_form(lic.token_id, lic.owner, chosen)


ctx = context()
st.header("Licenses")
st.button("Refresh", key="refresh_licenses")
rows = ui.attempt("Cannot list licenses", lambda: ctx.client().licenses(**search(), limit=1000))
if rows is not None:
    st.dataframe(ui.table(rows, COLUMNS), hide_index=True)
    if rows:
        labels = {row.token_id: f"#{row.token_id} · {row.owner} · {row.node_type.label}"
                  for row in rows}
        chosen = st.selectbox("License", list(labels), format_func=labels.get,
                              key="lic_chosen")
        detail(ctx, chosen)
    else:
        st.write("No license matches.")
