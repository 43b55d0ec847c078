"""Text that applicants (and the chain, wallets, backend errors) supply reaches admins
literally: an applicant named like a Markdown link shows as that text, never as a link."""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt  # CommonMark, as Streamlit's renderer parses it

from dashboard.safe_text import WORD_JOINER, escape_markdown, inline_code
from noderr.domain import NodeType
from tests.dashboard.conftest import LiveStack, apply, signed_in

EVIL = "[verify](https://evil.example)"
TRICKS = [EVIL, "![x](https://evil.example/p.png)", "<a href='https://evil.example'>x</a>",
          "<https://evil.example>", "**bold** _em_ `code` # head", ":red[alarm] $x^2$",
          "a\\](https://evil.example)", "line\n\n* item", "x` [y](https://evil.example) `"]
# What GitHub-flavoured Markdown turns into a link in plain text (Streamlit renders GFM).
GFM_AUTOLINK = re.compile(r"https?://|www\.|\w@\w", re.IGNORECASE)
MARKDOWN_ELEMENTS = ("markdown", "caption", "header", "subheader", "success", "info",
                     "warning", "error")


def rendered(source: str) -> str:
    return MarkdownIt("commonmark").render(source)


def visible_text(source: str) -> str:
    """What a reader sees, the invisible word joiners left out."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered(source))).replace(WORD_JOINER, "")


def autolinked(source: str) -> bool:
    """Whether GFM would make a link of some of the rendered text (code spans never)."""
    text_outside_code = re.sub(r"<code>.*?</code>", "", rendered(source), flags=re.DOTALL)
    return bool(GFM_AUTOLINK.search(html.unescape(re.sub(r"<[^>]+>", "", text_outside_code))))


def test_escape_markdown__renders_the_text_as_written():
    for text in TRICKS:
        for source in (escape_markdown(text), inline_code(text)):
            assert "<a " not in rendered(source) and "<img" not in rendered(source)
            assert not autolinked(source)
            assert visible_text(source).split() == text.split()


def test_applicant_named_like_a_link__admin_sees_the_literal_text(make_app, live: LiveStack):
    app_id = apply(live, EVIL, 8, NodeType.GUARDIAN)
    at = signed_in(make_app, live, 0)
    at.switch_page("views/applications.py").run()
    at.selectbox(key="app_chosen").set_value(app_id).run()
    at.button(key=f"approve_{app_id}").click().run()
    sources = [str(element.value) for kind in MARKDOWN_ELEMENTS for element in at.get(kind)]
    assert not at.exception
    assert not [source for source in sources if "<a " in rendered(source)
                or autolinked(source)]
    shown = [visible_text(source) for source in sources]
    assert any(f"{EVIL} · Guardian · approved" in text for text in shown)
    assert any(f"Mint for {EVIL}" in text for text in shown)
