"""The HTTP edge of the backend: the FastAPI app, its dependencies, the translation of the
services' refusals into HTTP statuses, and the routes (thin: read the request, call a
service, shape the answer)."""
