"""Why the backend refuses a request, in the words of its rules. Services raise these; only the
API's edge (backend/api/errors.py) knows which HTTP status each one is."""

from __future__ import annotations


class Refused(Exception):
    """A request the rules refuse; `message` says why and is safe to show the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(Refused):
    """The input cannot be read (malformed, wrong shape, unknown form)."""


class NotSignedIn(Refused):
    """No live session: sign in (again)."""


class CredentialsRejected(Refused):
    """A proof of identity (a SIWE message and signature, a webhook signature) failed."""


class NotAllowed(Refused):
    """Signed in, but this caller may not do this."""


class NotFound(Refused):
    """The thing asked for does not exist."""


class Conflict(Refused):
    """Not possible in the current state (of an application, of the minter)."""


class TooLarge(Refused):
    """The input is over its size limit."""


class InvalidApplication(Refused):
    """Well-formed input that does not make a valid application."""


class Unavailable(Refused):
    """A dependency (mirror, chain, configuration) cannot serve this now; `retry_after`
    seconds, when set, is when trying again is worthwhile."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
