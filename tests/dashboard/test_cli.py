"""`noderr dashboard` refuses to start without a deployment file: one plain line, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from noderr.settings import REPO_ROOT


def run_dashboard(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NODERR_DEPLOYMENT",
                                                             "NODERR_CHAIN_ID")}
    return subprocess.run([sys.executable, "-m", "noderr_cli", "dashboard", "--port", "1"],
                          cwd=REPO_ROOT, env={**base, **env}, capture_output=True, text=True,
                          timeout=60, check=False)


def test_dashboard__missing_deployment_file__one_line_error_exit_1(tmp_path: Path):
    missing = tmp_path / "nowhere" / "deployment.json"
    result = run_dashboard({"NODERR_DEPLOYMENT": str(missing)})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: no deployment file at {missing}: run `noderr deploy` or set NODERR_DEPLOYMENT"]


def test_dashboard__no_deployment_for_chain__names_default_path():
    chain_id = "424242"
    result = run_dashboard({"NODERR_CHAIN_ID": chain_id})
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1
    assert lines[0].startswith("error: no deployment file at ")
    assert lines[0].endswith(f"{chain_id}.json: run `noderr deploy` or set NODERR_DEPLOYMENT")
