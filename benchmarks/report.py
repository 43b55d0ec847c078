"""Benchmark documents (docs/benchmarks.md, docs/gas.md), one `## ` section per benchmark:
each benchmark replaces its own section (or appends it) and leaves the others, and any notes
under them, alone. A document's preamble (its text before the first `## `) belongs to one
benchmark too (docs/gas.md's: benchmarks/gas.py)."""

from __future__ import annotations

import re
from pathlib import Path

from noderr.settings import REPO_ROOT

BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"
GAS_MD = REPO_ROOT / "docs" / "gas.md"
_FIRST_SECTION = re.compile(r"^## ", re.MULTILINE)


def write_section(text: str, path: Path = BENCHMARKS_MD) -> None:
    """Put `text`, which starts with its `## ` heading, in place of that section."""
    heading = text.splitlines()[0]
    existing = path.read_text() if path.exists() else f"# {path.stem.capitalize()}\n"
    section = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if section.search(existing):
        updated = section.sub(lambda _: text.rstrip("\n") + "\n\n", existing, count=1)
    else:
        updated = existing.rstrip("\n") + "\n\n" + text
    path.write_text(updated.rstrip("\n") + "\n")


def write_preamble(text: str, path: Path) -> None:
    """Put `text` (from the `# ` title on, no `## ` heading) in place of everything before
    the document's first section."""
    existing = path.read_text() if path.exists() else ""
    first = _FIRST_SECTION.search(existing)
    sections = existing[first.start():] if first else ""
    path.write_text(text.rstrip("\n") + "\n\n" + sections.rstrip("\n") + "\n")
