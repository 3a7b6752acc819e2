"""Switching side effects off for historical loads (the demo seed, history imports): a
referral closed two years ago must not notify anyone today. The reactions to timeline events
(refloop.referrals.reactions) and the tasks queued with `after_commit` honour it.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_suppressed: ContextVar[bool] = ContextVar("refloop_effects_suppressed", default=False)


@contextmanager
def suppressed() -> Iterator[None]:
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def is_suppressed() -> bool:
    return _suppressed.get()


def after_commit(enqueue: Callable[[], object]) -> None:
    """Run `enqueue` (a task's enqueue) once the current transaction commits, unless a
    historical load suppressed side effects."""
    if not _suppressed.get():
        transaction.on_commit(enqueue)
