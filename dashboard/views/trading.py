"""Trading (PAPER): the network's trading state as NodeGuard says it, its halts with their
reasons and signers, the desks' positions, equity curve and orders with every refusal by
check. All from the backend's public `/network/guard`, `/events` and `/trading/*` reads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from client.endpoints import EventFilters
from client.models import TradingOrder
from dashboard import ui
from dashboard.safe_text import escape_markdown
from dashboard.session import Context, context

GUARD = "NodeGuard"
ORDERS_SHOWN = 500


def state(ctx: Context) -> None:
    guard = ui.attempt("Cannot read the trading state", lambda: ctx.client().network_guard())
    if guard is None:
        return
    cols = st.columns(3)
    cols[0].metric("Trading state", "HALTED" if guard.halted else "ACTIVE")
    cols[1].metric("Halts so far", guard.nonce)
    cols[2].metric("Indexed block", guard.indexed_block or 0)
    if guard.halted:
        st.error(f"Halted on-chain at block {guard.block} by {len(guard.signers)} guardian(s): "
                 f"{escape_markdown(guard.reason)}. Every desk refuses new orders until "
                 "governance resumes trading.")


def halts(ctx: Context) -> None:
    st.subheader("Halts and resumes")
    page = ui.attempt("Cannot list NodeGuard's events", lambda: ctx.client().events(
        EventFilters(contract=GUARD), limit=1000))
    if page is None:
        return
    rows = [event for event in page.events if event.event_name in ("Halted", "Resumed")]
    if not rows:
        st.write("No halt yet.")
        return
    st.dataframe(halt_table(rows), hide_index=True)


def halt_table(events: list) -> pd.DataFrame:
    """Newest first: block, time, event, nonce, reason and signers (as one line)."""
    return pd.DataFrame([{
        "block": event.block_number, "at": event.block_timestamp.isoformat(),
        "event": event.event_name, "nonce": (event.args or {}).get("nonce"),
        "reason": (event.args or {}).get("reason", ""),
        "signers": ", ".join((event.args or {}).get("signers", [])),
        "tx_hash": event.tx_hash} for event in reversed(events)])


def positions(ctx: Context) -> None:
    st.subheader("Positions")
    rows = ui.attempt("Cannot list positions", lambda: ctx.client().trading_positions())
    if rows is None:
        return
    if not rows:
        st.write("No open position.")
        return
    st.dataframe(ui.table(rows, ["desk", "run_id", "instrument", "quantity", "average_price",
                                 "realized_pnl", "fills", "last_fill_at"]), hide_index=True)


def pnl(ctx: Context) -> None:
    st.subheader("Equity")
    points = ui.attempt("Cannot read the equity curve", lambda: ctx.client().trading_pnl())
    if points is None:
        return
    if not points:
        st.write("No desk has stored a run yet: `noderr trade paper --guardians …` does.")
        return
    frame = pd.DataFrame(ui.records(points))
    frame["at"] = pd.to_datetime(frame["at"])
    frame["equity"] = frame["equity"].astype(float)
    st.line_chart(frame.pivot_table(index="at", columns="run_id", values="equity"))
    latest = frame.iloc[-1]
    cols = st.columns(3)
    cols[0].metric("Equity (latest run)", f"{latest['equity']:,.2f}")
    cols[1].metric("Realized P&L", f"{float(latest['realized_pnl']):,.2f}")
    cols[2].metric("Fees", f"{float(latest['fees']):,.2f}")


def orders(ctx: Context) -> None:
    st.subheader("Orders")
    page = ui.attempt("Cannot list orders", lambda: ctx.client().trading_orders(
        limit=ORDERS_SHOWN))
    if page is None:
        return
    if not page.items:
        st.write("No order yet.")
        return
    refusals = refusal_counts(page.items)
    if not refusals.empty:
        st.caption("Refused before the venue, by check")
        st.bar_chart(refusals.set_index("check"))
    st.dataframe(order_table(page.items), hide_index=True)


def refusal_counts(items: list[TradingOrder]) -> pd.DataFrame:
    checks = [item.rejection.check for item in items if item.rejection]
    return (pd.Series(checks, dtype=str).value_counts().rename_axis("check")
            .reset_index(name="refused"))


def order_table(items: list[TradingOrder]) -> pd.DataFrame:
    """Newest first; a refused order carries its check, value, limit and reason."""
    frame = ui.table(items, ["created_at", "desk", "run_id", "instrument", "side", "quantity",
                             "filled_quantity", "status"])
    frame["refused_by"] = [item.rejection.check if item.rejection else "" for item in items]
    frame["reason"] = [item.rejection.reason if item.rejection else "" for item in items]
    return frame


ctx = context()
st.header("Trading (PAPER)")
st.caption("Paper trading: simulated fills, no order reaches an exchange.")
st.button("Refresh", key="refresh_trading")
state(ctx)
halts(ctx)
positions(ctx)
pnl(ctx)
orders(ctx)
