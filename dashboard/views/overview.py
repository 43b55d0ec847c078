"""Overview: who you are to this deployment (address, roles, licenses) and where things are."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.safe_text import inline_code
from dashboard.session import context

ctx = context()
st.header("Noderr control plane")
st.caption(f"Chain {ctx.chain.chain_id} · NodeLicense `{ctx.chain.license_address}` · "
           f"backend {ctx.settings.api_url}")
if not ctx.me:
    st.write("Connect your wallet and sign in (sidebar) to review applications, manage "
             "licenses and read the audit trail. Everything you change is signed by your "
             "own wallet.")
else:
    st.subheader("Your session")
    st.markdown(f"Address {inline_code(ctx.me.address)} · indexed block "
                f"{ctx.me.indexed_block}")
    if ctx.is_admin:
        st.success(f"Admin roles: {', '.join(sorted(ctx.roles))}")
    else:
        st.info("You hold no admin role on NodeLicense: the pages are read-only for you.")
    if ctx.me.licenses:
        st.dataframe(ui.table(ctx.me.licenses, ["token_id", "node_type", "status", "minted_block"]),
                     hide_index=True)
    else:
        st.write("You hold no active license.")
