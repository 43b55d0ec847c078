"""Local TCP ports for the servers the tests, benchmarks and demo start (anvil, NATS, the API):
one that is free now, and whether the process we started is the one listening on it.

`free_port()` cannot reserve the port: between it and the server's bind another process may
take it, and a readiness check that only asks "does something answer there?" would then
adopt that other server. `listens(process, port)` is the check that cannot be fooled."""

from __future__ import annotations

import socket
import subprocess

import psutil


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def listens(process: subprocess.Popen, port: int) -> bool:
    """Whether `process` itself has a listening TCP socket on `port`."""
    try:
        connections = psutil.Process(process.pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return False
    return any(connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
               for connection in connections)


class PortTaken(RuntimeError):
    """A server we started exited at start-up, as servers do when their port is in use."""


def exited_at_start(process: subprocess.Popen, what: str, port: int) -> PortTaken | None:
    """PortTaken naming `what` and `port` if `process` has exited, else None."""
    if process.poll() is None:
        return None
    return PortTaken(f"{what} exited at start-up (status {process.returncode}): is port "
                     f"{port} in use?")
