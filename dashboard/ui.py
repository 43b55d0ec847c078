"""Shared rendering: the wallet panel, one-time messages, the transaction panel, tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from eth_utils import to_checksum_address
from pydantic import BaseModel

from client import BackendError
from dashboard import session, wallet
from dashboard.safe_text import escape_markdown, inline_code
from dashboard.session import Context
from noderr.domain import NODE_TYPE_LABELS

T = TypeVar("T")
FOLLOW_SECONDS = 1.0


def attempt(what: str, call: Callable[[], T]) -> T | None:
    """`call()`, or None after showing the backend's error plainly."""
    try:
        return call()
    except BackendError as error:
        st.error(f"{what}: {escape_markdown(error)}")
        return None


def show_flashes() -> None:
    """Flash texts are Markdown: whoever adds one escapes what it quotes."""
    for level, text in st.session_state.pop(session.FLASH, []):
        getattr(st, level)(text)


def transaction_panel() -> None:
    tx = st.session_state.get(session.LAST_TX)
    if not tx:
        return
    status, label = tx.get("status"), escape_markdown(tx.get("label"))
    where = f"transaction {inline_code(tx['hash'])}" if tx.get("hash") else "no transaction"
    block = escape_markdown(tx.get("block"))
    if status == "success":
        st.success(f"{label}: {where} confirmed in block {block} (receipt status 1).")
        if not tx.get("indexed"):
            _follow_indexer()
    elif status == "reverted":
        st.error(f"{label}: {where} reverted in block {block} (receipt status 0): "
                 "nothing changed on-chain.")
    elif status == "failed":
        st.error(f"{label}: {escape_markdown(tx.get('error'))}. Nothing was sent.")
    else:
        st.info(f"{label}: {where}, {escape_markdown(status)}…")


@st.fragment(run_every=FOLLOW_SECONDS)
def _follow_indexer() -> None:
    """While the mirror is behind the last confirmed transaction, poll the backend; once the
    indexer has seen its block, rerun the whole page so it shows the new state."""
    tx = st.session_state.get(session.LAST_TX) or {}
    block = tx.get("block")
    if tx.get("status") != "success" or tx.get("indexed") or not isinstance(block, int):
        return
    try:
        indexed = session.context().client().readiness().indexed_block
    except BackendError as error:
        st.caption(f"Waiting for the indexer (cannot ask the backend: "
                   f"{escape_markdown(error)}); retrying…")
        return
    if isinstance(indexed, int) and indexed >= block:
        tx["indexed"] = True
        st.rerun()
    st.caption(f"Waiting for the indexer to see block {block} (indexed: {indexed}); "
               "this page follows by itself.")


def wallet_panel(ctx: Context) -> None:
    env = ctx.env
    if not env.reported:
        st.caption("Looking for a wallet in this browser…")
        return
    if not env.has_wallet:
        _no_browser_wallet(ctx)
        if not env.dev:
            return
        st.warning(f"DEVELOPMENT WALLET: anvil account #{wallet.dev_account()} on the local "
                   "chain. Test keys only; never use it with real funds.")
    _connection(ctx)


def _no_browser_wallet(ctx: Context) -> None:
    """Without a browser wallet: the development wallet's controls on chain 31337, rendered
    in every run (on or off) so that it can be turned off and its account changed."""
    if not ctx.chain.dev_wallet:
        st.info("No wallet found: install an EIP-1193 browser wallet (MetaMask or similar) "
                "to sign in.")
        return
    st.info("No browser wallet found. On this local chain (31337) you may use a "
            "development wallet backed by anvil's unlocked test accounts.")
    wallet.restore_dev_choice()
    st.checkbox("Use the development wallet (local chain only)", key=wallet.DEV_ENABLED,
                on_change=wallet.keep_dev_choice)
    if wallet.dev_wallet_on():
        st.selectbox("Development account", list(range(10)), key=wallet.DEV_ACCOUNT,
                     on_change=wallet.keep_dev_choice,
                     format_func=lambda i: f"anvil #{i}" + (" (admin)" if i == 0 else ""))


def _connection(ctx: Context) -> None:
    env = ctx.env
    if env.error:
        st.error(f"Wallet: {escape_markdown(env.error)}")
    if not env.address:
        st.button("Connect wallet", key="connect", on_click=_connect)
        return
    st.markdown(f"**Wallet** `{to_checksum_address(env.address)}`  \nchain {env.chain_id}")
    if ctx.wrong_chain:
        st.warning(f"Wrong chain: your wallet is on chain {env.chain_id}, this deployment "
                   f"is on chain {ctx.chain.chain_id}. Signing and sending are disabled.")
        st.button(f"Switch to chain {ctx.chain.chain_id}", key="switch_chain",
                  on_click=_switch_chain, args=(ctx.chain.chain_id,))
        return
    if ctx.me:
        roles = ", ".join(sorted(role_names(ctx))) or "no roles"
        st.markdown(f"Signed in as {inline_code(ctx.me.address)}  \nroles: {roles}")
        st.button("Sign out", key="sign_out", on_click=lambda: session.sign_out(
            session.context()))
    else:
        st.button("Sign in with Ethereum", key="sign_in", type="primary",
                  on_click=lambda: session.start_sign_in(session.context()))


def role_names(ctx: Context) -> set[str]:
    """The caller's roles, an auditor role the mirror reports by id shown by its name."""
    names = {session.role_hex(name): name for name in ctx.settings.vault_auditor_roles}
    return {names.get(role.lower(), role) for role in ctx.roles}


def _connect() -> None:
    wallet.ask("eth_requestAccounts", [], {"kind": "connect"})


def _switch_chain(chain_id: int) -> None:
    wallet.ask("wallet_switchEthereumChain", [{"chainId": hex(chain_id)}], {"kind": "switch"})


def node_type_name(code: Any) -> str:
    try:
        return NODE_TYPE_LABELS.get(int(code), str(code))
    except (TypeError, ValueError):
        return str(code)


def records(rows: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Rows of the backend's answers as they came over the wire (times as ISO text)."""
    return [row.model_dump(mode="json") for row in rows]


def table(rows: Sequence[BaseModel], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records(rows), columns=columns)
    if "node_type" in frame:
        frame["node_type"] = frame["node_type"].map(node_type_name)
    return frame


def require_sign_in(ctx: Context) -> bool:
    if ctx.me:
        return True
    st.info("Sign in with your wallet (sidebar) to see this page.")
    return False


def confirm_box(key: str, consequence: str) -> bool:
    """A confirmation checkbox naming the consequence; True once ticked."""
    return st.checkbox(f"I understand: {consequence}", key=key)

