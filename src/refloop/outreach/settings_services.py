"""Writes behind the outreach settings: the visit cadence per tier and the topic list. Each
checks MANAGE_SETTINGS, writes in one transaction and records the change in the audit log."""

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.outreach.models import OutreachSettings, Topic

CADENCE_FIELDS = ("cadence_a", "cadence_b", "cadence_c", "cadence_prospect")
CADENCE_DAYS = (1, 365)


def update_cadence(
    *, acting_user: User, values: Mapping[str, int], now: datetime | None = None
) -> list[str]:
    """Save the days between visits per tier (1 to 365); returns the names of what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    low, high = CADENCE_DAYS
    for field in CADENCE_FIELDS:
        value = values[field]
        if not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"Enter a number of days from {low} to {high}.", field=field)
    with transaction.atomic():
        OutreachSettings.current()
        found = OutreachSettings.objects.select_for_update().get(pk=1)
        changed = {}
        for field in CADENCE_FIELDS:
            old, new = getattr(found, field), values[field]
            if old != new:
                changed[field] = [old, new]
                setattr(found, field, new)
        if changed:
            found.save(update_fields=list(changed))
            audit.record(
                "settings.outreach_cadence_changed",
                audit.Touch("outreachsettings", found.pk),
                actor=acting_user,
                detail=changed,
                now=now or timezone.now(),
            )
    return list(changed)


def _name(name: str, *, except_pk: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Give the topic a name.", field="name")
    if len(name) > 80:
        raise InvalidInput("Keep the topic's name to 80 characters.", field="name")
    same = Topic.objects.filter(name__iexact=name)
    if except_pk is not None:
        same = same.exclude(pk=except_pk)
    if same.exists():
        raise InvalidInput(f"There is already a topic called {name}.", field="name")
    return name


def _record(action: str, topic: Topic, actor: User, detail: dict, now) -> None:
    audit.record(
        action,
        audit.Touch("topic", topic.pk),
        actor=actor,
        detail=detail,
        now=now or timezone.now(),
    )


def add_topic(*, acting_user: User, name: str, now: datetime | None = None) -> Topic:
    """A new topic, last in the list."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    with transaction.atomic():
        name = _name(name)
        last = Topic.objects.aggregate(last=Max("position"))["last"]
        topic = Topic.objects.create(name=name, position=0 if last is None else last + 1)
        _record("settings.outreach_topic_added", topic, acting_user, {"name": name}, now)
    return topic


def change_topic(
    *, acting_user: User, topic: Topic, name: str, active: bool, now: datetime | None = None
) -> list[str]:
    """Rename a topic or (de)activate it: activities keep their topics; an inactive one is
    no longer offered when logging. Returns what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        name = _name(name, except_pk=topic.pk)
        changed: dict[str, list] = {}
        if topic.name != name:
            changed["name"] = [topic.name, name]
            topic.name = name
        if topic.active != active:
            changed["active"] = [topic.active, active]
            topic.active = active
        if changed:
            topic.save(update_fields=list(changed))
            _record("settings.outreach_topic_changed", topic, acting_user, changed, now)
    return list(changed)


def move_topic(*, acting_user: User, topic: Topic, up: bool, now: datetime | None = None) -> bool:
    """Swap the topic with the one before (up) or after it; False at the end of the list."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    with transaction.atomic():
        ordered = list(Topic.objects.select_for_update().order_by("position", "name", "pk"))
        index = next(i for i, t in enumerate(ordered) if t.pk == topic.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(ordered):
            return False
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, each in enumerate(ordered):
            each.position = position
        Topic.objects.bulk_update(ordered, ["position"])
        _record(
            "settings.outreach_topic_moved",
            topic,
            acting_user,
            {"order": [t.name for t in ordered]},
            now,
        )
    return True
