"""Log filtering that keeps patient data out of application logs."""

import functools
import logging
import re

from django.conf import settings
from django.urls import Resolver404, URLResolver, get_resolver, resolve


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


# A regex route's named group, e.g. (?P<month>[^/]+), with at most one level of parentheses.
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
_CONVERTED = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_LEFT = re.compile(r"[\\^$()\[\]*+?|{}]")
HIDDEN = "[...]"


def redact_path(path: str) -> str:
    """A request path as a log may show it: no query string, and nothing a visitor typed.

    A path the URLconf resolves keeps its literal parts and whole-number ids; any other
    captured value (a magic-link, invitation or reset token) becomes [token]. A path it
    does not resolve (a 404, where anything may have been typed, a patient's name too)
    keeps only its first segment, when that is one of the app's own prefixes.
    """
    path = path.partition("?")[0]
    try:
        match = resolve(path)
    except Resolver404:
        return _known_prefix_only(path)
    captured: dict[str | int, object] = {}
    captured.update(match.kwargs)
    captured.update(enumerate(match.args))

    def shown(name: str) -> str:
        value = str(captured.get(name, ""))
        return value if value.isdigit() else "\0"  # becomes [token] once checked

    route = _NAMED_GROUP.sub(lambda m: shown(m.group(1)), match.route)
    route = _CONVERTED.sub(lambda m: shown(m.group(1)), route)
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    if _REGEX_LEFT.search(route):
        return _known_prefix_only(path)
    return "/" + route.replace("\0", "[token]")


def _known_prefix_only(path: str) -> str:
    first, _, rest = path.lstrip("/").partition("/")
    if first in _url_prefixes() and rest:
        return f"/{first}/{HIDDEN}"
    if first in _url_prefixes():
        return f"/{first}"
    return "/" + HIDDEN


@functools.cache
def _url_prefixes() -> frozenset[str]:
    """The literal first segments of the URL patterns (referrals, api, admin…) and static."""
    prefixes = {settings.STATIC_URL.strip("/").partition("/")[0]}
    pending = [("", p) for p in get_resolver().url_patterns]
    while pending:
        above, entry = pending.pop()
        route = above + str(entry.pattern).lstrip("^")
        first, slash, _ = route.partition("/")
        if slash and not _REGEX_LEFT.search(first) and "<" not in first:
            prefixes.add(first)
        elif not slash and isinstance(entry, URLResolver):
            pending.extend((route, p) for p in entry.url_patterns)
    return frozenset(prefixes)


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
