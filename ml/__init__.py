"""Noderr ml (see its issue)."""
