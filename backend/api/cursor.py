"""Cursors of the newest-first listings (`/network/executions`, `/trading/orders`): the last
item's time and id, opaque to clients; a cursor that does not decode is a 400."""

from __future__ import annotations

import base64
from datetime import datetime

from fastapi import HTTPException


def encode_time_cursor(moment: datetime, record_id: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{record_id}".encode()).decode()


def decode_time_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, record = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        position = datetime.fromisoformat(moment), int(record)
    except (ValueError, UnicodeDecodeError):
        position = None
    if position is None or position[0].tzinfo is None:
        raise HTTPException(400, "bad cursor: pass next_cursor from a previous page")
    return position
