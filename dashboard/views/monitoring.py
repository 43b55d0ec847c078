"""Monitoring: chain head, indexed block, indexer lag; the node network at a glance (trading
state, nodes by type and status with the silent ones first, each feed's last consensus round and
how long ago, the executions failing in the last minutes); licenses by type and status, and the
most recent contract events. Every figure through the backend's public reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from client import EventFilters
from client.models import License, NodeHealth, RoundItem
from dashboard import network_health, ui
from dashboard.network_health import FAILURE_WINDOW, FAILURES_READ
from dashboard.safe_text import escape_markdown
from dashboard.session import Context, context

RECENT_BLOCKS = 200
FEED_PREFIX = "NodeFeed."


def all_licenses(ctx: Context) -> list[License] | None:
    client, rows, after = ctx.client(), [], 0
    for _ in range(50):
        page = ui.attempt("Cannot list licenses", lambda a=after: client.licenses(
            after=a, limit=1000))
        if page is None:
            return None
        rows += page
        if len(page) < 1000:
            break
        after = page[-1].token_id
    return rows


def health(ctx: Context) -> int | None:
    ready = ui.attempt("Cannot read readiness", lambda: ctx.client().readiness())
    if ready is None:
        return None
    head, indexed = ready.head_block, ready.indexed_block
    lag = head - indexed if head is not None and indexed is not None else None
    cols = st.columns(3)
    cols[0].metric("Chain head", head if head is not None else "unknown")
    cols[1].metric("Indexed block", indexed if indexed is not None else "none")
    cols[2].metric("Indexer lag (blocks)", lag if lag is not None else "unknown")
    if not ready.ready:
        problems = "; ".join(f"{name}: {state}" for name, state in ready.problems.items())
        st.warning(f"Not ready: {escape_markdown(problems)}")
    return indexed


def network(ctx: Context) -> None:
    st.subheader("Network at a glance")
    now = datetime.now(UTC)
    nodes = ui.attempt("Cannot list the nodes", lambda: ctx.client().network_nodes())
    failures = recent_failures(ctx, now)
    headline(ctx, nodes, failures)
    if nodes:
        st.markdown("**Nodes by type and status**")
        st.dataframe(network_health.nodes_by_type(nodes), hide_index=True)
        st.markdown("**Nodes, silent ones first**")
        st.dataframe(network_health.nodes_stale_first(nodes, now), hide_index=True)
    elif nodes is not None:
        st.write("No node has reported yet.")
    rounds = last_rounds(ctx)
    if rounds is not None:
        st.markdown("**Last consensus round per feed**")
        st.dataframe(network_health.last_rounds(rounds, now), hide_index=True)
    if failures is not None and not failures.empty:
        st.markdown(f"**Executions failing in the last {FAILURE_WINDOW.seconds // 60} "
                    "minutes**")
        st.dataframe(failures, hide_index=True)


def headline(ctx: Context, nodes: list[NodeHealth] | None,
             failures: pd.DataFrame | None) -> None:
    """Trading state, active and stale nodes, failed executions: one row of figures."""
    cols = st.columns(4)
    guard = ui.attempt("Cannot read the trading state", lambda: ctx.client().network_guard())
    if guard is not None:
        cols[0].metric("Trading state", "HALTED" if guard.halted else "ACTIVE")
    if nodes is not None:
        cols[1].metric("Nodes active", sum(node.status == "active" for node in nodes))
        cols[2].metric("Nodes stale", sum(node.status == "stale" for node in nodes))
    if failures is not None:
        cols[3].metric(f"Failed executions ({FAILURE_WINDOW.seconds // 60} min)",
                       int(failures[["error", "rejected"]].to_numpy().sum()))


def last_rounds(ctx: Context) -> dict[str, RoundItem | None] | None:
    """Each feed of the deployment with its newest reported round (None: none yet)."""
    feeds = [name.removeprefix(FEED_PREFIX) for name in ctx.chain.contracts
             if name.startswith(FEED_PREFIX)]
    latest: dict[str, RoundItem | None] = {}
    for feed in feeds:
        page = ui.attempt("Cannot list the consensus rounds",
                          lambda f=feed: ctx.client().network_rounds(feed=f, limit=1))
        if page is None:
            return None
        latest[feed] = page.items[0] if page.items else None
    return latest


def recent_failures(ctx: Context, now: datetime) -> pd.DataFrame | None:
    items = []
    for outcome in ("error", "rejected"):
        page = ui.attempt("Cannot list executions", lambda o=outcome: ctx.client()
                          .network_executions(outcome=o, limit=FAILURES_READ))
        if page is None:
            return None
        items += page.items
    return network_health.failures_since(items, now - FAILURE_WINDOW)


def license_charts(rows: list[License]) -> None:
    if not rows:
        st.write("No license minted yet.")
        return
    frame = ui.table(rows, ["token_id", "node_type", "status"])
    left, right = st.columns(2)
    left.markdown("**Licenses by type and status**")
    left.bar_chart(frame.groupby(["node_type", "status"]).size().unstack(fill_value=0))
    right.markdown("**Licenses by status**")
    right.bar_chart(frame.groupby("status").size())


def recent(ctx: Context, indexed: int | None) -> None:
    st.subheader("Recent activity")
    start = max(0, (indexed or 0) - RECENT_BLOCKS)
    page = ui.attempt("Cannot read events", lambda: ctx.client().events(
        EventFilters(from_block=start), limit=1000))
    if page is None:
        return
    events = ui.records(page.events[-20:][::-1])
    if not events:
        st.write(f"No event in the last {RECENT_BLOCKS} blocks.")
        return
    st.dataframe(pd.DataFrame(events, columns=["block_number", "block_timestamp",
                                               "event_name", "args"]).astype({"args": str}),
                 hide_index=True)


ctx = context()
st.header("Monitoring")
st.button("Refresh", key="refresh_monitoring")
indexed_block = health(ctx)
network(ctx)
licenses = all_licenses(ctx)
if licenses is not None:
    license_charts(licenses)
recent(ctx, indexed_block)
