"""One typed client of the backend's HTTP API, blocking (`BackendClient`) and for asyncio
(`AsyncBackendClient`), for every Python caller of the backend: the dashboard, the node
runtime, the ML service. It imports only the kernel (`noderr`), httpx and pydantic: a caller
talks HTTP and never imports the backend."""

from client.clients import AsyncBackendClient, BackendClient, Signer
from client.endpoints import Call, EventFilters
from client.errors import BackendError

__all__ = ["AsyncBackendClient", "BackendClient", "BackendError", "Call", "EventFilters",
           "Signer"]
