"""What every folder shares: one embedded PostgreSQL (each test its own database in it), the
compiled contracts, and ape's list of running nodes kept to the living.

The two fixtures are registered here once and imported by no folder's conftest: pytest runs a
session fixture once per conftest that registers it, so the eight folders that imported
`pg_server` started eight servers (about 5 s each to start, 3 s each to stop at the end)."""

from __future__ import annotations

import os

import pytest

from tests.fixtures_chain import artifacts, pg_server  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    forget_dead_nodes()


def forget_dead_nodes() -> None:
    """Drop from ape's list of running nodes (~/.ape/processes/nodes.json) those whose process
    is gone. A run killed before ape stops its node leaves the node listed, and ape never drops
    it: it checks every listed node twice when the session's node stops, about 35 ms each (330
    left by killed runs cost 23 s at the end of every `ape test`)."""
    from ape import networks

    running = networks.running_nodes
    gone = [pid for pid in running.process_ids if not alive(pid)]
    if gone:
        running.remove_processes(*gone)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True
