"""Compiling the Vyper sources for deployment (same compiler and sources as `ape compile`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vyper.cli.vyper_compile import compile_files

from noderr.settings import REPO_ROOT

CONTRACTS_DIR = REPO_ROOT / "contracts"


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
