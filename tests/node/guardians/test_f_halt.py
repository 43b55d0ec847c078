"""The automatic halt, end to end: the guarded desk replays 2007-06 to 2008-10 (the 2008
crash), publishing its equity each step; both guardians see its drawdown cross MAX_DRAWDOWN,
stop its non-reducing orders, sign a NodeGuard halt, gather quorum and submit it; once
indexed, every order is refused as halted. Governance resumes at the end.

Named to run after test_desk_live.py and before test_guardian_network.py (which kills a
guardian)."""

from __future__ import annotations

import re
import time

from client import BackendClient
from noderr.halt_report import GUARD_CONTRACT
from tests.node.guardians.conftest import MAX_DRAWDOWN, GuardianNetwork
from tests.node.guardians.test_desk_live import summary, trade

CRASH = ["--start", "2007-06-01", "--days", "350", "--cash", "5000"]


def test_guarded_desk__drawdown_breach__guardians_halt_the_network(
        guardian_network: GuardianNetwork, desk_account: int):
    network = guardian_network.network
    record = network.deployment.contracts[GUARD_CONTRACT]
    guard = network.w3.eth.contract(address=record.address, abi=record.abi)
    desk = network.account(desk_account)
    first = {account: len(node.lines) for account, node in guardian_network.guardians.items()}
    start_block = network.w3.eth.block_number
    try:
        breaching = trade(guardian_network, *CRASH, "--guardians", "--account",
                          str(desk_account))
        network.wait_until(lambda: guard.functions.is_halted().call(), "the halt on-chain",
                           timeout=60)
        with BackendClient(network.services.api_url) as client:
            state = network.wait_until(
                lambda: (guarded := client.network_guard()).halted and guarded,
                "the halt in the mirror")
        indexed_at = time.monotonic()
        after = trade(guardian_network, *CRASH, "--guardians", "--account", str(desk_account))
        [halted] = guard.events.Halted().get_logs(from_block=start_block)
        mined = network.w3.eth.get_block(halted["blockNumber"])["timestamp"]
        breaches = {account: node.wait_for(r"breach at ", after=first[account])
                    for account, node in guardian_network.guardians.items()}
    finally:
        network.ops.govern(guard.functions.resume())

    assert desk in halted["args"]["reason"] and f"(max {MAX_DRAWDOWN:.2%})" in halted["args"][
        "reason"]
    signers = {network.account(account) for account in guardian_network.guardians}
    assert set(halted["args"]["signers"]) == signers
    assert state.reason == halted["args"]["reason"] and set(state.signers) == signers
    breached = summary(breaching)
    assert breached["refused"].get("trading_state", 0) + breached["refused"].get("halted", 0) > 0
    assert set(summary(after)["refused"]) == {"halted"}
    breach_at = min(guardian_network.guardians[account].lines[index][0]
                    for account, (index, _) in breaches.items())
    breach_wall = re.search(r"breach at (\S+):", min(line for _, line in breaches.values()))
    print(f"\nbreach (guardian log, {breach_wall and breach_wall.group(1)}) -> halt mined "
          f"(block {halted['blockNumber']}, timestamp {mined}) -> indexed: "
          f"{indexed_at - breach_at:.2f} s from breach to indexed")
