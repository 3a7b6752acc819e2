"""Domain errors: each carries a sentence the user can act on, never patient data."""


class DomainError(Exception):
    """A request the domain refuses; `message` is shown to the user as it is."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """A missing or malformed value; `field` names it."""

    status = 422


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The object is not in a state that allows this (an illegal transition, a stale write)."""

    status = 409


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415
