"""Text someone else wrote — applicants' names and answers, notes, on-chain reasons, wallet
and backend error messages — placed in Streamlit Markdown so that it reads as written.

Streamlit renders Markdown (links, images, autolinks, `:red[...]` directives, `$` math) and
has no escape of its own. CommonMark lets a backslash escape every ASCII punctuation
character, and an escaped character is always literal, so escaping all of them leaves no
construct that could form: `[verify](https://evil.example)` shows as that text, not a link.
"""

from __future__ import annotations

import re

_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(value: object) -> str:
    """`value` as Markdown that renders exactly its text."""
    return _ASCII_PUNCTUATION.sub(r"\\\1", str(value))


def inline_code(value: object) -> str:
    """`value` as a code span (addresses, hashes); escaped text when a span cannot hold it."""
    text = str(value)
    if "`" in text or "\n" in text:
        return escape_markdown(text)
    return f"`{text}`"
