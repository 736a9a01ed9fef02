"""Domain errors raised by services and turned into form errors or JSON by callers."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused operation. `field` names the input at fault, when there is one."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, **extra) -> None:
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.extra = extra


class InvalidInput(ServiceError):
    status = 400


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Forbidden(ServiceError):
    """The user may not do this (a role's right, or the four-eyes rule)."""

    status = 403
