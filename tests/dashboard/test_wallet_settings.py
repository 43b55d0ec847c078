"""The development wallet as the README walks it (tick, the browser reports it, sign in) and
what the wallet component sends to every visitor's browser: the RPC URL (hosted ones embed
an API key) only while the development wallet is on."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import wallet
from noderr.deployment import Deployment
from tests.dashboard.conftest import LiveStack, wallet_data, wallet_env


def test_dev_wallet__stays_on_after_the_browser_reports_it(make_app, live: LiveStack):
    at = make_app(None, has_wallet=False).run()
    at.checkbox(key=wallet.DEV_ENABLED).check().run()
    assert '"enabled": true' in wallet_data(at)
    # The browser now reports the development wallet and its account #0.
    at.session_state["wallet"] = {"env": wallet_env(live, live.admin, has_wallet=False,
                                                    dev=True), "result": None}
    at.run()
    at.run()
    assert '"enabled": true' in wallet_data(at)
    assert live.services.rpc_url in wallet_data(at)
    at.button(key="sign_in").click().run()
    assert at.session_state[wallet.REQUEST]["method"] == "personal_sign"
    assert '"enabled": true' in wallet_data(at)
    assert not at.error and not at.exception


def test_dev_wallet__can_be_turned_off_again(make_app, live: LiveStack):
    at = make_app(None, has_wallet=False).run()
    at.checkbox(key=wallet.DEV_ENABLED).check().run()
    at.session_state["wallet"] = {"env": wallet_env(live, live.admin, has_wallet=False,
                                                    dev=True), "result": None}
    at.run()
    at.checkbox(key=wallet.DEV_ENABLED).uncheck().run()
    assert '"enabled": false' in wallet_data(at)
    assert live.services.rpc_url not in wallet_data(at)


def chain_one_deployment(live: LiveStack, folder: Path) -> str:
    deployment = Deployment.load(live.services.deployment).model_copy(update={"chain_id": 1})
    deployment.save(folder / "1.json")
    return str(folder / "1.json")


@pytest.mark.parametrize("case", ["dev wallet not ticked", "NODERR_DEV_WALLET=false",
                                  "browser wallet", "chain 1"])
def test_rpc_url__not_sent_while_the_dev_wallet_is_off(make_app, live: LiveStack,
                                                       tmp_path: Path, case: str):
    settings = {"NODERR_DEV_WALLET=false": {"NODERR_DEV_WALLET": "false"},
                "chain 1": {"NODERR_DEPLOYMENT": chain_one_deployment(live, tmp_path)}
                }.get(case, {})
    at = make_app(live.admin if case == "browser wallet" else None, settings=settings,
                  has_wallet=case == "browser wallet").run()
    if case != "dev wallet not ticked":
        assert not [box for box in at.checkbox if box.key == wallet.DEV_ENABLED]
    assert not at.exception
    assert live.services.rpc_url not in wallet_data(at)
