"""Noderr's kernel, what every part needs: settings, the database, the deployment file,
migrations, console errors, the domain's words (node types, statuses, roles), JSON-RPC and
the sign-in text. It imports nothing else of the project."""
