"""Every `noderr` command, option and API path a runbook names exists: the commands and
options in the CLI (typer's click tree), the paths in the API's OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import FastAPI

from backend.api.app import ROUTERS
from noderr_cli.main import app
from tests.ops.conftest import ROOT

PAGES = sorted((ROOT / "docs" / "runbooks").glob("*.md"))
CODE = re.compile(r"`([^`]+)`")
PATH = re.compile(r"(?:\$API|\b(?:GET|POST|PUT|DELETE) )(/[A-Za-z0-9_/{}.-]*)")
PLACEHOLDER = re.compile(r"^(\{[^}]*\}|[A-Z][A-Z_]*)$")


def commands(page: Path) -> list[list[str]]:
    spans = CODE.findall(page.read_text().replace("\n   ", " "))
    return [span.split()[1:] for span in spans if span.startswith("noderr ")]


def resolved(words: list[str]) -> tuple[Any, list[str]]:
    """The command the words name (typer's own click Command), and the words left."""
    command = typer.main.get_command(app)
    rest = list(words)
    while rest and is_group(command):
        found = command.get_command(command.context_class(command), rest[0])
        if found is None:
            break
        command = found
        rest.pop(0)
    return command, rest


def is_group(command: Any) -> bool:
    return hasattr(command, "get_command")


def templates() -> set[str]:
    api = FastAPI()
    for router in ROUTERS:
        api.include_router(router)
    return {normalized(path) for path in api.openapi()["paths"]}


def normalized(path: str) -> str:
    return "/".join("{}" if PLACEHOLDER.match(part) else part
                    for part in path.rstrip("/.").split("/"))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_commands__named_in_a_runbook__exist_with_their_options(page):
    for words in commands(page):
        command, rest = resolved(words)
        options = [word.split("=")[0] for word in rest if word.startswith("--")]
        assert command.name != "noderr" or not words, f"{page.name}: noderr {' '.join(words)}"
        known = {name for param in command.params for name in (*param.opts,
                                                               *param.secondary_opts)}
        assert set(options) <= known, f"{page.name}: noderr {' '.join(words)}"
        leftover = [word for word in rest if not word.startswith("-")]
        if is_group(command) and leftover:
            assert leftover[0].isupper(), f"{page.name}: no command noderr {' '.join(words)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_api_paths__named_in_a_runbook__are_routes(page):
    named = {normalized(path) for path in PATH.findall(page.read_text())}
    assert named <= templates(), f"{page.name}: {sorted(named - templates())}"


def test_runbooks__every_page_named_by_the_index():
    index = (ROOT / "docs" / "runbooks" / "README.md").read_text()
    assert all(f"({page.name})" in index for page in PAGES if page.name != "README.md")
