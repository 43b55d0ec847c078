"""Execution records: every run of a catalogue function, as the backend stores it.

A function runs inside `ExecutionLog.run(name)`; the record says when it started, how long it
took and how it ended: "ok", "rejected" (it refused its input with a FunctionInputError) or
"error" (anything else), and what it found where that matters (`run.result`, an
ExecutionResult of noderr/execution_results.py: whom detect_double_sign named, say). The
runtime drains the log and ships the records to the backend."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from node.errors import FunctionInputError
from noderr.catalogue import BY_NAME
from noderr.execution_results import ExecutionResult

Outcome = Literal["ok", "rejected", "error"]
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class Execution:
    function: str
    started_at: datetime
    duration_ms: float
    outcome: Outcome
    error: str | None = None
    result: ExecutionResult | None = None


@dataclass
class Run:
    """The run in progress: its block sets `result` to what the function found."""

    result: ExecutionResult | None = None


class ExecutionLog:
    """Records of function runs, kept until drained (bounded: the oldest go first). Functions
    may run in a worker thread while the event loop drains: a lock guards the list."""

    def __init__(self, max_pending: int = 10_000) -> None:
        self.max_pending = max_pending
        self.recorded = 0
        self.dropped = 0
        self._pending: list[Execution] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def run(self, function: str) -> Iterator[Run]:
        """Time the block as one execution of catalogue function `function`, with the result
        the block sets on the Run it gets; errors propagate."""
        if function not in BY_NAME:
            raise KeyError(f"{function!r} is not in the node function catalogue")
        started_at, start = datetime.now(UTC), time.perf_counter()
        outcome: Outcome = "ok"
        error: str | None = None
        run = Run()
        try:
            yield run
        except FunctionInputError as refused:
            outcome, error = "rejected", f"{type(refused).__name__}: {refused}"
            raise
        except Exception as failed:
            outcome, error = "error", f"{type(failed).__name__}: {failed}"
            raise
        finally:
            duration_ms = (time.perf_counter() - start) * 1000
            self._append(Execution(function, started_at, duration_ms, outcome,
                                   error[:MAX_ERROR_LENGTH] if error else None, run.result))

    def _append(self, execution: Execution) -> None:
        with self._lock:
            self.recorded += 1
            self._pending.append(execution)
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                del self._pending[:overflow]
                self.dropped += overflow

    def drain(self) -> list[Execution]:
        """Every pending record, oldest first; the log is empty afterwards."""
        with self._lock:
            drained, self._pending = self._pending, []
        return drained

    def requeue(self, executions: list[Execution]) -> None:
        """Put back records that could not be shipped, ahead of newer ones (still bounded)."""
        with self._lock:
            self._pending[:0] = executions
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                del self._pending[:overflow]
                self.dropped += overflow

    def __len__(self) -> int:
        return len(self._pending)
