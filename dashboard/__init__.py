"""The Streamlit dashboard: wallet sign-in, applications, licenses, audit, governance and
monitoring, talking HTTP to the backend through `client` and to the chain only through the
browser's wallet."""
