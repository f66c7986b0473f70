"""Domain errors raised by services; one helper per interface maps them to HTTP."""

from __future__ import annotations


class DispatchError(Exception):
    """Base: a refused action with a message a person can act on."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DispatchError):
    status_code = 400


class NotAllowed(DispatchError):
    status_code = 403


class NotFound(DispatchError):
    status_code = 404


class MoveConflict(DispatchError):
    """The client acted on a stale version; it must reload and decide again."""

    status_code = 409


class Busy(DispatchError):
    """Deadlocks or serialization failures persisted after retries; safe to try again."""

    status_code = 503
