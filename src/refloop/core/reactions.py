"""Running the reactions to a committed event: each handler is queued by its dotted path,
run by the worker, and has its effects once per event.

The table of which handlers react to which event kinds belongs to the app that records the
events (`refloop.referrals.reactions` for the referral timeline); it names handlers in the
apps above it by string, so recording an event imports none of them.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from refloop.core.models import ReactionDone

EVERY_KIND = "*"


def handlers_for(table: Mapping[str, Sequence[str]], kind: str) -> list[str]:
    """The handlers `table` names for events of `kind`: those for every kind first."""
    return [*table.get(EVERY_KIND, ()), *table.get(kind, ())]


def handler(path: str) -> Callable[[models.Model], object]:
    return import_string(path)


def queue_after_commit(event: models.Model, paths: Iterable[str]) -> None:
    """Enqueue one task per handler once the current transaction commits; none if it rolls
    back. Call inside the transaction that recorded `event`."""
    label = event._meta.label_lower
    for path in paths:
        transaction.on_commit(partial(react.enqueue, label, event.pk, path))


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
    event = apps.get_model(event_model)._default_manager.get(pk=event_id)
    return run_once(event, path)
