"""Log filtering that keeps patient data out of application logs."""

import logging
import re


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


class RedactLinkTokens(logging.Filter):
    """Replace the token in magic-link and invitation paths with "[token]".

    django.server logs the request line ('"%s" %s %s', request line first) and
    django.request the path ("%s: %s"); either would otherwise write a working
    patient link or invitation into the log.
    """

    _TOKEN_PATH = re.compile(r"(/(?:p|portal/invite)/)(?!renew/)[^/\s?#\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: self._redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True

    def _redact(self, text: str) -> str:
        return self._TOKEN_PATH.sub(r"\1[token]", text)
