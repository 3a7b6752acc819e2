"""Side effects of timeline events, run by the worker after the change has committed.

Historical loads (the demo seed, history imports) suppress them: a referral
closed two years ago must not notify anyone today.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_suppressed: ContextVar[bool] = ContextVar("refloop_effects_suppressed", default=False)


@contextmanager
def suppressed():
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


def event_committed(event_id: int) -> None:
    if _suppressed.get():
        return
    from refloop.referrals.tasks import process_event

    process_event.enqueue(event_id)
