"""Noderr backend (see its issue)."""
