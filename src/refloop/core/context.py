"""Who is asking and from where, for the audit log, without threading it through every call."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


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
