"""Page logic with streamlit.testing.v1.AppTest against the real backend of the live stack;
the wallet component's state is set through session_state["wallet"]."""

from __future__ import annotations

import httpx
import pytest
from eth_utils import to_checksum_address
from streamlit.testing.v1 import AppTest

from noderr.jsonrpc import call as rpc
from noderr_cli.seed import sign_in
from tests.dashboard.conftest import LiveStack, signed_in, texts, wallet_env


def test_connected__offers_sign_in_and_only_overview(make_app, live):
    at = make_app(live.admin).run()
    assert not at.exception
    assert at.button(key="sign_in").label == "Sign in with Ethereum"
    with pytest.raises(ValueError):
        at.switch_page("views/licenses.py")


def test_no_wallet__offers_labelled_dev_wallet_on_local_chain(make_app, live):
    at = make_app(None, has_wallet=False).run()
    assert "development wallet" in at.checkbox(key="dev_wallet_enabled").label
    at.checkbox(key="dev_wallet_enabled").check().run()
    assert at.selectbox(key="dev_wallet_account").value == 0
    assert not at.exception


def test_wrong_chain__warns_and_offers_switch_not_sign_in(make_app, live):
    at = make_app(live.admin, chain_id=1).run()
    assert any("Wrong chain" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "sign_in"]
    at.button(key="switch_chain").click().run()
    request = at.session_state["wallet_request"]
    assert request["method"] == "wallet_switchEthereumChain"
    assert request["params"] == [{"chainId": "0x7a69"}]


def answer(at: AppTest, live: LiveStack, address: str, result: dict) -> AppTest:
    request_id = at.session_state["wallet_request"]["id"]
    at.session_state["wallet"] = {"env": wallet_env(live, address),
                                  "result": {"id": request_id, **result}}
    return at.run()


def test_sign_in__signs_checksummed_siwe_then_holds_session(make_app, live):
    at = make_app(live.admin).run()
    at.button(key="sign_in").click().run()
    request = at.session_state["wallet_request"]
    assert request["method"] == "personal_sign"
    message = bytes.fromhex(request["params"][0][2:]).decode()
    assert f"\n{to_checksum_address(live.admin)}\n" in message
    assert "Chain ID: 31337" in message and message.startswith(
        live.services.dashboard_url.removeprefix("http://"))
    signature = rpc(live.services.rpc_url, "personal_sign", request["params"])
    at = answer(at, live, live.admin, {"ok": True, "value": signature})
    assert at.session_state["session_token"]
    assert "roles: MINTER_ROLE, PAUSER_ROLE, REVOKER_ROLE" in texts(at)
    assert not at.exception


def test_sign_in__rejected_signature__plain_error(make_app, live):
    at = make_app(live.admin).run()
    at.button(key="sign_in").click().run()
    at = answer(at, live, live.admin, {"ok": False, "error": {
        "code": 4001, "message": "User rejected the request."}})
    assert [e.value for e in at.error] == [
        "Sign-in failed: you rejected the signature request in your wallet."]
    assert "session_token" not in at.session_state
    assert not at.exception


def test_admin__approve__asks_wallet_to_send_backend_mint_transaction(make_app, live):
    grace = next(app_id for applicant, app_id in live.seeded if applicant.name == "Grace Hopper")
    at = signed_in(make_app, live, 0)
    at.switch_page("views/applications.py").run()
    at.selectbox(key="app_chosen").set_value(grace).run()
    at.text_input(key=f"note_{grace}").input("runs two nodes already").run()
    at.button(key=f"approve_{grace}").click().run()
    request = at.session_state["wallet_request"]
    assert request["method"] == "eth_sendTransaction"
    tx = request["params"][0]
    assert tx["to"] == live.license_address and tx["data"].startswith("0x")
    assert tx["from"].lower() == live.admin.lower()
    assert "Grace Hopper · Guardian · approved" in texts(at)
    at = answer(at, live, live.admin, {"ok": True, "value": {
        "hash": "0x" + "ab" * 32, "status": "reverted", "block": 9}})
    assert any("reverted in block 9" in e.value for e in at.error)


def test_non_admin__no_applications_page_no_license_actions(make_app, live):
    at = signed_in(make_app, live, 5)
    assert "You hold no admin role" in texts(at)
    with pytest.raises(ValueError):
        at.switch_page("views/applications.py")
    at.switch_page("views/licenses.py").run()
    assert not at.exception
    assert not [r for r in at.radio if str(r.key).startswith("action_")]


@pytest.mark.parametrize("view", ["audit", "governance", "monitoring", "licenses", "network"])
def test_auditor_views__render_from_backend(make_app, live, view):
    at = signed_in(make_app, live, 0)
    at.switch_page(f"views/{view}.py").run()
    assert not at.exception
    assert not at.error
    assert view.title() in texts(at)


def test_monitoring__head_indexed_and_lag(make_app, live):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/monitoring.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Chain head"]) == live.w3.eth.block_number
    assert int(metrics["Indexer lag (blocks)"]) >= 0


def test_backend_down__plain_error_not_traceback(make_app, live):
    from noderr.ports import free_port

    at = make_app(live.admin, api_url=f"http://127.0.0.1:{free_port()}")
    at.session_state["session_token"] = "stale"  # noqa: S105 - not a secret
    at.run()
    at.button(key="sign_in").click().run()
    assert any("does not answer" in e.value for e in at.error)
    assert not at.exception


def confirmed_tx(block: int) -> dict:
    return {"label": "Suspend license #1 of 0xabc", "hash": "0x" + "cd" * 32,
            "status": "success", "block": block}


def test_confirmed_tx__indexer_caught_up__page_reruns_and_stops_following(make_app, live):
    at = signed_in(make_app, live, 0)
    indexed = httpx.get(f"{live.services.api_url}/readyz", timeout=10).json()["indexed_block"]
    at.session_state["last_tx"] = confirmed_tx(indexed)
    at.switch_page("views/licenses.py").run()
    assert not at.exception
    assert at.session_state["last_tx"]["indexed"] is True
    assert "Waiting for the indexer" not in texts(at)
    assert any("confirmed in block" in s.value for s in at.success)


def test_confirmed_tx__indexer_behind__keeps_following(make_app, live):
    at = signed_in(make_app, live, 0)
    ahead = live.w3.eth.block_number + 1000
    at.session_state["last_tx"] = confirmed_tx(ahead)
    at.switch_page("views/licenses.py").run()
    assert not at.exception
    assert "indexed" not in at.session_state["last_tx"]
    assert f"Waiting for the indexer to see block {ahead}" in texts(at)


def test_governance__validator_proposes_an_approved_validator_application(make_app, live):
    """Alan Turing (anvil #3) applied for a Validator license: once approved, the Governance
    page offers the genesis validator (anvil #9) the proposal that admits him."""
    alan = next(app_id for applicant, app_id in live.seeded if applicant.name == "Alan Turing")
    api, rpc_url, accounts = live.services.api_url, live.services.rpc_url, live.w3.eth.accounts
    for account, path in ((3, "claim"), (0, "approve")):
        token = sign_in(api, rpc_url, accounts[account])
        answer_ = httpx.post(f"{api}/applications/{alan}/{path}", json={"note": "ok"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer_.status_code == 200, answer_.text

    outsider = signed_in(make_app, live, 0)
    outsider.switch_page("views/governance.py").run()
    assert "holds an active Validator license" in texts(outsider)
    assert not [b for b in outsider.button if str(b.key).startswith("propose_")]

    at = signed_in(make_app, live, 9)
    at.switch_page("views/governance.py").run()
    assert not at.exception and not at.error
    at.button(key=f"propose_{alan}").click().run()
    request = at.session_state["wallet_request"]
    assert request["method"] == "eth_sendTransaction"
    tx = request["params"][0]
    assert tx["to"] == live.deployment.contracts["NodeGovernor"].address
    assert tx["from"].lower() == accounts[9].lower()


def test_licenses__validator_license__no_revoker_action(make_app, live):
    """The genesis validator's license #1: a REVOKER is offered nothing, governance decides."""
    at = signed_in(make_app, live, 0)
    at.switch_page("views/licenses.py").run()
    at.selectbox(key="lic_chosen").set_value(1).run()
    assert not at.exception
    assert "License #1 · Validator · active" in texts(at)
    assert "only governance (a passed proposal)" in texts(at)
    assert not [r for r in at.radio if str(r.key).startswith("action_")]
