"""Network: every node with its type, license, status and last heartbeat; the functions they
ran, failures first; each feed's recent on-chain rounds as a chart; the catalogue of the 55
functions. All from the backend's public `/network/*` and `/events` reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from client.endpoints import EventFilters
from client.models import ChainEvent, ExecutionItem
from dashboard import ui
from dashboard.session import Context, context
from noderr.feeds import FEED_DECIMALS

EXECUTIONS_SHOWN = 1000
# Failures first: an error before a refused input before a success. (A string statement here
# would be shown on the page: Streamlit's magic writes every one below the module docstring.)
OUTCOME_ORDER = {"error": 0, "rejected": 1, "ok": 2}
# How far back the feed charts reach: four feeds at one round every two seconds stay within
# one page of events.
FEED_WINDOW = timedelta(minutes=5)


def nodes(ctx: Context) -> None:
    st.subheader("Nodes")
    rows = ui.attempt("Cannot list the nodes", lambda: ctx.client().network_nodes())
    if rows is None:
        return
    if not rows:
        st.write("No node has reported yet: start one with `noderr node run`.")
        return
    frame = ui.table(rows, ["address", "node_type", "token_id", "status", "last_heartbeat",
                            "started_at", "software_version"])
    cols = st.columns(4)
    for col, status in zip(cols, ("active", "suspended", "stale", "stopped"), strict=True):
        col.metric(f"Nodes {status}", int((frame["status"] == status).sum()))
    st.dataframe(frame, hide_index=True)


def executions(ctx: Context) -> None:
    st.subheader("Function executions")
    page = ui.attempt("Cannot list executions", lambda: ctx.client().network_executions(
        limit=EXECUTIONS_SHOWN))
    if page is None:
        return
    if not page.items:
        st.write("No function has run yet.")
        return
    by_function = summary(page.items)
    st.caption(f"The latest {len(page.items)} executions, by function and node; failures "
               "first.")
    st.bar_chart(by_function.set_index("function")[["ok", "rejected", "error"]])
    st.dataframe(by_function, hide_index=True)
    failures = [item for item in page.items if item.outcome != "ok"]
    if failures:
        st.markdown("**Latest failures**")
        st.dataframe(ui.table(failures, ["started_at", "address", "function", "outcome",
                                         "error"]), hide_index=True)


def summary(items: list[ExecutionItem]) -> pd.DataFrame:
    """Executions counted per function and node by outcome, with their mean duration; rows
    with errors first, then refused inputs, then the rest by name."""
    frame = pd.DataFrame(ui.records(items))
    counts = (frame.pivot_table(index=["function", "address"], columns="outcome",
                                values="id", aggfunc="count", fill_value=0)
              .reindex(columns=list(OUTCOME_ORDER), fill_value=0))
    counts["mean_ms"] = frame.groupby(["function", "address"])["duration_ms"].mean().round(3)
    counts = counts.reset_index()
    return counts.sort_values(["error", "rejected", "function"],
                              ascending=[False, False, True]).reset_index(drop=True)


def feeds(ctx: Context) -> None:
    st.subheader("Feeds on-chain")
    since = datetime.now(UTC) - FEED_WINDOW
    page = ui.attempt("Cannot list the feeds' rounds", lambda: ctx.client().events(
        EventFilters(event="Transmitted", since=since), limit=1000))
    if page is None:
        return
    if not page.events:
        st.write(f"No round has landed on-chain in the last {FEED_WINDOW.seconds // 60} "
                 "minutes.")
        return
    history = feed_history(page.events)
    latest = history.groupby("feed").tail(1).reset_index(drop=True)
    st.caption(f"Each feed's agreed answers, as NodeFeed's Transmitted events, over the last "
               f"{FEED_WINDOW.seconds // 60} minutes.")
    st.dataframe(latest, hide_index=True)
    for feed, rows in history.groupby("feed"):
        st.markdown(f"**{feed}**")
        st.line_chart(rows.set_index("at")["answer"])


def feed_history(events: list[ChainEvent]) -> pd.DataFrame:
    """One row per landed round: feed, round, answer (in units), signers, block, time."""
    return pd.DataFrame([{
        "feed": event.contract_name.removeprefix("NodeFeed."),
        "round": int(event.args["round"]),
        "answer": int(event.args["answer"]) / 10 ** FEED_DECIMALS,
        "signers": len(event.args["signers"]), "block": event.block_number,
        "at": event.block_timestamp, "tx_hash": event.tx_hash}
        for event in events if event.args and event.contract_name.startswith("NodeFeed.")])


def catalogue(ctx: Context) -> None:
    functions = ui.attempt("Cannot read the catalogue", lambda: ctx.client().network_functions())
    if functions is None:
        return
    with st.expander(f"The {len(functions)} node functions"):
        st.dataframe(ui.table(functions, ["node_type", "name", "category", "description"]),
                     hide_index=True)


ctx = context()
st.header("Network")
st.button("Refresh", key="refresh_network")
nodes(ctx)
executions(ctx)
feeds(ctx)
catalogue(ctx)
