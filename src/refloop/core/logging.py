"""Log filtering that keeps patient data out of application logs."""

import logging


class RedactExceptionMessages(logging.Filter):
    """Replace exception messages with their type; keep the traceback's code locations.

    Database and validation errors quote the values they choke on, and those
    values may be a patient's name or date of birth.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.exc_info
            and record.exc_info[1] is not None
            and not isinstance(record.exc_info[1], RedactedError)
        ):
            exc_type, exc, tb = record.exc_info
            redacted = _redacted(exc)
            record.exc_info = (type(redacted), redacted, tb)
            record.exc_text = None
        # Django's request logger passes the request; its repr carries the path only,
        # but drop it so no handler formats POST data from it.
        if hasattr(record, "request"):
            record.request = None
        return True


class RedactedError(Exception):
    pass


def _redacted(exc: BaseException) -> BaseException:
    redacted = RedactedError(f"{type(exc).__module__}.{type(exc).__qualname__} (message withheld)")
    redacted.__traceback__ = exc.__traceback__
    return redacted
