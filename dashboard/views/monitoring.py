"""Monitoring: chain head, indexed block, indexer lag, licenses by type and status, and the
most recent contract events."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from client import EventFilters
from client.models import License
from dashboard import ui
from dashboard.safe_text import escape_markdown
from dashboard.session import Context, context

RECENT_BLOCKS = 200


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
licenses = all_licenses(ctx)
if licenses is not None:
    license_charts(licenses)
recent(ctx, indexed_block)
