"""A `noderr node run` process under test: its output lines as they come, its exit status."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path


class NodeProcess:
    """A node process whose stdout and stderr are read by threads into one list of lines."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.started = time.monotonic()
        command = [sys.executable, "-m", "noderr_cli", "node", "run", *args]
        self.process = subprocess.Popen(command, env={**env, "PYTHONFAULTHANDLER": "1"},
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True)
        self.lines: list[tuple[float, str]] = []
        self._new: queue.Queue[str] = queue.Queue()
        self._readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                         for stream in (self.process.stdout, self.process.stderr)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream) -> None:
        with self.log_path.open("a") as log:
            for line in stream:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                log.write(line)
                log.flush()
                self._new.put(line)

    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def wait_for(self, pattern: str, timeout: float = 30, after: int = 0) -> tuple[int, str]:
        """The first output line (from index `after`) matching `pattern`: (index, line)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for index, (_, line) in enumerate(self.lines[after:], start=after):
                if regex.search(line):
                    return index, line
            if self.process.poll() is not None and all(not r.is_alive() for r in self._readers):
                break
            time.sleep(0.05)
        self.dump_stacks()
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s "
                             f"(exit {self.process.poll()}):\n{self.output()}")

    def dump_stacks(self) -> None:
        """Ask a stuck node for its threads' stacks (PYTHONFAULTHANDLER: SIGABRT dumps them),
        so a failed wait shows where the node was."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.wait_exit(timeout=5)

    def wait_exit(self, timeout: float = 30) -> int:
        status = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return status

    def terminate(self) -> None:
        """SIGTERM, unless it has exited: the node stops gracefully (`stop` waits for it)."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> int:
        self.terminate()
        return self.reap()

    def reap(self) -> int:
        """Its exit status once it has exited; killed if it has not within 15 s."""
        try:
            return self.wait_exit(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return self.wait_exit(timeout=15)


def stop_all(nodes: list[NodeProcess]) -> None:
    """Stop the nodes side by side: SIGTERM to each, then wait for each (one by one, the
    graceful stops of a stack's nodes added up to 20 s and more at its teardown)."""
    for node in nodes:
        node.terminate()
    for node in nodes:
        node.reap()


def lines_matching(process: NodeProcess, pattern: str) -> Iterator[str]:
    regex = re.compile(pattern)
    return (line for _, line in process.lines if regex.search(line))
