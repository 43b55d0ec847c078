"""VaR takes a guarded desk to REDUCING on real processes: `noderr trade paper --guardians`
replays October 2008 with a fast strategy (1 and 3 values) against the two Guardian nodes of
conftest.py, whose MAX_VAR its equity's EWMA VaR crosses while its drawdown stays near 3%
(no halt). Both guardians log the move with the crossed check; in REDUCING the strategy's
close of a position is allowed and the opening order after it, which would grow the book
again, is refused as trading_state.

Named to run after test_desk_live.py and before test_f_halt.py and test_guardian_network.py
(which kills a guardian)."""

from __future__ import annotations

import re
from collections import defaultdict

from tests.node.guardians.conftest import MAX_VAR, GuardianNetwork
from tests.node.guardians.test_desk_live import summary, trade

OCTOBER_2008 = ["--start", "2008-10-01", "--days", "30", "--cash", "5000", "--fast", "1",
                "--slow", "3"]


def test_guarded_desk__var_past_the_limit__reducing_named_and_only_reducing_orders_pass(
        guardian_network: GuardianNetwork, desk_account: int):
    network = guardian_network.network
    desk = network.account(desk_account)
    first = {account: len(node.lines) for account, node in guardian_network.guardians.items()}

    run = trade(guardian_network, *OCTOBER_2008, "--guardians", "--account", str(desk_account))

    report = summary(run)
    moved = rf"desk {desk} ACTIVE -> REDUCING: var_ewma [0-9.]+% \(limit {MAX_VAR:.2%}\)"
    for account, node in guardian_network.guardians.items():
        node.wait_for(moved, after=first[account])
    assert "halted" not in report["refused"] and report["refused"]["trading_state"] > 0
    run_id = re.search(r"stored as (run-[0-9a-f]+): ", run.stderr).group(1)
    orders = network.api("/trading/orders", desk=desk.lower(), limit=1000)["items"]
    by_time = defaultdict(list)
    for order in orders:
        if order["run_id"] == run_id:
            by_time[order["created_at"]].append(order)
    close_then_open = [
        legs for legs in by_time.values()
        if {(leg["status"] != "rejected", (leg["rejection"] or {}).get("check"))
            for leg in legs} == {(True, None), (False, "trading_state")}]
    assert close_then_open, "no close allowed beside a refused opening order while reducing"
    for legs in close_then_open:
        assert len({leg["side"] for leg in legs}) == 1
