"""The network's health at a glance, as the Monitoring page shows it: pure tables built from the
backend's `/network/*` answers, so what an operator looks at first comes first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pandas as pd

from client.models import ExecutionItem, NodeHealth, RoundItem
from noderr.domain import NODE_TYPE_LABELS

STATUS_ORDER = ("stale", "suspended", "stopped", "active")
"""Silent nodes first, then those whose license is suspended, then those that said they
stopped; running ones last."""
NO_ROUND = "no round yet"
FAILURE_WINDOW = timedelta(minutes=10)
"""How far back the page counts failed executions."""
FAILURES_READ = 1000
"""The newest failed executions read per outcome: at the demo's rate (two oracles, a few
functions a second) ten minutes of failures fit well within one page."""


def nodes_by_type(nodes: Sequence[NodeHealth]) -> pd.DataFrame:
    """How many nodes of each type are in each status (every type and status, 0 included)."""
    counts = pd.DataFrame(0, index=list(NODE_TYPE_LABELS.values()), columns=list(STATUS_ORDER))
    for node in nodes:
        counts.loc[NODE_TYPE_LABELS[node.node_type], node.status] += 1
    return counts.rename_axis("node_type").reset_index()


def nodes_stale_first(nodes: Sequence[NodeHealth], now: datetime) -> pd.DataFrame:
    """One row per node, by STATUS_ORDER, the longest silent first within a status."""
    ordered = sorted(nodes, key=lambda node: (STATUS_ORDER.index(node.status),
                                              node.last_heartbeat))
    return pd.DataFrame([{
        "status": node.status, "node_type": NODE_TYPE_LABELS[node.node_type],
        "address": node.address, "token_id": node.token_id,
        "silent_s": round((now - node.last_heartbeat).total_seconds(), 1),
        "last_heartbeat": node.last_heartbeat.isoformat()} for node in ordered],
        columns=["status", "node_type", "address", "token_id", "silent_s", "last_heartbeat"])


def last_rounds(latest: Mapping[str, RoundItem | None], now: datetime) -> pd.DataFrame:
    """Per feed, its newest reported round and how long ago it was decided; the feed quiet the
    longest first, a feed without any round before all."""
    rows = []
    for feed, item in latest.items():
        if item is None:
            rows.append({"feed": feed, "round": None, "status": NO_ROUND, "ago_s": None,
                         "leader": None, "view_changes": None, "signers": 0,
                         "decided_at": None})
            continue
        rows.append({"feed": feed, "round": item.round, "status": item.status,
                     "ago_s": round((now - item.decided_at).total_seconds(), 1),
                     "leader": item.leader, "view_changes": item.view_changes,
                     "signers": len(item.signers), "decided_at": item.decided_at.isoformat()})
    frame = pd.DataFrame(rows, columns=["feed", "round", "status", "ago_s", "leader",
                                        "view_changes", "signers", "decided_at"])
    return frame.sort_values("ago_s", ascending=False, na_position="first",
                             ignore_index=True)


def failures_since(items: Sequence[ExecutionItem], since: datetime) -> pd.DataFrame:
    """Failed executions (error or rejected) started at or after `since`, counted per function
    and node by outcome, the most errors first."""
    recent = [item for item in items if item.outcome != "ok" and item.started_at >= since]
    frame = pd.DataFrame([{"function": item.function, "address": item.address,
                           "outcome": item.outcome} for item in recent],
                         columns=["function", "address", "outcome"])
    counts = (frame.pivot_table(index=["function", "address"], columns="outcome",
                                aggfunc="size", fill_value=0)
              .reindex(columns=["error", "rejected"], fill_value=0).reset_index()
              if not frame.empty else
              pd.DataFrame(columns=["function", "address", "error", "rejected"]))
    counts.columns.name = None
    return counts.sort_values(["error", "rejected", "function"], ascending=[False, False, True],
                              ignore_index=True)

