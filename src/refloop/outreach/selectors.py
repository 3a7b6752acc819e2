"""Reads of the outreach domain shared by the pages and the API. None holds patient data."""

from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet

from refloop.core.errors import NotFound
from refloop.core.paging import Page, page_of
from refloop.core.roles import Capability, require
from refloop.core.validation import in_utc
from refloop.outreach import tiers
from refloop.outreach.models import Activity, Attendee, Event, GiftEntry, Relationship, Task
from refloop.practice.models import Organization


def territory_relationships(user, territory_id: int | None = None) -> QuerySet[Relationship]:
    """The practices of one territory; with none named, the user's own territories, or every
    practice when they own none (an admin, a liaison not yet given a territory)."""
    rows = Relationship.objects.all()
    if territory_id is not None:
        return rows.filter(territory_id=territory_id)
    own = rows.filter(territory__liaison=user)
    return own if own.exists() else rows


def due_visits(
    user, *, territory_id: int | None = None, within_days: int = tiers.DUE_SOON_DAYS
) -> list[tiers.Due]:
    require(user, Capability.WORK_OUTREACH)
    return tiers.due_visits(territory_relationships(user, territory_id), within_days=within_days)


def list_activities(
    user,
    *,
    practice_id: int | None = None,
    liaison_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    occurred_from: date | None = None,
    occurred_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Activities, latest first."""
    require(user, Capability.WORK_OUTREACH)
    conditions = {
        "practice_id": practice_id,
        "liaison_id": liaison_id,
        "kind": kind,
        "status": status,
        "occurred_on__gte": occurred_from,
        "occurred_on__lte": occurred_to,
    }
    rows = Activity.objects.filter(**{k: v for k, v in conditions.items() if v is not None})
    return page_of(_with_people(rows).order_by("-occurred_on", "-pk"), limit=limit, offset=offset)


def _with_people(rows: QuerySet[Activity]) -> QuerySet[Activity]:
    """What an activity's answer names: its practice and the people and topics."""
    return rows.select_related("practice", "liaison").prefetch_related(
        "providers", "staff", "topics"
    )


def get_activity(user, activity_id: int) -> Activity:
    require(user, Capability.WORK_OUTREACH)
    found = _with_people(Activity.objects.filter(pk=activity_id)).first()
    if found is None:
        raise NotFound("No activity with this id.")
    return found


def list_tasks(
    user,
    *,
    owner_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    practice_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Tasks, the soonest due first (those without a due date last)."""
    require(user, Capability.WORK_OUTREACH)
    conditions = {"owner_id": owner_id, "status": status, "kind": kind, "practice_id": practice_id}
    rows = Task.objects.filter(**{k: v for k, v in conditions.items() if v is not None})
    rows = rows.select_related("practice", "owner").order_by("due_on", "-created_at", "-pk")
    return page_of(rows, limit=limit, offset=offset)


def list_gifts(
    user,
    *,
    year: int | None = None,
    practice_id: int | None = None,
    provider_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """The gift and meal ledger, latest first."""
    require(user, Capability.WORK_OUTREACH)
    conditions = {
        "given_on__year": year,
        "practice_id": practice_id,
        "provider_id": provider_id,
    }
    rows = GiftEntry.objects.filter(**{k: v for k, v in conditions.items() if v is not None})
    rows = rows.select_related("practice", "provider", "staff").order_by("-given_on", "-pk")
    return page_of(rows, limit=limit, offset=offset)


def _day_starts(day: date) -> datetime:
    """The first instant of the practice's `day`, in UTC (the calendar's edges kept)."""
    return in_utc(datetime.combine(day, time.min), Organization.current().zone)


def list_events(
    user,
    *,
    kind: str | None = None,
    practice_id: int | None = None,
    starts_from: date | None = None,
    starts_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Events, the latest first; `starts_from` and `starts_to` are the practice's days,
    both included."""
    require(user, Capability.WORK_OUTREACH)
    rows = Event.objects.all()
    if kind is not None:
        rows = rows.filter(kind=kind)
    if practice_id is not None:
        rows = rows.filter(host_practice_id=practice_id)
    if starts_from is not None:
        rows = rows.filter(starts_at__gte=_day_starts(starts_from))
    if starts_to is not None and starts_to < date.max:
        rows = rows.filter(starts_at__lt=_day_starts(starts_to + timedelta(days=1)))
    return page_of(rows.order_by("-starts_at", "-pk"), limit=limit, offset=offset)


def get_event(user, event_id: int) -> Event:
    """One event with its invitees and its shares on the ledger."""
    require(user, Capability.WORK_OUTREACH)
    invitees = Attendee.objects.select_related("provider", "staff").order_by("pk")
    shares = GiftEntry.objects.order_by("pk")
    found = (
        Event.objects.filter(pk=event_id)
        .prefetch_related(Prefetch("attendees", invitees), Prefetch("gifts", shares))
        .first()
    )
    if found is None:
        raise NotFound("No event with this id.")
    return found
