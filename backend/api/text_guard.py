"""NUL-free text at the edge: a request whose query, path, headers or JSON body carry a NUL
character is answered 422 before any route runs.

PostgreSQL text cannot hold NUL (psycopg raises DataError, a 500), and every text the API
takes may reach a text column or parameter; checking once here covers every route, present
and future. The JSON body is read here and replayed byte for byte, so a route that checks a
signature over the raw body (the Typeform webhook) sees it unchanged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.errors import validation_problem

NUL = "\x00"
MESSAGE = "text must not contain NUL (\\u0000)"
Location = list[str | int]


class TextGuard:
    """422 naming each field whose text holds a NUL, in the app's 422 shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        messages = await _read_body(receive)
        body = b"".join(message.get("body", b"") for message in messages)
        places = [*_query(scope), *_path(scope), *_headers(scope), *_body(body)]
        if places:
            response = validation_problem([(place, MESSAGE) for place in places])
            return await response(scope, _replay([], receive), send)
        await self.app(scope, _replay(messages, receive), send)


async def _read_body(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _query(scope: Scope) -> Iterator[Location]:
    raw: bytes = scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if NUL in key or NUL in value:
            yield ["query", key]


def _path(scope: Scope) -> Iterator[Location]:
    """The path parameters holding NUL, named by the OpenAPI path template that matches."""
    path: str = scope["path"]
    if NUL not in path:
        return
    app = scope.get("app")
    templates = app.openapi()["paths"] if hasattr(app, "openapi") else {}
    for template in templates:
        match = re.fullmatch(_template_pattern(template), path)
        if match is not None:
            yield from (["path", name] for name, value in match.groupdict().items()
                        if NUL in value)
            return
    yield ["path"]


def _template_pattern(template: str) -> str:
    """`/a/{b}` as a regular expression with a named group per parameter."""
    parts = re.split(r"\{(\w+)\}", template)
    return "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
                   for index, part in enumerate(parts))


def _headers(scope: Scope) -> Iterator[Location]:
    for name, value in scope["headers"]:
        text = value.decode("latin-1")
        if name == b"cookie":
            if any(NUL in item for pair in cookie_parser(text).items() for item in pair):
                yield ["cookie"]
        elif NUL in text:
            yield ["header", name.decode("latin-1")]


def _body(body: bytes) -> Iterator[Location]:
    if b"\\u0000" not in body:
        return
    try:
        document = json.loads(body)
    except ValueError:
        return
    yield from (["body", *place] for place in _strings_with_nul(document, []))


def _strings_with_nul(value: Any, place: Location) -> Iterator[Location]:
    if isinstance(value, str):
        if NUL in value:
            yield place
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield [*place, key]
            yield from _strings_with_nul(item, [*place, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings_with_nul(item, [*place, index])
