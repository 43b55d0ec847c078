"""The harness of the function benchmarks (oracle_functions.py, guardian_functions.py): a
function and its pandas baseline timed alike, µs per call, and whether their answers agree.

Each timing is the best of REPEAT runs of enough calls to last about TARGET_SECONDS."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

REPEAT = 3
TARGET_SECONDS = 0.15


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    ours: Callable[[], object]
    pandas: Callable[[], object]
    agree: Callable[[object, object], bool]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def per_call_us(function: Callable[[], object]) -> float:
    calls, began = 0, time.perf_counter()
    while time.perf_counter() - began < TARGET_SECONDS / 5 or calls < 3:
        function()
        calls += 1
    best = math.inf
    for _ in range(REPEAT):
        began = time.perf_counter()
        for _ in range(calls * 5):
            function()
        best = min(best, (time.perf_counter() - began) / (calls * 5))
    return best * 1e6


def compare(cases: list[Case]) -> list[str]:
    """Print each case's µs per call beside its pandas baseline, their ratio and whether
    their answers agree; the names of the cases slower than their baseline."""
    print(f"{'function':<38} {'ours µs':>9} {'pandas µs':>10} {'ratio':>7}  agree")
    slower = []
    for case in cases:
        agree = case.agree(case.ours(), case.pandas())
        ours, pandas = per_call_us(case.ours), per_call_us(case.pandas)
        ratio = ours / pandas
        if ratio > 1:
            slower.append(case.name)
        print(f"{case.name:<38} {ours:>9.1f} {pandas:>10.1f} {ratio:>7.3f}  "
              f"{'yes' if agree else 'NO'}")
    return slower
