"""Noderr dashboard (see its issue)."""
