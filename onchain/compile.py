"""Compiling the Vyper sources for deployment (same compiler and sources as `ape compile`).

Compiling the contracts takes about 20 s, so `compiled` keeps artifacts under
.cache/artifacts/, keyed by a hash of every Vyper source and the compiler's and snekmate's
versions: `noderr deploy`, the tests and the benchmarks compile once per source change.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import vyper
from vyper.cli.vyper_compile import compile_files

from noderr.settings import REPO_ROOT

CONTRACTS_DIR = REPO_ROOT / "contracts"
CACHE_DIR = REPO_ROOT / ".cache" / "artifacts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def compile_contract(name: str) -> Artifact:
    """Compile contracts/<name>.vy; snekmate resolves from the installed package."""
    source = CONTRACTS_DIR / f"{name}.vy"
    output = compile_files([str(source)], ("abi", "bytecode"), paths=[str(CONTRACTS_DIR)])
    (result,) = output.values()
    return Artifact(name=name, abi=result["abi"], bytecode=result["bytecode"])


def compiled(names: tuple[str, ...], log: Callable[[str], None] = lambda _: None
             ) -> dict[str, Artifact]:
    """Artifacts of `names` (`NodeLicense`, `test/Emitter`, …), compiled once per change of
    any source; `log` hears of each one compiled."""
    digest = hashlib.sha256(f"{vyper.__version__} snekmate {version('snekmate')}".encode())
    for source in sorted(CONTRACTS_DIR.rglob("*.vy*")):
        digest.update(source.read_bytes())
    cache = CACHE_DIR / f"{digest.hexdigest()[:16]}.json"
    stored = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [name for name in names if name not in stored]
    for name in missing:
        log(f"Compiling {name}.vy")
        artifact = compile_contract(name)
        stored[name] = {"abi": artifact.abi, "bytecode": artifact.bytecode}
    if missing:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(stored))
        partial.replace(cache)  # atomic: a concurrent reader sees the old file or the new one
    return {name: Artifact(name, stored[name]["abi"], stored[name]["bytecode"]) for name in names}
