"""When the API process is told to stop (SIGTERM, SIGINT), its long polls answer at once.

uvicorn stops in two steps: it stops accepting, waits up to its graceful timeout for requests
in flight to finish, and only then runs the app's shutdown. A node's license watch is a long
poll of up to 30 s, so without a word before that timeout, every running node's watch was
cancelled at the deadline: a 500 to each node and a traceback in the API's log. uvicorn's own
handler stays in charge of the stop; this one only runs first and then hands over."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def set_on_stop_signals(stopping: asyncio.Event) -> Callable[[], None]:
    """Set `stopping` (on the running loop) on a stop signal, then call the handler that was
    there before; the function that puts the previous handlers back. In a thread other than
    the main one (an app under a test client) signals cannot be caught: nothing is done."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def on_stop(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stopping.set)
        handler = previous[signum]
        if callable(handler):
            handler(signum, frame)
        else:  # the default (or ignore) it replaced: as if this handler had never been here
            signal.signal(signum, handler or signal.SIG_DFL)
            signal.raise_signal(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_stop)

    def restore() -> None:
        for signum, handler in previous.items():
            if signal.getsignal(signum) is on_stop:
                signal.signal(signum, handler)

    return restore

