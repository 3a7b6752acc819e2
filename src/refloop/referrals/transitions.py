"""The referral lifecycle's moves, inbound and outbound: one service function per move, and
one table per direction saying, for each move, its function, the capability it needs, the
fields it reads and its words. The API, the detail page's buttons and the portal read the
table (`allowed_next`, `transition`); no state change is written anywhere else.

Each move locks the row, checks the capability, the version and the lifecycle (lifecycle.py),
requires the data it needs, saves, and appends the timeline event and the audit record in
the same transaction; side effects run after commit (timeline.record_event).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from refloop.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from refloop.core.models import User
from refloop.core.roles import Capability, can, require
from refloop.practice.models import Department, Organization
from refloop.referrals import appointments, lifecycle
from refloop.referrals.appointments import AppointmentInput
from refloop.referrals.models import (
    AppointmentOutcome,
    Attachment,
    CancelReason,
    DeclineReason,
    Direction,
    ProgressReport,
    Referral,
    State,
    UnreachableReason,
)
from refloop.referrals.selectors import is_visible, visible_referrals
from refloop.referrals.timeline import record_event
from refloop.referrals.writing import (
    check_version,
    choice,
    lock,
    required,
    save_changes,
    unsuccessful_attempts,
)

S = State
WORK = Capability.WORK_REFERRALS
DECIDE = Capability.CLINICAL_DECISIONS


def _begin(
    referral: Referral | int,
    name: str,
    *,
    acting_user: User,
    expected_version: int | None = None,
) -> Referral:
    """Lock the referral for move `name`, once the user may make it from the current state.

    Refused in this order: the capability (403), the referral not visible (404), a stale
    version (409), the lifecycle (409).
    """
    candidates = [table[name] for table in MOVES.values() if name in table]
    # A role that may make this move in neither direction is refused before any lookup.
    needed = [m.capability for m in candidates if m.capability is not None]
    capability = next((c for c in needed if can(acting_user, c)), needed[0])
    locked = lock(referral, acting_user=acting_user, capability=capability)
    move = MOVES[locked.direction].get(name)
    if move is None:
        # A move of the other direction (send an inbound referral): the lifecycle says why not.
        lifecycle.check(locked.direction, locked.state, candidates[0].to)
        raise Conflict(f"A {locked.direction} referral cannot be moved this way.")
    if move.capability is None:
        raise NotAllowed("Only refloop makes this move, when it follows from something else.")
    require(acting_user, move.capability)
    check_version(locked, expected_version)
    lifecycle.check(locked.direction, locked.state, move.to)
    if move.only_from and locked.state not in move.only_from:
        raise Conflict(move.refused_from)
    _check_needs(move, locked)
    return locked


def _check_needs(move: "Move", referral: Referral) -> None:
    """409: what the move closes with does not exist yet; no field in the request could
    stand in for it, so this is a conflict with the referral's state, not invalid input."""
    if move.needs is not None and not move.needs(referral):
        raise Conflict(move.refused_without)


def _finish(
    referral: Referral,
    to: str,
    *,
    acting_user: User | None,
    now: datetime,
    changed: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> Referral:
    from_state = referral.state
    referral.state = to
    referral.state_changed_at = now
    fields = [*(changed or []), "state", "state_changed_at"]
    if not lifecycle.is_open(referral.direction, to):
        referral.closed_at = now
        fields.append("closed_at")
    save_changes(referral, fields)
    record_event(
        referral,
        f"referral.{to}",
        actor=acting_user,
        at=now,
        from_state=from_state,
        to_state=to,
        data=data,
    )
    return referral


def _end(
    referral: Referral,
    to: str,
    reason: str,
    detail: str,
    *,
    acting_user: User,
    now: datetime,
    **more: str,
) -> Referral:
    """Close `referral` in state `to` for `reason` and its detail; `more` are further fields
    (the suggested alternative) kept on the referral and told in the event alike."""
    referral.end_reason = reason
    referral.end_reason_detail = detail
    for name, value in more.items():
        setattr(referral, name, value)
    return _finish(
        referral,
        to,
        acting_user=acting_user,
        now=now,
        changed=["end_reason", "end_reason_detail", *more],
        data={"reason": reason, "reason_detail": detail, **more},
    )


def _reason(value: str | None, detail: str, choices, what: str) -> tuple[str, str]:
    if not value:
        raise InvalidInput(
            f"reason is required to {what}; one of {', '.join(choices.values)}.", field="reason"
        )
    choice(value, choices, "reason")
    if value == "other" and not (detail or "").strip():
        raise InvalidInput(
            "reason_detail is required when the reason is 'other'.", field="reason_detail"
        )
    return value, (detail or "").strip()


# ---- inbound: review ------------------------------------------------------


@transaction.atomic
def start_review(
    referral: Referral | int,
    *,
    acting_user: User,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """received -> in_review, or pending_info -> in_review once the missing information arrived."""
    now = now or timezone.now()
    referral = _begin(
        referral, "start_review", acting_user=acting_user, expected_version=expected_version
    )
    return _finish(referral, S.IN_REVIEW, acting_user=acting_user, now=now, data=_note(note))


@transaction.atomic
def request_info(
    referral: Referral | int,
    *,
    acting_user: User,
    missing_info: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Ask the referrer for records or an authorization before deciding."""
    now = now or timezone.now()
    referral = _begin(
        referral, "request_info", acting_user=acting_user, expected_version=expected_version
    )
    missing = required(missing_info, "missing_info", "say what the referrer must send.")
    referral.missing_info = missing
    return _finish(
        referral,
        S.PENDING_INFO,
        acting_user=acting_user,
        now=now,
        changed=["missing_info"],
        data={"missing_info": missing},
    )


@transaction.atomic
def accept_referral(
    referral: Referral | int,
    *,
    acting_user: User,
    department: Department | None = None,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """We will see the patient (inbound), or the outside practice will (outbound)."""
    now = now or timezone.now()
    referral = _begin(
        referral, "accept", acting_user=acting_user, expected_version=expected_version
    )
    changed = ["accepted_at"]
    referral.accepted_at = now
    if department is not None:
        referral.department = department
        changed.append("department")
    if referral.direction == Direction.INBOUND and referral.department_id is None:
        raise InvalidInput(
            "department_id is required: say which department will see the patient.",
            field="department_id",
        )
    return _finish(
        referral, S.ACCEPTED, acting_user=acting_user, now=now, changed=changed, data=_note(note)
    )


@transaction.atomic
def decline_referral(
    referral: Referral | int,
    *,
    acting_user: User,
    reason: str,
    reason_detail: str = "",
    suggested_alternative: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Not a fit: the reason and a suggested alternative go back to the referrer."""
    now = now or timezone.now()
    referral = _begin(
        referral, "decline", acting_user=acting_user, expected_version=expected_version
    )
    reason, detail = _reason(reason, reason_detail, DeclineReason, "decline a referral")
    return _end(
        referral,
        S.DECLINED,
        reason,
        detail,
        acting_user=acting_user,
        now=now,
        suggested_alternative=(suggested_alternative or "").strip(),
    )


# ---- inbound: reaching and seeing the patient -------------------------------


@transaction.atomic
def start_contacting(
    referral: Referral | int,
    *,
    acting_user: User,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Begin (or after a no-show, begin again) reaching the patient to book."""
    now = now or timezone.now()
    referral = _begin(
        referral, "start_contacting", acting_user=acting_user, expected_version=expected_version
    )
    referral.outreach_started_at = now
    return _finish(
        referral,
        S.CONTACTING,
        acting_user=acting_user,
        now=now,
        changed=["outreach_started_at"],
        data=_note(note),
    )


@transaction.atomic
def schedule_referral(
    referral: Referral | int,
    *,
    acting_user: User,
    appointment: AppointmentInput | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Book the appointment (from accepted, contacting or after a no-show)."""
    now = now or timezone.now()
    referral = _begin(
        referral, "schedule", acting_user=acting_user, expected_version=expected_version
    )
    booked = appointments.book(referral, appointment, now=now)
    changed = []
    if referral.first_scheduled_at is None:
        referral.first_scheduled_at = now
        changed.append("first_scheduled_at")
    return _finish(
        referral,
        S.SCHEDULED,
        acting_user=acting_user,
        now=now,
        changed=changed,
        data=appointments.event_data(booked),
    )


@transaction.atomic
def reschedule_appointment(
    referral: Referral | int,
    *,
    acting_user: User,
    appointment: AppointmentInput | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Move the booked appointment; the referral stays scheduled."""
    now = now or timezone.now()
    locked = lock(referral, acting_user=acting_user, capability=WORK)
    check_version(locked, expected_version)
    if locked.state != S.SCHEDULED:
        raise Conflict(
            f"This referral is {locked.state}; only a scheduled referral can be rescheduled."
        )
    previous = appointments.pending(locked)
    appointments.set_outcome(previous, AppointmentOutcome.RESCHEDULED)
    booked = appointments.book(locked, appointment, now=now)
    save_changes(locked, [])
    record_event(
        locked,
        "referral.rescheduled",
        actor=acting_user,
        at=now,
        data={
            **appointments.event_data(booked),
            "previous_appointment_id": previous.pk if previous else None,
        },
    )
    return locked


@transaction.atomic
def record_no_show(
    referral: Referral | int,
    *,
    acting_user: User,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    now = now or timezone.now()
    referral = _begin(
        referral, "record_no_show", acting_user=acting_user, expected_version=expected_version
    )
    appointments.set_outcome(appointments.pending(referral), AppointmentOutcome.NO_SHOW)
    referral.outreach_started_at = now
    no_shows = referral.appointments.filter(outcome=AppointmentOutcome.NO_SHOW).count()
    return _finish(
        referral,
        S.NO_SHOW,
        acting_user=acting_user,
        now=now,
        changed=["outreach_started_at"],
        data={**_note(note), "no_shows": no_shows},
    )


@transaction.atomic
def mark_seen(
    referral: Referral | int,
    *,
    acting_user: User,
    visit_value=None,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The patient attended; optionally record the visit's value for lifetime-value figures."""
    now = now or timezone.now()
    referral = _begin(
        referral, "mark_seen", acting_user=acting_user, expected_version=expected_version
    )
    value = appointments.visit_value(visit_value)
    appointments.set_outcome(
        appointments.pending(referral), AppointmentOutcome.ATTENDED, visit_value=value
    )
    referral.seen_at = now
    return _finish(
        referral, S.SEEN, acting_user=acting_user, now=now, changed=["seen_at"], data=_note(note)
    )


@transaction.atomic
def close_loop(
    referral: Referral | int,
    *,
    acting_user: User,
    report_summary: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The consult report went back to the referrer: the loop is closed. Only once the
    clinician's progress report is written (the move's `needs`)."""
    now = now or timezone.now()
    referral = _begin(
        referral, "close_loop", acting_user=acting_user, expected_version=expected_version
    )
    report = required(
        report_summary, "report_summary", "summarize the findings and plan sent to the referrer."
    )
    referral.report_summary = report
    return _finish(
        referral, S.LOOP_CLOSED, acting_user=acting_user, now=now, changed=["report_summary"]
    )


@transaction.atomic
def mark_unreachable(
    referral: Referral | int,
    *,
    acting_user: User,
    reason: str,
    reason_detail: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The patient could not be reached. 'max_attempts_reached' needs those attempts on record."""
    now = now or timezone.now()
    referral = _begin(
        referral, "mark_unreachable", acting_user=acting_user, expected_version=expected_version
    )
    reason, detail = _reason(
        reason, reason_detail, UnreachableReason, "mark a referral unreachable"
    )
    if reason == UnreachableReason.MAX_ATTEMPTS_REACHED:
        made = unsuccessful_attempts(referral)
        maximum = Organization.current().max_contact_attempts
        if made < maximum:
            raise InvalidInput(
                f"Only {made} of {maximum} contact attempts are on record; record the attempts "
                "or give another reason.",
                field="reason",
            )
    return _end(referral, S.UNREACHABLE, reason, detail, acting_user=acting_user, now=now)


@transaction.atomic
def cancel_referral(
    referral: Referral | int,
    *,
    acting_user: User,
    reason: str,
    reason_detail: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Withdrawn by the referrer or the patient, from any open state."""
    now = now or timezone.now()
    referral = _begin(
        referral, "cancel", acting_user=acting_user, expected_version=expected_version
    )
    reason, detail = _reason(reason, reason_detail, CancelReason, "cancel a referral")
    appointments.set_outcome(appointments.pending(referral), AppointmentOutcome.CANCELLED)
    return _end(referral, S.CANCELLED, reason, detail, acting_user=acting_user, now=now)


# ---- outbound ----------------------------------------------------------------


@transaction.atomic
def send_outbound(
    referral: Referral | int,
    *,
    acting_user: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Send a drafted outbound referral; the receiving practice's network status is kept as it is now."""
    now = now or timezone.now()
    referral = _begin(referral, "send", acting_user=acting_user, expected_version=expected_version)
    practice = referral.receiving_practice
    if practice is None:
        raise InvalidInput("receiving_practice_id is required.", field="receiving_practice_id")
    referral.sent_at = now
    referral.receiving_in_network = practice.in_network
    return _finish(
        referral,
        S.SENT,
        acting_user=acting_user,
        now=now,
        changed=["sent_at", "receiving_in_network"],
        data={"in_network": referral.receiving_in_network},
    )


@transaction.atomic
def complete_outbound(
    referral: Referral | int,
    *,
    acting_user: User,
    report_summary: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The outside practice's report came back."""
    now = now or timezone.now()
    referral = _begin(
        referral, "complete", acting_user=acting_user, expected_version=expected_version
    )
    report = required(report_summary, "report_summary", "summarize the report received.")
    appointments.set_outcome(appointments.pending(referral), AppointmentOutcome.ATTENDED)
    referral.report_summary = report
    return _finish(
        referral, S.COMPLETED, acting_user=acting_user, now=now, changed=["report_summary"]
    )


def _note(note: str) -> dict:
    return {"note": note.strip()} if note and note.strip() else {}


# ---- moves that follow from something else, or that the referrer makes -----------------


@transaction.atomic
def answer_info_request(
    referral: Referral | int,
    *,
    acting_user: User,
    attach: Callable[[Referral], list[Attachment]],
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """pending_info -> in_review: the referrer sent what the request asked for.

    `attach` stores the answer's documents on the locked referral, inside this transaction,
    and returns them.
    """
    now = now or timezone.now()
    referral = _begin(
        referral, "answer_info", acting_user=acting_user, expected_version=expected_version
    )
    stored = attach(referral)
    # Each attachment bumped the version on its own copy of the row.
    referral.refresh_from_db(fields=["version"])
    data: dict[str, Any] = {"documents": len(stored)}
    if note.strip():
        data["note"] = note.strip()
    return _finish(referral, S.IN_REVIEW, acting_user=acting_user, now=now, data=data)


def unreachable_after_attempts(
    referral: Referral, *, acting_user: User, attempts: int, now: datetime
) -> Referral:
    """contacting or no_show -> unreachable once the configured number of unsuccessful
    attempts is on record. Called by services.record_contact_attempt, inside its
    transaction, on the row it locked."""
    lifecycle.check(referral.direction, referral.state, S.UNREACHABLE)
    referral.end_reason = UnreachableReason.MAX_ATTEMPTS_REACHED
    return _finish(
        referral,
        S.UNREACHABLE,
        acting_user=acting_user,
        now=now,
        changed=["end_reason"],
        data={"reason": UnreachableReason.MAX_ATTEMPTS_REACHED, "attempts": attempts},
    )


@transaction.atomic
def close_loop_on_delivery(
    referral_id: int, *, report_summary: str | None, message_id: int, now: datetime
) -> bool:
    """seen -> loop_closed when the progress report reached the referrer (no user acts).
    False if the referral is no longer seen (already closed)."""
    locked = Referral.objects.select_for_update(of=("self",)).get(pk=referral_id)
    if locked.state != S.SEEN:
        return False
    lifecycle.check(locked.direction, locked.state, S.LOOP_CLOSED)
    if report_summary is not None:
        locked.report_summary = report_summary
    _finish(
        locked,
        S.LOOP_CLOSED,
        acting_user=None,
        now=now,
        changed=["report_summary"],
        data={"message_id": message_id, "note": "Progress report delivered to the referrer."},
    )
    return True


# ---- the table of moves --------------------------------------------------------------


def has_progress_report(referral: Referral) -> bool:
    return ProgressReport.objects.filter(referral_id=referral.pk).exists()


class Asked(StrEnum):
    """How a move is asked for."""

    # By its target state: the API's transitions endpoint and the detail page's buttons.
    BY_STATE = "by_state"
    # On the referring practice's portal (with the documents it sends).
    ON_PORTAL = "on_portal"
    # Never asked for: it follows from something else (a delivered report, the last
    # unsuccessful contact attempt).
    FOLLOWS = "follows"


@dataclass(frozen=True)
class Move:
    name: str  # unique within a direction; the same name means the same service
    to: str
    service: Callable[..., Any]
    capability: Capability | None  # None: made by refloop itself, never by a user
    label: str  # the button, and its dialog's name
    submit: str = ""  # the dialog's submit button
    done: str = ""  # the message once it worked
    intro: str = ""  # a line of explanation in the dialog
    fields: tuple[str, ...] = ()  # what it reads from the API's body or the page's form
    asked: Asked = Asked.BY_STATE
    # Narrower than the lifecycle: the states it may start from, and the refusal otherwise.
    only_from: tuple[str, ...] = ()
    refused_from: str = ""
    # What must exist before the move is offered or made, and the refusal (409) otherwise.
    needs: Callable[[Referral], bool] | None = None
    refused_without: str = ""


_CANCEL = Move(
    "cancel",
    S.CANCELLED,
    cancel_referral,
    WORK,
    label="Cancel referral",
    submit="Cancel the referral",
    done="The referral was cancelled.",
    intro="Withdrawn by the referrer or the patient. A booked appointment is cancelled too.",
    fields=("reason", "reason_detail"),
)
_DECLINE_FIELDS = ("reason", "reason_detail", "suggested_alternative")

INBOUND_MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move(
            "start_review",
            S.IN_REVIEW,
            start_review,
            DECIDE,
            label="Start review",
            submit="Start the review",
            done="The review has started.",
            intro="Check fit, insurance and completeness.",
            fields=("note",),
        ),
        Move(
            "request_info",
            S.PENDING_INFO,
            request_info,
            DECIDE,
            label="Request information",
            submit="Send the request",
            done="The referral is waiting for information from the referrer.",
            fields=("missing_info",),
        ),
        Move(
            "accept",
            S.ACCEPTED,
            accept_referral,
            DECIDE,
            label="Accept",
            submit="Accept the referral",
            done="Referral accepted.",
            fields=("department_id", "note"),
        ),
        Move(
            "decline",
            S.DECLINED,
            decline_referral,
            DECIDE,
            label="Decline",
            submit="Decline the referral",
            done="Referral declined; the reason goes back to the referrer.",
            fields=_DECLINE_FIELDS,
        ),
        Move(
            "start_contacting",
            S.CONTACTING,
            start_contacting,
            WORK,
            label="Start contacting",
            submit="Start contacting",
            done="Contacting the patient to book.",
            fields=("note",),
        ),
        Move(
            "schedule",
            S.SCHEDULED,
            schedule_referral,
            WORK,
            label="Schedule",
            submit="Book the appointment",
            done="Appointment booked.",
            fields=("appointment",),
        ),
        Move(
            "record_no_show",
            S.NO_SHOW,
            record_no_show,
            WORK,
            label="Record no-show",
            submit="Record the no-show",
            done="No-show recorded.",
            intro="The patient missed the appointment.",
            fields=("note",),
        ),
        Move(
            "mark_seen",
            S.SEEN,
            mark_seen,
            DECIDE,
            label="Mark seen",
            submit="Mark as seen",
            done="Marked as seen.",
            fields=("visit_value", "note"),
        ),
        Move(
            "close_loop",
            S.LOOP_CLOSED,
            close_loop,
            DECIDE,
            label="Close the loop",
            submit="Close the loop",
            done="Loop closed: the report went back to the referrer.",
            fields=("report_summary",),
            needs=has_progress_report,
            refused_without=(
                "Write the progress report first: the loop is closed with the report that "
                "goes back to the referrer."
            ),
        ),
        Move(
            "mark_unreachable",
            S.UNREACHABLE,
            mark_unreachable,
            WORK,
            label="Mark unreachable",
            submit="Mark as unreachable",
            done="Marked as unreachable.",
            fields=("reason", "reason_detail"),
        ),
        _CANCEL,
        Move(
            "answer_info",
            S.IN_REVIEW,
            answer_info_request,
            Capability.ANSWER_INFO_REQUESTS,
            label="Send the records",
            submit="Send the records",
            done="Thank you: the records were sent and the referral is back in review.",
            fields=("documents", "document_kind", "note"),
            asked=Asked.ON_PORTAL,
            only_from=(S.PENDING_INFO,),
            refused_from=(
                "This referral is not waiting for information any more; reload the page to "
                "see where it is."
            ),
        ),
        Move(
            "unreachable_after_attempts",
            S.UNREACHABLE,
            unreachable_after_attempts,
            WORK,
            label="Unreachable after the last attempt",
            asked=Asked.FOLLOWS,
            only_from=(S.CONTACTING, S.NO_SHOW),
        ),
        Move(
            "close_loop_on_delivery",
            S.LOOP_CLOSED,
            close_loop_on_delivery,
            None,
            label="Loop closed when the report was delivered",
            asked=Asked.FOLLOWS,
        ),
    )
}

# Recording what the outside practice did is a coordinator's work, whatever the move is called.
OUTBOUND_MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move(
            "send",
            S.SENT,
            send_outbound,
            WORK,
            label="Send",
            submit="Send the referral",
            done="Referral sent.",
            intro="The receiving practice's network status is recorded as it is now.",
        ),
        Move(
            "accept",
            S.ACCEPTED,
            accept_referral,
            WORK,
            label="Record acceptance",
            submit="Record the acceptance",
            done="Acceptance recorded.",
            intro="The receiving practice accepted the referral.",
            fields=("department_id", "note"),
        ),
        Move(
            "decline",
            S.DECLINED,
            decline_referral,
            WORK,
            label="Record decline",
            submit="Record the decline",
            done="Decline recorded.",
            intro="The receiving practice declined the referral.",
            fields=_DECLINE_FIELDS,
        ),
        Move(
            "schedule",
            S.SCHEDULED,
            schedule_referral,
            WORK,
            label="Record appointment",
            submit="Record the appointment",
            done="Appointment recorded.",
            fields=("appointment",),
        ),
        Move(
            "complete",
            S.COMPLETED,
            complete_outbound,
            WORK,
            label="Record the report",
            submit="Record the report",
            done="Report recorded: the referral is completed.",
            fields=("report_summary",),
        ),
        _CANCEL,
    )
}

MOVES: dict[str, dict[str, Move]] = {
    Direction.INBOUND: INBOUND_MOVES,
    Direction.OUTBOUND: OUTBOUND_MOVES,
}


def moves_for(direction: str) -> dict[str, Move]:
    return MOVES[direction]


def move_to(direction: str, to: str) -> Move | None:
    """The move the API and the detail page mean by "move this referral to `to`"."""
    return next(
        (m for m in MOVES[direction].values() if m.to == to and m.asked == Asked.BY_STATE), None
    )


def may_make(user: User | None, move: Move) -> bool:
    return move.capability is not None and can(user, move.capability)


def allowed_next(
    referral: Referral, user: User | None, *, asked: Asked | None = None
) -> list[Move]:
    """The moves `user` may make now on `referral`, in the lifecycle's order: exactly those
    the services accept from its state, given valid fields."""
    moves = [
        move
        for to in lifecycle.allowed_next(referral.direction, referral.state)
        for move in MOVES[referral.direction].values()
        if move.to == to
        and move.asked != Asked.FOLLOWS
        and (asked is None or move.asked == asked)
        and (not move.only_from or referral.state in move.only_from)
        and may_make(user, move)
        and (move.needs is None or move.needs(referral))
    ]
    if moves and not is_visible(user, referral):
        return []
    return moves


def allowed_states(referral: Referral, user: User | None) -> list[str]:
    """The states `user` may move `referral` to by name (the API's `allowed_next`)."""
    return [move.to for move in allowed_next(referral, user, asked=Asked.BY_STATE)]


def _arguments(move: Move, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The service's keyword arguments from the fields the move reads."""
    arguments: dict[str, Any] = {}
    for name in move.fields:
        value = fields.get(name)
        if name == "department_id":
            department = None
            if value is not None:
                department = Department.objects.filter(pk=value).first()
                if department is None:
                    raise InvalidInput("department_id names no department.", field="department_id")
            arguments["department"] = department
        elif name == "appointment":
            arguments[name] = AppointmentInput(**value) if isinstance(value, dict) else value
        elif name in ("note", "reason_detail", "suggested_alternative"):
            arguments[name] = value or ""
        else:
            arguments[name] = value
    return arguments


def transition(
    referral: Referral | int,
    *,
    to: str,
    acting_user: User,
    fields: Mapping[str, Any],
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Move `referral` to state `to` with the fields that move needs (the API's body)."""
    if to not in State.values:
        raise InvalidInput(f"to must be one of {', '.join(State.values)}.", field="to")
    pk = referral.pk if isinstance(referral, Referral) else referral
    # Outbound and inbound share state names; the stored direction decides which move it is.
    current = visible_referrals(acting_user).filter(pk=pk).only("direction", "state", "version")
    found = current.first()
    if found is None:
        raise NotFound("No referral with this id is visible to you.")
    direction = found.direction
    move = move_to(direction, to)
    if move is None:
        # received, draft, and the other direction's states: the lifecycle says why not.
        with transaction.atomic():
            locked = lock(pk, acting_user=acting_user, capability=WORK)
            check_version(locked, expected_version)
            lifecycle.check(locked.direction, locked.state, to)
        raise InvalidInput(f"A referral cannot be moved to {to} this way.", field="to")
    # Whether the move may be made at all comes before what it needs (403 and 409 before 422),
    # as the service will check again under its lock.
    if move.capability is not None:
        require(acting_user, move.capability)
    check_version(found, expected_version)
    lifecycle.check(direction, found.state, move.to)
    _check_needs(move, found)
    moved: Referral = move.service(
        pk,
        acting_user=acting_user,
        expected_version=expected_version,
        now=now,
        **_arguments(move, fields),
    )
    return moved
