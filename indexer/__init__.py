"""Noderr indexer (see its issue)."""
