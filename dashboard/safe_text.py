"""Text someone else wrote — applicants' names and answers, notes, on-chain reasons, wallet
and backend error messages — placed in Streamlit Markdown so that it reads as written.

Streamlit renders Markdown (links, images, `:red[...]` directives, `$` math) and has no
escape of its own. CommonMark lets a backslash escape every ASCII punctuation character, and
an escaped character is always literal, so escaping all of them leaves no construct that
could form. One thing escaping cannot stop: Streamlit's GitHub-flavoured autolinks are found
in the text after parsing (`https://…`, `www.…`, `a@b.c`), so an invisible WORD JOINER
(U+2060) goes between the parts that would start one. `[verify](https://evil.example)` then
shows as that text, not as a link (copied, it carries the invisible joiner).
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_AUTOLINK_STARTS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)


def escape_markdown(value: object) -> str:
    """`value` as Markdown that renders exactly its text, never a link."""
    text = _AUTOLINK_STARTS.sub(WORD_JOINER, str(value))
    return _ASCII_PUNCTUATION.sub(r"\\\1", text)


def inline_code(value: object) -> str:
    """`value` as a code span (addresses, hashes); escaped text when a span cannot hold it."""
    text = str(value)
    if "`" in text or "\n" in text:
        return escape_markdown(text)
    return f"`{text}`"
