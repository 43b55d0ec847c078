"""`python -m noderr_cli …`: how the demo starts its services with the running interpreter."""

from noderr_cli.main import app

app()
