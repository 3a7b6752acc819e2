"""Who is asking and from where, for the audit log, without threading it through every call."""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    channel: str = "system"  # "web", "api", "cli", "worker", "system"


_current: ContextVar[RequestContext] = ContextVar(
    "refloop_request",
    default=RequestContext(),  # noqa: B039 (frozen dataclass: immutable)
)


def current() -> RequestContext:
    return _current.get()


@contextmanager
def using(context: RequestContext):
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


# Settings rows (the organization, outreach's cadences) read once per web or API request
# instead of by every function that needs them: a page asked for the organization six times.
# Only inside a request (RequestContextMiddleware): a worker job or a command reads afresh.
_memo: ContextVar[dict[str, Any] | None] = ContextVar("refloop_request_memo", default=None)


@contextmanager
def remembering():
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered[T](key: str, load: Callable[[], T]) -> T:
    """`load()`, once per request under `key`; every time outside a request."""
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def forget(key: str) -> None:
    """The row under `key` changed: the next read in this request loads it again."""
    memo = _memo.get()
    if memo is not None:
        memo.pop(key, None)
