"""Outreach over the API: the due list, activities, tasks, events, the gift ledger and the
referral lift (WORK_OUTREACH). Nothing here carries patient data.

The writes call the services the pages call (outreach.activities, events, ledger,
task_services), so their rules and audit records are the same; a refusal names the API's
field (provider_ids) where the service names its argument (providers).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from django.db.models import Model
from django.http import HttpResponse
from ninja import Header, Path, Query, Router
from ninja.responses import Status

from refloop.core.errors import InvalidInput, NotFound
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.schemas import ApiRequest, PathId, errors, replayed
from refloop.core.validation import in_utc
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import activities, events, ledger, lift, selectors, task_services, tiers
from refloop.outreach.models import Activity, Task, Topic
from refloop.outreach.schemas import (
    ActivityChangeIn,
    ActivityFilterIn,
    ActivityIn,
    ActivityOut,
    ActivityPageOut,
    AttendanceIn,
    AttendanceOut,
    DueFilterIn,
    DueOut,
    GiftFilterIn,
    GiftIn,
    GiftPageOut,
    GiftRecordedOut,
    InvitedOut,
    InviteIn,
    LedgerReportOut,
    LiftFilterIn,
    LiftReportOut,
    OutreachEventDetailOut,
    OutreachEventFilterIn,
    OutreachEventIn,
    OutreachEventPageOut,
    TaskCloseIn,
    TaskFilterIn,
    TaskIn,
    TaskOut,
    TaskPageOut,
)
from refloop.practice.models import Organization

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


def _all_named[M: Model](model: type[M], pks: list[int], field: str, words: str) -> list[M]:
    """The rows a list of ids names, every one of them."""
    found = list(model._default_manager.filter(pk__in=set(pks)))
    if len(found) != len(set(pks)):
        raise InvalidInput(f"{field} names no {words} for one of its ids.", field=field)
    return found


@contextmanager
def _api_fields(**names: str) -> Iterator[None]:
    """A service's refusal names its argument (owner, providers); the API's field is the id
    or ids it was given as (owner_id, provider_ids)."""
    try:
        yield
    except InvalidInput as refused:
        if refused.field in names:
            raise InvalidInput(refused.message, field=names[refused.field]) from refused
        raise


def _practice_time(moment: datetime, field: str) -> datetime:
    """A time as the services take it: in UTC, read in the practice's zone when it carries
    no offset; its day in that zone must be on the calendar."""
    zone = Organization.current().zone
    at = in_utc(moment, zone)
    try:
        at.astimezone(zone)
    except OverflowError:
        raise InvalidInput(
            f"{field} is off the calendar in the practice's time zone.", field=field
        ) from None
    return at


@router.post("/outreach/tasks", response={201: TaskOut})
def create_task(request: ApiRequest, payload: TaskIn):
    """A task by hand, for a liaison or admin (or nobody), linked to a practice or one of its
    people."""
    with _api_fields(owner="owner_id", provider="provider_id", staff="staff_id"):
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


# ---- activities: log, change, cancel ------------------------------------------------------

ACTIVITY_RULES = (
    "\n\nRules beyond the schema (422 naming the field): `practice_id`, `provider_ids`, "
    "`staff_ids` and `topic_ids` name rows that exist, and the people met work at the "
    "practice; a planned visit has `starts_at`; a done activity has `occurred_on` (or "
    "`starts_at`, whose day it then is); `follow_up_on` is not before the activity."
)


def _activity_values(payload: dict) -> dict:
    """The service's arguments from the API's fields (those given)."""
    values = {
        name: payload[name]
        for name in ("kind", "status", "occurred_on", "notes", "follow_up", "follow_up_on", "cost")
        if name in payload
    }
    if "practice_id" in payload:
        values["practice"] = _named(Practice, payload["practice_id"], "practice_id", "practice")
    if "starts_at" in payload:
        starts_at = payload["starts_at"]
        values["starts_at"] = None if starts_at is None else _practice_time(starts_at, "starts_at")
    people = (
        ("provider_ids", "providers", Provider, "provider"),
        ("staff_ids", "staff", StaffContact, "staff contact"),
        ("topic_ids", "topics", Topic, "topic"),
    )
    for field, argument, model, words in people:
        if field in payload:
            values[argument] = _all_named(model, payload[field], field, words)
    return values


ACTIVITY_FIELDS = {"providers": "provider_ids", "staff": "staff_ids", "topics": "topic_ids"}


@router.post(
    "/outreach/activities",
    response={201: ActivityOut, 200: ActivityOut},
    openapi_extra={
        "responses": {200: replayed("the activity logged first"), 201: {"description": "Logged"}}
    },
    description=(
        "Log a visit, call, e-mail, drop-off, event, note or gift with one practice, with the "
        "people met: the practice's last visit and, with `follow_up_on`, a follow-up task "
        "for you. Send an `Idempotency-Key` (the phone log's entry key is the same "
        "thing) to log it once: the same key with the same values answers the first "
        "activity again (200, `Idempotent-Replayed: true`); the same key with other values, "
        "or one another user has used, is refused (422, field `Idempotency-Key`)." + ACTIVITY_RULES
    ),
)
def log_activity(
    request: ApiRequest,
    payload: ActivityIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=activities.CLIENT_KEY_MAX,
        description="Send the same key when retrying; the first activity comes back (200)",
    ),
):
    """Log an activity (201), or replay an earlier one by its Idempotency-Key (200)."""
    require(request.auth, Capability.WORK_OUTREACH)
    with _api_fields(**ACTIVITY_FIELDS, client_key="Idempotency-Key"):
        activity, created = activities.log_activity(
            acting_user=request.auth,
            **_activity_values(payload.model_dump()),
            client_key=idempotency_key,
        )
    answer = selectors.get_activity(request.auth, activity.pk)
    if not created:
        response["Idempotent-Replayed"] = "true"
        return Status(200, answer)
    return Status(201, answer)


def _changeable(user: User, activity_id: int) -> Activity:
    """The activity, if `user` may change it: 403 before any field of the body is read."""
    activity = selectors.get_activity(user, activity_id)
    activities.check_may_change(user, activity)
    return activity


@router.patch(
    "/outreach/activities/{activity_id}",
    response={200: ActivityOut},
    description=(
        "Change an activity (a planned visit done, a date or the people corrected): only the "
        "liaison who logged it, or an admin (403 for anyone else). Fields left out keep their "
        "values; a list replaces the whole list. A cancelled activity is not changed (422, "
        "field `status`): log a new one." + ACTIVITY_RULES
    ),
)
def change_activity(request: ApiRequest, activity_id: PathId, payload: ActivityChangeIn):
    """Change an activity you logged (or any, as an admin)."""
    activity = _changeable(request.auth, activity_id)
    given = payload.model_dump(exclude_unset=True)
    if given.get("starts_at") is not None and "occurred_on" not in given:
        given["occurred_on"] = None  # the service takes the new time's day
    current = {
        "practice": activity.practice,
        "kind": activity.kind,
        "status": activity.status,
        "occurred_on": activity.occurred_on,
        "starts_at": activity.starts_at,
        "providers": list(activity.providers.all()),
        "staff": list(activity.staff.all()),
        "topics": list(activity.topics.all()),
        "notes": activity.notes,
        "follow_up": activity.follow_up,
        "follow_up_on": activity.follow_up_on,
        "cost": activity.cost,
    }
    with _api_fields(**ACTIVITY_FIELDS):
        activities.edit_activity(
            acting_user=request.auth, activity=activity, **(current | _activity_values(given))
        )
    return selectors.get_activity(request.auth, activity_id)


@router.post("/outreach/activities/{activity_id}/cancel", response={200: ActivityOut})
def cancel_activity(request: ApiRequest, activity_id: PathId):
    """Take an activity back (logged by mistake, a planned visit called off): it no longer
    counts as a visit and its open follow-up task is cancelled. Only the liaison who logged
    it, or an admin; cancelling a cancelled activity changes nothing."""
    activity = _changeable(request.auth, activity_id)
    activities.cancel_activity(acting_user=request.auth, activity=activity)
    return selectors.get_activity(request.auth, activity_id)


# ---- events: invitees, who came, the cost shared on the ledger ----------------------------


@router.get("/outreach/events", response={200: OutreachEventPageOut})
def list_events(request: ApiRequest, filters: Query[OutreachEventFilterIn]):
    """Lunch-and-learns, CME evenings, open houses: the latest first."""
    return selectors.list_events(
        request.auth,
        kind=filters.kind,
        practice_id=filters.practice,
        starts_from=filters.starts_from,
        starts_to=filters.starts_to,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get("/outreach/events/{event_id}", response={200: OutreachEventDetailOut})
def get_event(request: ApiRequest, event_id: PathId):
    """One event: its invitees (who came), its cost and the cost's shares on the ledger."""
    return selectors.get_event(request.auth, event_id)


@router.post("/outreach/events", response={201: OutreachEventDetailOut})
def create_event(request: ApiRequest, payload: OutreachEventIn, response: HttpResponse):
    """Plan an event; invite people next (…/invitees), then say who came (…/attendance).
    `host_practice_id` names a practice that exists (422 otherwise)."""
    require(request.auth, Capability.WORK_OUTREACH)
    event = events.create_event(
        acting_user=request.auth,
        kind=payload.kind,
        title=payload.title,
        starts_at=_practice_time(payload.starts_at, "starts_at"),
        place=payload.place,
        host_practice=_named(Practice, payload.host_practice_id, "host_practice_id", "practice"),
        total_cost=ledger.cents(payload.total_cost),
    )
    response["Location"] = f"/api/v1/outreach/events/{event.pk}"
    return Status(201, selectors.get_event(request.auth, event.pk))


@router.post("/outreach/events/{event_id}/invitees", response={200: InvitedOut})
def invite_to_event(request: ApiRequest, event_id: PathId, payload: InviteIn):
    """Invite providers and staff members, of any practice (each id must name one: 422
    otherwise); those already invited stay as they are."""
    event = selectors.get_event(request.auth, event_id)
    added = events.invite(
        acting_user=request.auth,
        event=event,
        providers=_all_named(Provider, payload.provider_ids, "provider_ids", "provider"),
        staff=_all_named(StaffContact, payload.staff_ids, "staff_ids", "staff contact"),
    )
    return {"added": added, "event": selectors.get_event(request.auth, event_id)}


@router.post(
    "/outreach/events/{event_id}/attendance",
    response={200: AttendanceOut, **errors(409)},
)
def record_attendance(request: ApiRequest, event_id: PathId, payload: AttendanceIn):
    """Say who came (all of them: invitees left out did not) and the total cost, shared
    equally among them on the gift ledger, one entry per person and event however often
    this is sent; someone no longer marked loses theirs.

    All or nothing: 409 when a share would take a physician past the year's Stark limit
    (42 CFR 411.357(k)), naming the attendee, or when the year's limit is not entered;
    `warnings` name physicians at 80% of the limit or more. `attended` names only this
    event's invitees (422 otherwise)."""
    event = selectors.get_event(request.auth, event_id)
    total_cost = event.total_cost if payload.total_cost is None else payload.total_cost
    with _api_fields(recipient="attended"):
        shared = events.set_attendance(
            acting_user=request.auth,
            event=event,
            attended=payload.attended,
            total_cost=total_cost,
        )
    return {
        "event": selectors.get_event(request.auth, event_id),
        "removed": shared.removed,
        "warnings": shared.warnings,
    }
