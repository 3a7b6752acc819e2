"""Running the reactions to a committed event: each handler is queued by its dotted path,
run by the worker, and has its effects once per event.

The table of which handlers react to which event kinds belongs to the app that records the
events (`refloop.referrals.reactions` for the referral timeline); it names handlers in the
apps above it by string, so recording an event imports none of them.
"""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from refloop.core.models import ReactionDone

log = logging.getLogger(__name__)

EVERY_KIND = "*"


def handlers_for(table: Mapping[str, Sequence[str]], kind: str) -> list[str]:
    """The handlers `table` names for events of `kind`: those for every kind first."""
    return [*table.get(EVERY_KIND, ()), *table.get(kind, ())]


def handler(path: str) -> Callable[[models.Model], object]:
    return import_string(path)


class _Queued:
    """The reactions one transaction (or savepoint) queued, enqueued once it commits: one
    task for them all rather than a write each (an intake queued three)."""

    def __init__(self, reactions: list[tuple[str, int, str]]):
        self.reactions = reactions

    def enqueue(self) -> None:
        if len(self.reactions) == 1:
            react.enqueue(*self.reactions[0])
        else:
            react_all.enqueue([list(reaction) for reaction in self.reactions])


def _open_batch(connection) -> _Queued | None:
    """The batch waiting for the commit of the transaction or savepoint now open, if any:
    one opened in a savepoint that rolled back is gone with its callback."""
    here = set(connection.savepoint_ids)
    for sids, func, _ in reversed(connection.run_on_commit):
        queued = getattr(func, "__self__", None)
        if isinstance(queued, _Queued) and sids == here:
            return queued
    return None


def queue_after_commit(event: models.Model, paths: Iterable[str]) -> None:
    """Enqueue each handler's reaction to `event` once the current transaction commits; none
    if it rolls back. Call inside the transaction that recorded `event`."""
    label = event._meta.label_lower
    reactions = [(label, event.pk, path) for path in paths]
    if not reactions:
        return
    connection = transaction.get_connection()
    queued = _open_batch(connection) if connection.in_atomic_block else None
    if queued is not None:
        queued.reactions.extend(reactions)
        return
    transaction.on_commit(_Queued(reactions).enqueue)


def run_once(event: models.Model, path: str) -> bool:
    """Run the handler at `path` on `event` unless it already has; False if it had. The mark
    and the handler's writes commit together: a handler that fails leaves no mark and may run
    again, and two workers running the same reaction at once do it once."""
    label = event._meta.label_lower
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReactionDone.objects.create(
                    event_model=label, event_id=event.pk, handler=path, done_at=timezone.now()
                )
        except IntegrityError:
            return False
        handler(path)(event)
    return True


@task()
def react(event_model: str, event_id: int, path: str) -> bool:
    """The worker's side of `queue_after_commit`."""
    return _react(event_model, event_id, path)


@task()
def react_all(reactions: list[list]) -> int:
    """The worker's side of `queue_after_commit` for the reactions of one transaction, each
    run once as `react` would. One that fails does not keep the others from running; the
    task then fails with the first error. Returns how many ran."""
    ran = 0
    first_error: Exception | None = None
    for event_model, event_id, path in reactions:
        try:
            ran += _react(event_model, event_id, path)
        except Exception as error:
            log.exception("The reaction %s to %s %s failed", path, event_model, event_id)
            first_error = first_error or error
    if first_error is not None:
        raise first_error
    return ran


def _react(event_model: str, event_id: int, path: str) -> bool:
    event = apps.get_model(event_model)._default_manager.get(pk=event_id)
    return run_once(event, path)
