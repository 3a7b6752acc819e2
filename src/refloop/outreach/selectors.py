"""Reads of the outreach domain shared by the pages and the API. None holds patient data."""

from datetime import date

from django.db.models import QuerySet

from refloop.core.paging import Page, page_of
from refloop.core.roles import Capability, require
from refloop.outreach import tiers
from refloop.outreach.models import Activity, GiftEntry, Relationship, Task


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
    rows = rows.select_related("practice", "liaison").prefetch_related(
        "providers", "staff", "topics"
    )
    return page_of(rows.order_by("-occurred_on", "-pk"), limit=limit, offset=offset)


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
