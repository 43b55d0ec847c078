"""The Streamlit entry point: `noderr dashboard` runs `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import session, ui, wallet
from dashboard.session import Context

PAGES = Path(__file__).resolve().parent / "views"  # not pages/: Streamlit would auto-list it


def pages(ctx: Context) -> list[st.Page]:
    """Overview for everyone; auditor pages once signed in; admin pages for role holders."""
    chosen = [st.Page(PAGES / "overview.py", title="Overview", url_path="overview",
                      default=True)]
    if ctx.is_admin:
        chosen.append(st.Page(PAGES / "applications.py", title="Applications",
                              url_path="applications"))
    if ctx.me:
        chosen += [st.Page(PAGES / f"{name}.py", title=name.title(), url_path=name)
                   for name in ("licenses", "audit", "governance", "monitoring", "network",
                                "trading")]
    return chosen


def main() -> None:
    st.set_page_config(page_title="Noderr", layout="wide")
    try:
        settings, chain = session.load()
    except (OSError, ValueError) as error:
        st.error(f"The dashboard cannot start: {error}")
        st.stop()
    with st.sidebar:
        st.title("Noderr")
        env, result = wallet.mount(chain)
    ctx = Context(settings=settings, chain=chain, env=env)
    st.session_state["_context"] = ctx
    session.handle_wallet_answer(ctx, result)
    session.follow_wallet_account(ctx)
    session.refresh_me(ctx)
    with st.sidebar:
        ui.wallet_panel(ctx)
    ui.show_flashes()
    ui.transaction_panel()
    st.navigation(pages(ctx)).run()


main()
