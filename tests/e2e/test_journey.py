"""The product's journey end to end, on real parts (tests/e2e/conftest.py): the steps run in
order on one stack, each asserting what the person at that step would check.

1. A signed Typeform webhook creates an Oracle (Ada, anvil #1), a Guardian (Grace, #2) and a
   Validator (Alan, #3) application; each operator claims its own by signing in.
2. An operator who starts the node before the license exists is refused (exit 3). The admin
   (#0) approves Ada's application in Chromium and the injected wallet sends the mint;
   Grace's is approved through the API and minted from the admin's wallet; Alan's approval
   answers a governance proposal that the genesis validator (#9) sends, votes, queues and
   executes. The paper desk's key (#4) gets an Oracle license from the admin too.
3. Each operator stores a credential in the vault and starts its node, which loads it and
   activates.
4. The oracle publishes, the two validators agree and NodeFeed's latest round advances; the
   ML server answers the licensed guardian and refuses a key without a license.
5. The paper desk replays the 2008 crash through the guardian; the drawdown breach makes the
   guardian halt NodeGuard on-chain (one active guardian: a quorum of one) and the desk is
   refused as halted.
6. Governance (a proposal of the validators through the timelock) resumes trading; the admin
   revokes Ada's license in Chromium; her node exits 4 (the time from the click is printed),
   her vault secrets are shredded (the chain is final at depth 0 on 31337) and she leaves
   the membership the other nodes verify the bus against.

Screenshots go to test-artifacts/dashboard/journey-*.png."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from eth_account import Account
from eth_utils import keccak
from playwright.sync_api import Browser, Page, expect

from client import BackendClient
from client.forecasts import ForecastClient, ForecastError
from ml import data
from node.runtime.keys import anvil_account
from noderr.domain import NodeType
from noderr.halt_report import GUARD_CONTRACT
from noderr.settings import LOCAL_CHAIN_ID
from noderr_cli.seed import seed
from noderr_cli.services import DEMO_FORM_ID
from tests.dashboard.browser import click as press
from tests.dashboard.browser import go_to, open_page, pick, provider_script, shot, type_into
from tests.dashboard.browser import sign_in as connect_and_sign_in
from tests.dashboard.test_e2e_browser import (
    STATUS_TIMEOUT,
    follows,
    license_action,
    send_and_confirm,
)
from tests.e2e.conftest import (
    ADMIN,
    DESK,
    GENESIS_VALIDATOR,
    OPERATORS,
    STRANGER,
    TYPEFORM_SECRET,
    Walk,
)
from tests.ml.test_forecast_client import columns
from tests.node.guardians.conftest import MAX_DRAWDOWN, MAX_NOTIONAL, MAX_POSITION
from tests.node.guardians.test_desk_live import REPLAY, summary
from tests.node.guardians.test_f_halt import CRASH
from tests.node.runtime.test_node_bus import SUBJECT, publish, signer
from tests.node.validators.conftest import FEED, VALIDATOR_ENV, only_feed
from tests.vault.helpers import audit_rows
from tests.vault.test_finality import data_keys

GUARDIAN_ENV = {"NODERR_GUARDIAN_MAX_NOTIONAL": str(MAX_NOTIONAL),
                "NODERR_GUARDIAN_MAX_POSITION": str(MAX_POSITION),
                "NODERR_GUARDIAN_MAX_DRAWDOWN": str(MAX_DRAWDOWN),
                "NODERR_GUARDIAN_RATE_CAPACITY": "1000",
                "NODERR_GUARDIAN_RATE_PER_SECOND": "100"}
CREDENTIAL = {"api_key": "journey-key", "api_secret": "journey-secret"}


def admin_page(browser: Browser, walk: Walk) -> Page:
    services = walk.journey.services
    page = open_page(browser, services.dashboard_url,
                     provider_script(services.rpc_url, walk.wallet(ADMIN)))
    connect_and_sign_in(page)
    expect(page.get_by_test_id("stSidebarUserContent").get_by_text(
        "roles: MINTER_ROLE, PAUSER_ROLE, REVOKER_ROLE")).to_be_visible()
    return page


def govern(walk: Walk, proposal: dict, voters: list[int]) -> None:
    """Send the governor's `propose` transaction `proposal` from the genesis validator; each of
    `voters` votes For, then it is queued and executed (the fixture's timelock delay is 0, so
    no time travel: the proposal's grace period runs on the chain's clock)."""
    governor, ops, w3 = walk.contract("NodeGovernor"), walk.network.ops, walk.network.w3
    _, arguments = governor.decode_function_input(proposal["data"])
    targets, values, calldatas, description = (
        arguments[name] for name in ("targets", "values", "calldatas", "description"))
    description_hash = keccak(text=description)
    walk.send_from(GENESIS_VALIDATOR, proposal)
    proposal_id = governor.functions.hash_proposal(targets, values, calldatas,
                                                   description_hash).call()
    ops.mine(2)
    for voter in voters:
        walk.send_from(voter, {"to": governor.address,
                               "data": governor.encode_abi("cast_vote", [proposal_id, 1])})
    ops.mine(governor.functions.proposal_deadline(proposal_id).call() + 1 - w3.eth.block_number)
    for step in ("queue", "execute"):
        walk.send_from(GENESIS_VALIDATOR, {"to": governor.address, "data": governor.encode_abi(
            step, [targets, values, calldatas, description_hash])})


def test_1_typeform_webhook__applications_created__each_operator_claims_its_own(walk: Walk):
    services = walk.journey.services
    created = seed(services.api_url, services.rpc_url, TYPEFORM_SECRET, DEMO_FORM_ID,
                   claimed=3)
    walk.applications = {applicant.node_type: (applicant, app_id)
                         for applicant, app_id in created}
    assert set(walk.applications) == set(OPERATORS)
    for node_type, account in OPERATORS.items():
        applicant, _ = walk.applications[node_type]
        assert applicant.wallet.lower() == walk.wallet(account).lower()
        mine = walk.application(node_type)
        assert (mine["status"], mine["wallet_verified"]) == ("pending", True)
        assert mine["node_type"] == node_type


def test_2_approval__browser_api_and_governance__every_license_minted(
        walk: Walk, browser: Browser):
    early = walk.network.start_node(NodeType.ORACLE, OPERATORS[NodeType.ORACLE])
    assert early.wait_exit(timeout=60) == 3
    assert f"{walk.wallet(OPERATORS[NodeType.ORACLE])} holds no Oracle license" in early.output()

    page = admin_page(browser, walk)
    go_to(page, "Applications")
    pick(page, "Application", "Ada Lovelace")
    expect(page.get_by_text("Ada Lovelace · Oracle · pending")).to_be_visible()
    type_into(page, "Review note (kept in the history)", "journey: experienced operator")
    shot(page, "journey-1-oracle-application")
    press(page, "Approve and mint")
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    expect(page.get_by_text("confirmed in block")).to_be_visible(timeout=STATUS_TIMEOUT)
    follows(page, "Ada Lovelace · Oracle · minted")
    shot(page, "journey-2-oracle-minted")
    page.close()

    _, guardian_app = walk.applications[NodeType.GUARDIAN]
    approved = walk.request(ADMIN, "POST", f"/applications/{guardian_app}/approve",
                            json={"note": "journey: guardian"}).json()
    walk.send_from(ADMIN, approved["mint_transaction"])

    _, validator_app = walk.applications[NodeType.VALIDATOR]
    approved = walk.request(ADMIN, "POST", f"/applications/{validator_app}/approve",
                            json={"note": "journey: validator"}).json()
    assert approved["status"] == "approved" and "mint_transaction" not in approved
    proposal = approved["proposal_transaction"]
    assert approved["application_id"] in proposal["description"]
    govern(walk, proposal, voters=[GENESIS_VALIDATOR])

    minted = {node_type: walk.network.wait_until(
        lambda node_type=node_type: (mine := walk.application(node_type))["status"] == "minted"
        and mine, f"the {node_type.label} application minted", timeout=60)
        for node_type in OPERATORS}
    license_ = walk.network.ops.contract
    for node_type, mine in minted.items():
        assert license_.functions.ownerOf(mine["token_id"]).call() == walk.wallet(
            OPERATORS[node_type])
        walk.tokens[node_type] = mine["token_id"]
    assert minted[NodeType.ORACLE]["history"][-1]["actor"] == walk.wallet(ADMIN).lower()
    assert minted[NodeType.GUARDIAN]["history"][-1]["actor"] == walk.wallet(ADMIN).lower()
    assert minted[NodeType.VALIDATOR]["history"][-1]["actor"] == walk.network.ops.timelock.lower()
    assert walk.tokens[NodeType.ORACLE] == 2  # the first minted: #1 is the genesis validator's

    desk_token = walk.network.ops.mint(walk.wallet(DESK), NodeType.ORACLE, salt="journey-desk")
    walk.network.wait_until(lambda: {desk_token, *walk.tokens.values()} <= {
        member["token_id"] for member in walk.network.api("/network/members")["members"]},
        "every license in the membership")


def test_3_vault_credentials__nodes_load_them_and_activate(walk: Walk):
    for node_type, account in OPERATORS.items():
        stored = walk.request(account, "PUT",
                              f"/vault/licenses/{walk.tokens[node_type]}/secrets/exchange",
                              json={"data": CREDENTIAL})
        assert stored.status_code < 300, stored.text
    walk.feed = only_feed(walk.network)
    envs = {NodeType.VALIDATOR: VALIDATOR_ENV, NodeType.GUARDIAN: GUARDIAN_ENV,
            NodeType.ORACLE: {}}
    walk.nodes = {node_type: walk.network.start_node(node_type, account, **envs[node_type])
                  for node_type, account in OPERATORS.items()}
    walk.genesis = walk.network.start_node(NodeType.VALIDATOR, GENESIS_VALIDATOR,
                                           **VALIDATOR_ENV)
    for node_type, node in walk.nodes.items():
        _, line = node.wait_for("node activated", timeout=90)
        assert (f"{node_type.label} license #{walk.tokens[node_type]} active" in line
                and "1 vault credential(s) loaded" in line)
    walk.genesis.wait_for("node activated", timeout=90)


def test_4_network_runs__rounds_land_and_the_ml_server_answers_the_guardian(walk: Walk):
    oracle = walk.nodes[NodeType.ORACLE]
    oracle.wait_for("first round done", timeout=60)
    first = walk.feed.functions.latest_round().call()
    from_block = walk.network.w3.eth.block_number
    latest = walk.network.wait_until(
        lambda: (now := walk.feed.functions.latest_round().call()) > first and now,
        f"NodeFeed.{FEED}'s latest round to advance", timeout=90)
    round_id, answer, *_ = walk.feed.functions.latestRoundData().call()
    assert round_id >= latest and answer > 0
    landed = walk.feed.events.Transmitted().get_logs(from_block=from_block)
    validators = {walk.wallet(GENESIS_VALIDATOR), walk.wallet(OPERATORS[NodeType.VALIDATOR])}
    assert landed and all(set(event["args"]["signers"]) == validators for event in landed)

    history = columns(data.load("sp500").iloc[600:801])
    guardian = walk.session(OPERATORS[NodeType.GUARDIAN])
    with ForecastClient(walk.journey.ml_target, guardian, timeout=10) as forecasts:
        forecast = forecasts.predict("SPX", history)
    assert forecast.instrument == "SPX" and forecast.variance > 0 and forecast.model_version
    stranger = walk.session(STRANGER)
    with (ForecastClient(walk.journey.ml_target, stranger, timeout=10) as refused,
          pytest.raises(ForecastError) as error):
        refused.predict("SPX", history)
    assert error.value.code == "PERMISSION_DENIED"


def trade(walk: Walk, *args: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "noderr_cli", *REPLAY, *CRASH, *args,
                          "--guardians", "--account", str(DESK)],
                         env=walk.network.env(), capture_output=True, text=True, timeout=240)
    return summary(run)


def test_5_paper_desk__replayed_crash__guardian_halts_on_chain_and_the_desk_stops(walk: Walk):
    guard = walk.contract(GUARD_CONTRACT)
    start_block = walk.network.w3.eth.block_number
    breaching = trade(walk)
    walk.network.wait_until(lambda: guard.functions.is_halted().call(), "the halt on-chain",
                            timeout=60)
    [halted] = guard.events.Halted().get_logs(from_block=start_block)
    assert walk.wallet(DESK) in halted["args"]["reason"]
    assert set(halted["args"]["signers"]) == {walk.wallet(OPERATORS[NodeType.GUARDIAN])}
    assert breaching["orders"] > 0
    assert breaching["refused"].get("trading_state", 0) + breaching["refused"].get(
        "halted", 0) > 0
    with BackendClient(walk.journey.services.api_url) as client:
        walk.network.wait_until(lambda: client.network_guard().halted, "the halt in the mirror")
    after = trade(walk, "--days", "130")
    assert set(after["refused"]) == {"halted"} and after["orders"] == 0


def test_6_resume_and_revoke__oracle_node_exits_and_its_secrets_are_shredded(
        walk: Walk, browser: Browser):
    guard = walk.contract(GUARD_CONTRACT)
    governor = walk.contract("NodeGovernor")
    resume = governor.encode_abi("propose", [[guard.address], [0], [guard.encode_abi("resume", [])],
                                             "Resume trading after the 2008 replay's halt"])
    govern(walk, {"to": governor.address, "data": resume},
           voters=[GENESIS_VALIDATOR, OPERATORS[NodeType.VALIDATOR]])
    assert not guard.functions.is_halted().call()
    with BackendClient(walk.journey.services.api_url) as client:
        walk.network.wait_until(lambda: not client.network_guard().halted,
                                "the resume in the mirror")

    oracle, token = walk.nodes[NodeType.ORACLE], walk.tokens[NodeType.ORACLE]
    page = admin_page(browser, walk)
    go_to(page, "Licenses")
    pick(page, "License", f"#{token}")
    expect(page.get_by_text(f"License #{token} · Oracle · active")).to_be_visible()
    license_action(page, "revoke", "terms violated")
    shot(page, "journey-3-revoke-confirmation")
    clicked = time.monotonic()
    send_and_confirm(page, f"Revoke license #{token}")
    assert oracle.wait_exit(timeout=60) == 4
    stopped_after = time.monotonic() - clicked
    assert f"license #{token} was revoked: terms violated; the node stops" in oracle.output()
    follows(page, f"License #{token} · Oracle · revoked")
    shot(page, "journey-4-oracle-revoked")
    page.close()
    print(f"\nrevoke clicked -> oracle node exited 4: {stopped_after:.2f} s")

    secret = walk.request(OPERATORS[NodeType.ORACLE], "GET",
                          f"/vault/licenses/{token}/secrets/exchange")
    assert secret.status_code == 403 and "revoked" in secret.json()["detail"]
    with psycopg.connect(walk.journey.services.database_url) as db:
        assert data_keys(db, token) == 0
        assert [row["detail"] for row in audit_rows(db, action="shred")] == [
            "license revoked: data key and 1 secret versions destroyed"]
    members = {member["token_id"] for member in walk.network.api("/network/members")["members"]}
    assert token not in members and walk.tokens[NodeType.GUARDIAN] in members
    the_others_drop_the_revoked_oracle(walk)


def the_others_drop_the_revoked_oracle(walk: Walk) -> None:
    """An observation still signed with the revoked operator's key is dropped as unlicensed by
    every running node (it keeps publishing until each has re-read the membership)."""
    key = Account.from_key(anvil_account(OPERATORS[NodeType.ORACLE], LOCAL_CHAIN_ID).private_key)
    as_revoked = signer(key, NodeType.ORACLE)
    others = [walk.genesis, walk.nodes[NodeType.VALIDATOR], walk.nodes[NodeType.GUARDIAN]]
    starts = [len(node.lines) for node in others]
    dropped = rf"bus dropped a message on {SUBJECT} from {key.address}: unlicensed$"

    def every_other_node_drops() -> bool:
        frame = as_revoked.seal(SUBJECT, b'{"value": "1"}')
        with ThreadPoolExecutor(1) as loop_free:  # Playwright's loop runs in this thread
            loop_free.submit(asyncio.run, publish(walk.journey.services.bus_url, [frame])).result()
        return all(any(re.search(dropped, line) for _, line in node.lines[start:])
                   for node, start in zip(others, starts, strict=True))
    walk.network.wait_until(every_other_node_drops, "every node dropping the revoked oracle")
    assert all(node.process.poll() is None for node in others)
