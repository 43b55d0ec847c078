"""Per-browser-session state: the chain, the backend client, the SIWE session and roles,
messages to show once, and what to do with each wallet answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from client import BackendClient, BackendError
from client.models import Me
from dashboard import wallet
from dashboard.safe_text import escape_markdown, inline_code
from dashboard.settings import Chain, DashboardSettings, get_dashboard_settings, load_chain
from dashboard.wallet import WalletEnv, WalletResult
from noderr.domain import ADMIN_ROLES, role_id

TOKEN, ME, FLASH, LAST_TX = "session_token", "session_me", "flash", "last_tx"


@dataclass
class Context:
    """What every page needs during one script run."""

    settings: DashboardSettings
    chain: Chain
    env: WalletEnv

    def client(self) -> BackendClient:
        return BackendClient(self.settings.api_url, token=st.session_state.get(TOKEN),
                             timeout=self.settings.api_timeout)

    @property
    def me(self) -> Me | None:
        return st.session_state.get(ME)

    @property
    def roles(self) -> set[str]:
        return set(self.me.roles) if self.me else set()

    @property
    def is_admin(self) -> bool:
        return bool(self.roles.intersection(ADMIN_ROLES))

    @property
    def wrong_chain(self) -> bool:
        return self.env.chain_id is not None and self.env.chain_id != self.chain.chain_id


def holds_any(ctx: Context, roles: list[str]) -> bool:
    """Whether the signed-in wallet holds one of `roles` (the mirror names a role the ABI has
    no getter for by its id, keccak256 of the name)."""
    held = {role.lower() for role in ctx.roles}
    return any(role.lower() in held or role_hex(role) in held for role in roles)


def role_hex(name: str) -> str:
    """A role's id as the mirror reports an unnamed role: 0x-hex, lowercase."""
    return "0x" + role_id(name).hex()


def context() -> Context:
    return st.session_state["_context"]


def load() -> tuple[DashboardSettings, Chain]:
    settings = get_dashboard_settings()
    return settings, load_chain(settings)


def flash(level: str, text: str) -> None:
    """Show `text` once at the top of the next page render (level: error/warning/success/info)."""
    st.session_state.setdefault(FLASH, []).append((level, text))


def refresh_me(ctx: Context) -> None:
    """Re-read /auth/me (roles change on-chain); an expired session signs out."""
    if not st.session_state.get(TOKEN):
        return
    try:
        st.session_state[ME] = ctx.client().me()
    except BackendError as error:
        if error.status == 401:
            clear_session()
            flash("warning", f"Signed out: {escape_markdown(error.detail)}")
        else:
            flash("error", f"Cannot read your session: {escape_markdown(error)}")


def clear_session() -> None:
    for key in (TOKEN, ME):
        st.session_state.pop(key, None)


def follow_wallet_account(ctx: Context) -> None:
    """A session belongs to one address: switching accounts in the wallet signs out."""
    me, address = ctx.me, ctx.env.address
    if me and address and address.lower() != me.address.lower():
        clear_session()
        flash("warning", f"Your wallet switched to {inline_code(address)}: signed out of "
                         f"{inline_code(me.address)}.")


def start_sign_in(ctx: Context) -> None:
    """Fetch a nonce, build the SIWE message and ask the wallet to sign it."""
    env = ctx.env
    if ctx.wrong_chain:
        flash("error", f"Wrong chain: switch your wallet to chain {ctx.chain.chain_id} first.")
        return
    if not env.address or not env.origin:
        flash("error", "Connect a wallet first.")
        return
    try:
        message = ctx.client().sign_in_message(env.address, ctx.chain.chain_id, env.origin)
    except BackendError as error:
        flash("error", f"Cannot start sign-in: {escape_markdown(error)}")
        return
    wallet.ask("personal_sign", wallet.sign_params(message, env.address),
               {"kind": "sign_in", "message": message})


def finish_sign_in(ctx: Context, result: WalletResult, purpose: dict[str, Any]) -> None:
    if not result.ok:
        reason = ("you rejected the signature request in your wallet" if result.rejected
                  else escape_markdown(result.message))
        flash("error", f"Sign-in failed: {reason}.")
        return
    try:
        session = ctx.client().verify(purpose["message"], str(result.value))
    except BackendError as error:
        flash("error", f"Sign-in refused: {escape_markdown(error)}")
        return
    st.session_state[TOKEN] = session.token
    refresh_me(ctx)
    flash("success", f"Signed in as {inline_code(session.address)}.")


def sign_out(ctx: Context) -> None:
    try:
        ctx.client().logout()
    except BackendError as error:
        if error.status != 401:
            flash("warning", f"The backend did not end the session: {escape_markdown(error)}")
    clear_session()
    flash("info", "Signed out.")


def send_transaction(ctx: Context, to: str, data: str, label: str) -> None:
    """Ask the wallet to send a transaction (refused on the wrong chain or without a wallet)."""
    if ctx.wrong_chain:
        flash("error", f"Wrong chain: your wallet is on chain {ctx.env.chain_id}; this "
                       f"deployment is on chain {ctx.chain.chain_id}. Nothing was sent.")
        return
    if not ctx.env.address:
        flash("error", "Connect a wallet first: nothing was sent.")
        return
    st.session_state[LAST_TX] = {"label": label, "hash": None, "status": "waiting for wallet"}
    wallet.ask("eth_sendTransaction", [wallet.transaction(ctx.env.address, to, data)],
               {"kind": "tx", "label": label})


def record_transaction(result: WalletResult, purpose: dict[str, Any]) -> None:
    label = purpose.get("label", "transaction")
    if not result.ok:
        reason = ("you rejected the transaction in your wallet" if result.rejected
                  else result.message)
        st.session_state[LAST_TX] = {"label": label, "hash": None, "status": "failed",
                                     "error": reason}
        return
    value = result.value if isinstance(result.value, dict) else {}
    st.session_state[LAST_TX] = {"label": label, "hash": value.get("hash"),
                                 "status": value.get("status"), "block": value.get("block")}


def handle_wallet_answer(ctx: Context, result: WalletResult | None) -> None:
    """Act once on each new answer from the wallet component."""
    answer = wallet.new_answer(result)
    if answer is None:
        return
    result, purpose = answer
    kind = purpose.get("kind")
    if kind == "sign_in":
        finish_sign_in(ctx, result, purpose)
    elif kind == "tx":
        record_transaction(result, purpose)
    elif not result.ok:
        reason = "you rejected the request" if result.rejected else escape_markdown(
            result.message)
        flash("error", f"Wallet: {reason}.")
