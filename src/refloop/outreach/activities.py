"""Writes for a liaison's activities: log one (exactly once per phone key), plan a visit,
change or cancel one. Each keeps the practice's last visit (tiers.note_contact) and the
activity's follow-up task in step."""

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import InvalidInput, NotAllowed
from refloop.core.models import User
from refloop.core.roles import Capability, can, require
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import tiers
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Task,
    TaskKind,
    TaskStatus,
    Topic,
)
from refloop.practice.models import Organization

CLIENT_KEY_MAX: int = Activity._meta.get_field("client_key").max_length or 64
FOLLOW_UP_MAX: int = Activity._meta.get_field("follow_up").max_length or 300
COST_MAX = Decimal("99999999.99")


def _follow_up_key(activity: Activity) -> str:
    return f"follow_up:activity:{activity.pk}"


def _clean(
    *,
    practice: Practice,
    kind: str,
    status: str,
    occurred_on: date | None,
    starts_at: datetime | None,
    providers: Iterable[Provider],
    staff: Iterable[StaffContact],
    topics: Iterable[Topic],
    notes: str,
    follow_up: str,
    follow_up_on: date | None,
    cost: Decimal | str | int,
) -> dict:
    """The activity's values, checked: each refusal names the field to fix."""
    if kind not in ActivityKind.values:
        raise InvalidInput("Choose what kind of activity this was.", field="kind")
    if status not in (ActivityStatus.PLANNED, ActivityStatus.DONE):
        raise InvalidInput("An activity is planned or done.", field="status")
    if status == ActivityStatus.PLANNED and starts_at is None:
        raise InvalidInput("A planned visit needs a date and time.", field="starts_at")
    if occurred_on is None:
        if starts_at is None:
            raise InvalidInput("Give the date of the activity.", field="occurred_on")
        occurred_on = timezone.localdate(starts_at, Organization.current().zone)
    providers, staff, topics = list(providers), list(staff), list(topics)
    if any(p.practice_id != practice.pk for p in providers):
        raise InvalidInput(
            "A provider chosen does not work at this practice; choose from its providers.",
            field="providers",
        )
    if any(s.practice_id != practice.pk for s in staff):
        raise InvalidInput(
            "A staff member chosen does not work at this practice; choose from its staff.",
            field="staff",
        )
    follow_up = (follow_up or "").strip()
    if len(follow_up) > FOLLOW_UP_MAX:
        raise InvalidInput(
            f"Keep the follow-up to {FOLLOW_UP_MAX} characters; put the rest in the notes.",
            field="follow_up",
        )
    if follow_up_on is not None and follow_up_on < occurred_on:
        raise InvalidInput("The follow-up date is before the activity.", field="follow_up_on")
    try:
        amount = Decimal(str(cost or 0)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise InvalidInput("The cost is a sum in dollars, like 45.50.", field="cost") from None
    if amount < 0 or amount > COST_MAX:
        raise InvalidInput("The cost is a sum in dollars, like 45.50.", field="cost")
    return {
        "practice": practice,
        "kind": kind,
        "status": status,
        "occurred_on": occurred_on,
        "starts_at": starts_at,
        "providers": providers,
        "staff": staff,
        "topics": topics,
        "notes": (notes or "").strip(),
        "follow_up": follow_up,
        "follow_up_on": follow_up_on,
        "cost": amount,
    }


def _fingerprint(values: dict) -> str:
    """What a send said, for telling a replay from a key reused for another entry."""
    content = {
        "practice": values["practice"].pk,
        "kind": values["kind"],
        "status": values["status"],
        "occurred_on": values["occurred_on"].isoformat(),
        "starts_at": values["starts_at"].isoformat() if values["starts_at"] else None,
        "providers": sorted(p.pk for p in values["providers"]),
        "staff": sorted(s.pk for s in values["staff"]),
        "topics": sorted(t.pk for t in values["topics"]),
        "notes": values["notes"],
        "follow_up": values["follow_up"],
        "follow_up_on": values["follow_up_on"].isoformat() if values["follow_up_on"] else None,
        "cost": str(values["cost"]),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _replay(acting_user: User, key: str, fingerprint: str) -> Activity | None:
    """The activity an earlier send with `key` recorded, if it said the same; None if the
    key is new."""
    earlier = Activity.objects.filter(client_key=key).first()
    if earlier is None:
        return None
    if earlier.liaison_id != acting_user.pk or earlier.client_fingerprint != fingerprint:
        raise InvalidInput(
            "This entry's key was already used for a different activity; "
            "log it again as a new entry.",
            field="client_key",
        )
    return earlier


def _sync_follow_up(activity: Activity, *, acting_user: User) -> None:
    """One follow-up task per activity, while it has a follow-up date: made, changed with
    the activity, cancelled when the date goes or the activity is cancelled."""
    task = Task.objects.filter(signal_key=_follow_up_key(activity)).first()
    wanted = activity.follow_up_on is not None and activity.status != ActivityStatus.CANCELLED
    title = activity.follow_up or f"Follow up with {activity.practice.name}"
    if not wanted:
        if task is not None and task.status == TaskStatus.OPEN:
            task.status = TaskStatus.CANCELLED
            task.save(update_fields=["status"])
        return
    if task is None:
        Task.objects.create(
            kind=TaskKind.FOLLOW_UP,
            title=title[:200],
            detail=f"From the {activity.get_kind_display().lower()} of {activity.occurred_on:%-d %b %Y}.",
            owner=activity.liaison,
            due_on=activity.follow_up_on,
            practice=activity.practice,
            activity=activity,
            signal_key=_follow_up_key(activity),
            created_by=acting_user,
        )
        return
    if task.status == TaskStatus.OPEN:
        task.title, task.due_on, task.practice = (
            title[:200],
            activity.follow_up_on,
            activity.practice,
        )
        task.save(update_fields=["title", "due_on", "practice"])


def _set_people(activity: Activity, values: dict) -> None:
    activity.providers.set(values["providers"])
    activity.staff.set(values["staff"])
    activity.topics.set(values["topics"])


def log_activity(
    *,
    acting_user: User,
    practice: Practice,
    kind: str = ActivityKind.VISIT,
    status: str = ActivityStatus.DONE,
    occurred_on: date | None = None,
    starts_at: datetime | None = None,
    providers: Iterable[Provider] = (),
    staff: Iterable[StaffContact] = (),
    topics: Iterable[Topic] = (),
    notes: str = "",
    follow_up: str = "",
    follow_up_on: date | None = None,
    cost: Decimal | str | int = Decimal("0"),
    client_key: str | None = None,
) -> tuple[Activity, bool]:
    """Record an activity of `acting_user` with `practice`: (the activity, True). With a
    `client_key` (the phone's id for the entry, or an API client's Idempotency-Key) it is
    recorded once: the same send again returns (the first, False)."""
    require(acting_user, Capability.WORK_OUTREACH)
    values = _clean(
        practice=practice,
        kind=kind,
        status=status,
        occurred_on=occurred_on,
        starts_at=starts_at,
        providers=providers,
        staff=staff,
        topics=topics,
        notes=notes,
        follow_up=follow_up,
        follow_up_on=follow_up_on,
        cost=cost,
    )
    key = (client_key or "").strip() or None
    if key is not None and len(key) > CLIENT_KEY_MAX:
        raise InvalidInput(
            f"The entry's key is longer than {CLIENT_KEY_MAX} characters.", field="client_key"
        )
    fingerprint = _fingerprint(values) if key else ""
    if key is not None:
        earlier = _replay(acting_user, key, fingerprint)
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            return _record(acting_user, values, key, fingerprint), True
    except IntegrityError:
        # A second send of the same entry that raced the first: the first one stands.
        earlier = _replay(acting_user, key, fingerprint) if key else None
        if earlier is None:
            raise
        return earlier, False


def _record(acting_user: User, values: dict, key: str | None, fingerprint: str) -> Activity:
    people = {name: values.pop(name) for name in ("providers", "staff", "topics")}
    activity = Activity.objects.create(
        liaison=acting_user, client_key=key, client_fingerprint=fingerprint, **values
    )
    _set_people(activity, people)
    tiers.note_contact(activity.practice_id)
    _sync_follow_up(activity, acting_user=acting_user)
    audit.record(
        "activity.logged",
        audit.Touch("activity", activity.pk),
        actor=acting_user,
        detail={"practice": activity.practice_id, "kind": activity.kind},
    )
    return activity


def plan_visit(*, acting_user: User, practice: Practice, starts_at: datetime) -> Activity:
    """A visit in the liaison's calendar (outreach.calendar's feed)."""
    planned, _ = log_activity(
        acting_user=acting_user,
        practice=practice,
        kind=ActivityKind.VISIT,
        status=ActivityStatus.PLANNED,
        starts_at=starts_at,
    )
    return planned


def may_change(user: User, activity: Activity) -> bool:
    """The liaison who logged it changes it, or whoever manages the practice's settings."""
    return can(user, Capability.WORK_OUTREACH) and (
        activity.liaison_id == user.pk or can(user, Capability.MANAGE_SETTINGS)
    )


def check_may_change(acting_user: User, activity: Activity) -> None:
    require(acting_user, Capability.WORK_OUTREACH)
    if not may_change(acting_user, activity):
        raise NotAllowed("Only the liaison who logged this activity may change it.")


@transaction.atomic
def edit_activity(
    *,
    acting_user: User,
    activity: Activity,
    practice: Practice,
    kind: str,
    status: str,
    occurred_on: date | None,
    starts_at: datetime | None = None,
    providers: Iterable[Provider] = (),
    staff: Iterable[StaffContact] = (),
    topics: Iterable[Topic] = (),
    notes: str = "",
    follow_up: str = "",
    follow_up_on: date | None = None,
    cost: Decimal | str | int = Decimal("0"),
) -> Activity:
    """Change an activity (a planned visit done, a date corrected); the cadence of the
    practice it was and is with is recomputed."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    check_may_change(acting_user, activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise InvalidInput("This activity was cancelled; log a new one instead.", field="status")
    values = _clean(
        practice=practice,
        kind=kind,
        status=status,
        occurred_on=occurred_on,
        starts_at=starts_at,
        providers=providers,
        staff=staff,
        topics=topics,
        notes=notes,
        follow_up=follow_up,
        follow_up_on=follow_up_on,
        cost=cost,
    )
    was_at = activity.practice_id
    people = {name: values.pop(name) for name in ("providers", "staff", "topics")}
    for name, value in values.items():
        setattr(activity, name, value)
    activity.save(update_fields=list(values))
    _set_people(activity, people)
    tiers.note_contact(activity.practice_id)
    if was_at != activity.practice_id:
        tiers.note_contact(was_at)
    _sync_follow_up(activity, acting_user=acting_user)
    audit.record(
        "activity.changed",
        audit.Touch("activity", activity.pk),
        actor=acting_user,
        detail={"practice": activity.practice_id, "kind": activity.kind},
    )
    return activity


@transaction.atomic
def cancel_activity(*, acting_user: User, activity: Activity) -> Activity:
    """Take an activity back (logged by mistake, a planned visit called off): it no longer
    counts as a visit, and its open follow-up task is cancelled."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    check_may_change(acting_user, activity)
    if activity.status == ActivityStatus.CANCELLED:
        return activity
    activity.status = ActivityStatus.CANCELLED
    activity.save(update_fields=["status"])
    tiers.note_contact(activity.practice_id)
    _sync_follow_up(activity, acting_user=acting_user)
    audit.record(
        "activity.cancelled",
        audit.Touch("activity", activity.pk),
        actor=acting_user,
        detail={"practice": activity.practice_id},
    )
    return activity
