"""Log filtering that keeps patient data out of application logs."""

import functools
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


REDACTED = "[redacted]"
# What may already stand in a path: nothing, or what RedactLinkTokens put there.
_MARKERS = {"", "[token]", REDACTED}
_ID = re.compile(r"[0-9]{1,19}")
_LITERAL = re.compile(r"[A-Za-z0-9._-]+")


@functools.cache
def _route_words() -> frozenset[str]:
    """Every fixed path segment of the URL configuration: 'referrals', 'api', 'notes'…"""
    from django.urls import URLResolver, get_resolver

    words: set[str] = {"static", "media"}

    def walk(patterns) -> None:
        for pattern in patterns:
            for segment in str(pattern.pattern).split("/"):
                if _LITERAL.fullmatch(segment):
                    words.add(segment)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)

    walk(get_resolver().url_patterns)
    return frozenset(words)


def redact_path(path: str) -> str:
    """A request path fit for a log: the query string dropped, and everything from the first
    segment that is neither a fixed word of our URLs nor a numeric id replaced.

    "/referrals/Jane Doe/print?x=1" -> "/referrals/[redacted]"; "/referrals/42/print" stays.
    A patient's name, a token or anything else typed into a URL never reaches the log.
    """
    path = path.split("?", 1)[0].split("#", 1)[0]
    kept = []
    for segment in path.split("/"):
        if segment in _MARKERS or segment in _route_words() or _ID.fullmatch(segment):
            kept.append(segment)
            continue
        return "/".join([*kept, REDACTED])
    return "/".join(kept)


class RedactPaths(logging.Filter):
    """Log request paths through redact_path: Django's request log ("Not Found: %s") and
    the development server's request line ('"GET /path HTTP/1.1" 404 …')."""

    _REQUEST_LINE = re.compile(r"^([A-Z]+ )(/.*?)((?: HTTP/[0-9.]+)?)$")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(arg) for arg in record.args)
        # The request object would carry the raw path to any handler that formats it.
        if getattr(record, "request", None) is not None:
            record.request = None
        return True

    def _redact(self, value):
        if not isinstance(value, str):
            return value
        if value.startswith("/"):
            return redact_path(value)
        line = self._REQUEST_LINE.match(value)
        if line:
            return line.group(1) + redact_path(line.group(2)) + line.group(3)
        return value
