"""The wallet component (Streamlit components v2, inline JS): any EIP-1193 wallet in the
browser, or on chain 31337 only a labelled development wallet backed by anvil's unlocked
accounts. Python asks for one wallet request at a time; the answer comes back as state."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.settings import Chain

KEY = "wallet"
REQUEST = "wallet_request"
PURPOSE = "wallet_purpose"
SEEN = "wallet_seen"
DEV_ENABLED = "dev_wallet_enabled"
DEV_ACCOUNT = "dev_wallet_account"
# Streamlit forgets a widget's value in any run that does not render the widget; the
# development wallet's choice lives on in these keys, whatever the sidebar shows.
KEPT_DEV_CHOICE = {DEV_ENABLED: "dev_wallet_enabled_kept", DEV_ACCOUNT: "dev_wallet_account_kept"}
USER_REJECTED = 4001

_component = st.components.v2.component(
    "noderr.wallet",
    html='<div class="noderr-wallet-status" data-testid="noderr-wallet-status"></div>',
    css=".noderr-wallet-status { font-size: 0.8rem; color: var(--st-text-color); }",
    js=Path(__file__).with_name("wallet.js").read_text(),
)


@dataclass
class WalletEnv:
    """What the browser reported: its origin, whether it has a wallet, chain and accounts."""

    origin: str | None = None
    has_wallet: bool = False
    dev: bool = False
    chain_id: int | None = None
    accounts: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def address(self) -> str | None:
        return self.accounts[0] if self.accounts else None

    @property
    def reported(self) -> bool:
        return self.origin is not None


@dataclass
class WalletResult:
    id: str
    ok: bool
    value: Any = None
    error: dict[str, Any] | None = None

    @property
    def rejected(self) -> bool:
        return bool(self.error) and self.error.get("code") == USER_REJECTED

    @property
    def message(self) -> str:
        return str((self.error or {}).get("message") or "unknown wallet error")


def _noop() -> None:
    """Component state changes rerun the script; the script reads the new state."""


def dev_wallet_on() -> bool:
    return bool(st.session_state.get(KEPT_DEV_CHOICE[DEV_ENABLED]))


def dev_account() -> int:
    return int(st.session_state.get(KEPT_DEV_CHOICE[DEV_ACCOUNT], 0))


def restore_dev_choice() -> None:
    """Give the development wallet's widgets the kept choice before they render."""
    for widget, kept in KEPT_DEV_CHOICE.items():
        if kept in st.session_state:
            st.session_state[widget] = st.session_state[kept]


def keep_dev_choice() -> None:
    """on_change of the development wallet's widgets."""
    for widget, kept in KEPT_DEV_CHOICE.items():
        if widget in st.session_state:
            st.session_state[kept] = st.session_state[widget]


def dev_wallet_data(chain: Chain) -> dict[str, Any]:
    """What the development wallet needs in the browser. The RPC URL goes only while it is on:
    a hosted RPC URL usually embeds an API key, and the data reaches every visitor."""
    if not (chain.dev_wallet and dev_wallet_on()):
        return {"enabled": False}
    return {"enabled": True, "rpc_url": chain.rpc_url, "account": dev_account()}


def mount(chain: Chain) -> tuple[WalletEnv, WalletResult | None]:
    """Render the component; what the browser last reported, and the newest answer."""
    dev = dev_wallet_data(chain)
    known = (st.session_state.get(KEY) or {}).get("env")
    data = {"request": st.session_state.get(REQUEST), "dev": dev, "known": known}
    state = _component(key=KEY, data=data,
                       default={"env": None, "result": None}, on_env_change=_noop,
                       on_result_change=_noop)
    return parse_env(state.get("env")), parse_result(state.get("result"))


def parse_env(raw: Any) -> WalletEnv:
    if not isinstance(raw, dict):
        return WalletEnv()
    chain_id = raw.get("chain_id")
    return WalletEnv(origin=raw.get("origin"), has_wallet=bool(raw.get("has_wallet")),
                     dev=bool(raw.get("dev")),
                     chain_id=chain_id if isinstance(chain_id, int) else None,
                     accounts=[a for a in raw.get("accounts") or [] if isinstance(a, str)],
                     error=raw.get("error"))


def parse_result(raw: Any) -> WalletResult | None:
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    return WalletResult(id=str(raw["id"]), ok=bool(raw.get("ok")), value=raw.get("value"),
                        error=raw.get("error") if isinstance(raw.get("error"), dict) else None)


def ask(method: str, params: list[Any], purpose: dict[str, Any]) -> None:
    """Queue one wallet request; the component runs it on the next script run."""
    request_id = uuid.uuid4().hex
    st.session_state[REQUEST] = {"id": request_id, "method": method, "params": params}
    st.session_state[PURPOSE] = {**purpose, "id": request_id}


def new_answer(result: WalletResult | None) -> tuple[WalletResult, dict[str, Any]] | None:
    """The answer to the pending request, once per distinct answer, with its purpose."""
    purpose = st.session_state.get(PURPOSE)
    if result is None or not purpose or result.id != purpose.get("id"):
        return None
    fingerprint = json.dumps([result.id, result.ok, result.value, result.error], sort_keys=True,
                             default=str)
    if st.session_state.get(SEEN) == fingerprint:
        return None
    st.session_state[SEEN] = fingerprint
    return result, purpose


def sign_params(message: str, address: str) -> list[str]:
    """personal_sign parameters: the UTF-8 message as hex, then the address."""
    return ["0x" + message.encode().hex(), address]


def transaction(sender: str, to: str, data: str) -> dict[str, str]:
    return {"from": sender, "to": to, "data": data, "value": "0x0"}
