"""Outreach over the API: the due list, activities, tasks and the gift ledger (WORK_OUTREACH).
Nothing here carries patient data."""

from ninja import Query, Router

from refloop.core.schemas import ApiRequest
from refloop.outreach import selectors
from refloop.outreach.schemas import (
    ActivityFilterIn,
    ActivityPageOut,
    DueFilterIn,
    DueOut,
    GiftFilterIn,
    GiftPageOut,
    TaskFilterIn,
    TaskPageOut,
)

router = Router(tags=["outreach"])


@router.get("/outreach/due", response={200: list[DueOut]})
def list_due_visits(request: ApiRequest, filters: Query[DueFilterIn]):
    """Practices due for a visit (or overdue) against their tier's cadence, most overdue first."""
    due = selectors.due_visits(
        request.auth, territory_id=filters.territory, within_days=filters.within_days
    )
    return [
        {
            "practice_id": d.practice.pk,
            "practice_name": d.practice.name,
            "tier": d.relationship.tier,
            "cadence_days": d.cadence_days,
            "last_visit_on": d.relationship.last_visit_on,
            "due_on": d.due_on,
            "overdue_days": d.overdue_days,
            "reason": d.reason,
        }
        for d in due
    ]


@router.get("/outreach/activities", response={200: ActivityPageOut})
def list_activities(request: ApiRequest, filters: Query[ActivityFilterIn]):
    """Visits, calls, e-mails, drop-offs, events, notes and gifts, latest first."""
    return selectors.list_activities(
        request.auth,
        practice_id=filters.practice,
        liaison_id=filters.liaison,
        kind=filters.kind,
        status=filters.status,
        occurred_from=filters.occurred_from,
        occurred_to=filters.occurred_to,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get("/outreach/tasks", response={200: TaskPageOut})
def list_tasks(request: ApiRequest, filters: Query[TaskFilterIn]):
    """Outreach tasks, the soonest due first."""
    return selectors.list_tasks(
        request.auth,
        owner_id=filters.owner,
        status=filters.status,
        kind=filters.kind,
        practice_id=filters.practice,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get("/outreach/gifts", response={200: GiftPageOut})
def list_gifts(request: ApiRequest, filters: Query[GiftFilterIn]):
    """The gift and meal ledger: every item of value given at a referring practice."""
    return selectors.list_gifts(
        request.auth,
        year=filters.year,
        practice_id=filters.practice,
        provider_id=filters.provider,
        limit=filters.limit,
        offset=filters.offset,
    )
