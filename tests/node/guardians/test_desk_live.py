"""`noderr trade paper --guardians` as a person runs it (a subprocess) against the two Guardian
nodes of tests/node/guardians/conftest.py: every order is asked of them over the bus, so the
run trades exactly as the in-process desk would under the guardians' limits; with more answers
required than there are guardians, every order is refused as guardian_quorum (fail closed);
a key without an active license is refused in one line; while NodeGuard is halted (as
indexed) every order is refused as halted.

This module runs before test_guardian_network.py, whose last test kills a guardian."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal

from client import BackendClient
from node.runtime.keys import anvil_account
from noderr.halt_report import GUARD_CONTRACT, Halt, halt_args, sign_halt
from noderr.settings import LOCAL_CHAIN_ID
from tests.node.guardians.conftest import (
    GUARDIANS,
    MAX_NOTIONAL,
    MAX_POSITION,
    GuardianNetwork,
)

UNLICENSED_ACCOUNT = 5
REPLAY = ["trade", "paper", "--feed", "SP500", "--start", "2007-01-03", "--fee-bps", "0",
          "--json"]
"""The strategy trades from the 101st value on (its slow average). With 10,000 of cash its
first orders are worth more than the guardians' MAX_NOTIONAL and its later rebalancing less:
over 130 values, some refused and some allowed. With 5,000 every order is within the limits."""


def trade(guarded: GuardianNetwork, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "noderr_cli", *REPLAY, *args],
                          env=guarded.network.env(**env), capture_output=True, text=True,
                          timeout=300)


def summary(run: subprocess.CompletedProcess) -> dict:
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_trade_paper_guardians__tight_limits__trades_as_the_guardians_allow(
        guardian_network: GuardianNetwork, desk_account: int):
    live = trade(guardian_network, "--days", "130", "--cash", "10000", "--guardians",
                 "--account", str(desk_account), NODERR_GUARDIAN_ANSWERS_REQUIRED="2",
                 NODERR_GUARDIAN_ANSWER_TIMEOUT="5")
    in_process = trade(guardian_network, "--days", "130", "--cash", "10000",
                       "--max-notional", str(MAX_NOTIONAL), "--max-position", str(MAX_POSITION))

    report = summary(live)
    assert set(report["refused"]) == {"order_notional"} and report["refused"]["order_notional"] > 0
    assert report["orders"] > 0 and report["fills"] >= report["orders"]
    assert report == summary(in_process)
    assert (f"{guardian_network.network.account(desk_account)}: Oracle license #"
            in live.stderr)
    assert "every order asked of the Guardian nodes (2 answer(s) within 5 s)" in live.stderr
    run_id = re.search(r"stored as (run-[0-9a-f]+): ", live.stderr).group(1)
    desk = guardian_network.network.account(desk_account).lower()
    orders = guardian_network.network.api("/trading/orders", desk=desk, limit=1000)["items"]
    mine = [item for item in orders if item["run_id"] == run_id]
    assert len([o for o in mine if o["status"] != "rejected"]) == report["orders"]
    assert len([o for o in mine if o["status"] == "rejected"]) == sum(report["refused"].values())
    curve = guardian_network.network.api("/trading/pnl", desk=desk, run=run_id, limit=1000)
    assert f"{Decimal(curve[-1]['equity']):.2f}" == report["final_equity"]


def test_trade_paper_guardians__more_answers_required_than_guardians__every_order_refused(
        guardian_network: GuardianNetwork, desk_account: int):
    live = trade(guardian_network, "--days", "110", "--cash", "5000", "--guardians",
                 "--account", str(desk_account), NODERR_GUARDIAN_ANSWERS_REQUIRED="3",
                 NODERR_GUARDIAN_ANSWER_TIMEOUT="0.5")

    report = summary(live)
    assert set(report["refused"]) == {"guardian_quorum"}
    assert report["refused"]["guardian_quorum"] > 0
    assert (report["orders"], report["fills"]) == (0, 0)
    assert report["final_equity"] == "5000.00"


def test_trade_paper_guardians__key_without_a_license__refused_in_one_line(
        guardian_network: GuardianNetwork):
    run = trade(guardian_network, "--days", "110", "--guardians", "--account",
                str(UNLICENSED_ACCOUNT))

    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip() == (
        f"error: {guardian_network.network.account(UNLICENSED_ACCOUNT)} holds no active "
        f"license; the desk trades only under a licensed key")


def halt_on_chain(network, reason: str) -> None:
    """Both guardians (anvil #3, #8: a majority of the active ones) sign a halt; anvil #0
    sends it to NodeGuard."""
    record = network.deployment.contracts[GUARD_CONTRACT]
    guard = network.w3.eth.contract(address=record.address, abi=record.abi)
    deadline = network.w3.eth.get_block("latest")["timestamp"] + 600
    halt = Halt(reason, deadline, guard.functions.halt_nonce().call())
    keys = [anvil_account(account, LOCAL_CHAIN_ID) for account in GUARDIANS]
    signatures = {key.address: sign_halt(key.private_key, LOCAL_CHAIN_ID, record.address, halt)
                  for key in keys}
    tx = guard.functions.halt(*halt_args(halt, signatures)).transact(
        {"from": network.account(0)})
    assert network.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1


def test_trade_paper_guardians__halted_on_chain__every_order_refused_as_halted(
        guardian_network: GuardianNetwork, desk_account: int):
    network = guardian_network.network
    halt_on_chain(network, "replayed crash: drawdown beyond the kill switch")
    with BackendClient(network.services.api_url) as client:
        network.wait_until(lambda: client.network_guard().halted, "the halt in the mirror")
    try:
        live = trade(guardian_network, "--days", "110", "--cash", "5000", "--guardians",
                     "--account", str(desk_account))
    finally:
        network.ops.govern(network.w3.eth.contract(
            address=network.deployment.contracts[GUARD_CONTRACT].address,
            abi=network.deployment.contracts[GUARD_CONTRACT].abi).functions.resume())
    report = summary(live)
    assert set(report["refused"]) == {"halted"} and report["refused"]["halted"] > 0
    assert (report["orders"], report["fills"]) == (0, 0)
