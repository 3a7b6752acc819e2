"""Outreach over the API: the due list, activities, tasks and the gift ledger (WORK_OUTREACH).
Nothing here carries patient data."""

from typing import Annotated

from ninja import Path, Query, Router
from ninja.responses import Status

from refloop.core.errors import InvalidInput, NotFound
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.schemas import ApiRequest, PathId, errors
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import ledger, lift, selectors, task_services, tiers
from refloop.outreach.models import Task
from refloop.outreach.schemas import (
    ActivityFilterIn,
    ActivityPageOut,
    DueFilterIn,
    DueOut,
    GiftFilterIn,
    GiftIn,
    GiftPageOut,
    GiftRecordedOut,
    LedgerReportOut,
    LiftFilterIn,
    LiftReportOut,
    TaskCloseIn,
    TaskFilterIn,
    TaskIn,
    TaskOut,
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


@router.post("/outreach/gifts", response={201: GiftRecordedOut, **errors(409)})
def record_gift(request: ApiRequest, payload: GiftIn):
    """Record an item of value given to one person at a referring practice.

    Cash and cash equivalents are refused (422). For a physician, the year's total is held
    to the Stark non-monetary compensation limit (42 CFR 411.357(k)): 409 when this gift
    would cross it (only a compliance officer, on the ledger's page, may record it under the
    repayment exception), and a `warning` from 80% of the limit on.
    """
    require(request.auth, Capability.WORK_OUTREACH)
    recipient: Provider | StaffContact | None
    if payload.provider_id is not None:
        recipient = Provider.objects.filter(pk=payload.provider_id).first()
        field = "provider_id"
    else:
        recipient = StaffContact.objects.filter(pk=payload.staff_id or 0).first()
        field = "staff_id"
    if recipient is None:
        raise InvalidInput(f"{field} names no one in the directory.", field=field)
    recorded = ledger.record_gift(
        acting_user=request.auth,
        recipient=recipient,
        given_on=payload.given_on,
        kind=payload.kind,
        description=payload.description,
        value=ledger.cents(payload.value),
    )
    return Status(
        201,
        {
            "gift": recorded.entry,
            "total": ledger.cents(recorded.total),
            "limit": recorded.limit,
            "state": recorded.state,
            "warning": recorded.warning,
        },
    )


@router.get("/outreach/ledger/{year}", response={200: LedgerReportOut})
def ledger_report(request: ApiRequest, year: Annotated[int, Path(ge=2000, le=2100)]):
    """The year's compliance report: per physician, the total against the limit and any
    overage with its repayment; then the non-physicians, tracked without a limit."""
    require(request.auth, Capability.WORK_OUTREACH)
    report = ledger.compliance_report(year)
    return {
        "year": report.year,
        "limit": report.limit,
        "physicians": [
            {
                "provider_id": row.person.provider.pk if row.person.provider else 0,
                "name": row.person.name,
                "credentials": row.person.role,
                "npi": row.npi,
                "practice": row.practice,
                "items": row.person.items,
                "given": ledger.cents(row.person.given),
                "repaid": ledger.cents(row.person.repaid),
                "total": ledger.cents(row.person.total),
                "limit": row.person.limit,
                "state": row.person.state,
                "overages": [
                    f"{ledger.money(o.excess)} over, repay by {o.repay_by:%Y-%m-%d}: {state}"
                    for o, state in row.overages
                ],
            }
            for row in report.physicians
        ],
        "others": [
            {"name": p.name, "role": p.role, "items": p.items, "total": ledger.cents(p.total)}
            for p in report.others
        ],
    }


def _named(model, pk: int | None, field: str, words: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise InvalidInput(f"{field} names no {words}.", field=field)
    return found


@router.post("/outreach/tasks", response={201: TaskOut})
def create_task(request: ApiRequest, payload: TaskIn):
    """A task by hand, for a liaison or admin (or nobody), linked to a practice or one of its
    people."""
    try:
        task = task_services.create_task(
            acting_user=request.auth,
            title=payload.title,
            detail=payload.detail,
            owner=_named(User, payload.owner_id, "owner_id", "user"),
            due_on=payload.due_on,
            practice=_named(Practice, payload.practice_id, "practice_id", "practice"),
            provider=_named(Provider, payload.provider_id, "provider_id", "provider"),
            staff=_named(StaffContact, payload.staff_id, "staff_id", "staff contact"),
        )
    except InvalidInput as refused:
        # The service names the object (owner); the API's field is its id (owner_id).
        if refused.field in ("owner", "provider", "staff"):
            raise InvalidInput(refused.message, field=f"{refused.field}_id") from refused
        raise
    return Status(201, task)


@router.post("/outreach/tasks/{task_id}/close", response={200: TaskOut, **errors(409)})
def close_task(request: ApiRequest, task_id: PathId, payload: TaskCloseIn):
    """Mark an open task done or cancelled (409 if it is not open)."""
    require(request.auth, Capability.WORK_OUTREACH)
    if not Task.objects.filter(pk=task_id).exists():
        raise NotFound("No task with this id.")
    return task_services.close_task(task_id, acting_user=request.auth, status=payload.status)


@router.get("/outreach/lift", response={200: LiftReportOut})
def referral_lift(request: ApiRequest, filters: Query[LiftFilterIn]):
    """Referral lift: each visited practice's referrals in the 90 days after a visit against
    the 90 days before, compared with unvisited practices of the same tier and segment (a
    difference in differences with a 95% bootstrap interval), overall and per liaison."""
    require(request.auth, Capability.WORK_OUTREACH)
    report = lift.lift(on=tiers.today(), start=filters.start, end=filters.end)

    def out(found: lift.Lift) -> dict:
        return {
            "label": found.label,
            "practices": found.practices,
            "unmatched": found.unmatched,
            "estimate": found.estimate,
            "low": found.low,
            "high": found.high,
            "before": found.before,
            "after": found.after,
            "words": found.words,
        }

    return {
        "start": report.start,
        "end": report.end,
        "overall": out(report.overall),
        "by_liaison": [out(found) for found in report.by_liaison],
    }
