"""promtool from Debian's `prometheus` package, as `make setup` installs it
(tools/install_promtool.sh; installed here when a checkout has not run setup since)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus"


@pytest.fixture(scope="session")
def promtool() -> Path:
    path = ROOT / ".tools" / "usr" / "bin" / "promtool"
    if not path.exists():
        subprocess.run([str(ROOT / "tools" / "install_promtool.sh")], check=True)
    return path
