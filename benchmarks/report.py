"""docs/benchmarks.md, one `## ` section per benchmark: `--write` replaces a benchmark's own
section (or appends it) and leaves the others, and any notes under them, alone."""

from __future__ import annotations

import re

from noderr.settings import REPO_ROOT

BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"


def write_section(text: str) -> None:
    """Put `text`, which starts with its `## ` heading, in place of that section."""
    heading = text.splitlines()[0]
    existing = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    section = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if section.search(existing):
        updated = section.sub(lambda _: text.rstrip("\n") + "\n\n", existing, count=1)
    else:
        updated = existing.rstrip("\n") + "\n\n" + text
    BENCHMARKS_MD.write_text(updated.rstrip("\n") + "\n")
