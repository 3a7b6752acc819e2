"""One service function per referral state transition (inbound and outbound).

Each one locks the row, checks the move against lifecycle.py, requires the data
the move needs, saves, and appends the timeline event and the audit record in
the same transaction; side effects run after commit (timeline.record_event).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from refloop.core.errors import Conflict, InvalidInput, NotFound
from refloop.core.models import User
from refloop.core.roles import Capability, Role, require
from refloop.practice.models import Department, Location, Organization
from refloop.referrals import lifecycle
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    CancelReason,
    DeclineReason,
    Direction,
    Referral,
    State,
    UnreachableReason,
)
from refloop.referrals.selectors import visible_referrals
from refloop.referrals.services import (
    _aware,
    _choice,
    _lock,
    check_version,
    save_changes,
    unsuccessful_attempts,
)
from refloop.referrals.timeline import record_event

S = State


@dataclass(frozen=True)
class AppointmentInput:
    starts_at: datetime
    department_id: int | None = None
    location_id: int | None = None
    clinician_id: int | None = None


def begin_transition(
    referral: Referral | int,
    to: str,
    *,
    acting_user: User,
    capability: Capability,
    expected_version: int | None = None,
) -> Referral:
    # Work on outbound referrals is a coordinator's, whatever the move is called.
    locked = _lock(referral, acting_user=acting_user, capability=capability)
    if locked.direction == Direction.OUTBOUND:
        require(acting_user, Capability.WORK_REFERRALS)
    check_version(locked, expected_version)
    lifecycle.check(locked.direction, locked.state, to)
    return locked


def finish_transition(
    referral: Referral,
    to: str,
    *,
    acting_user: User,
    now: datetime,
    changed: list[str] = (),
    data: dict | None = None,
) -> Referral:
    from_state = referral.state
    referral.state = to
    referral.state_changed_at = now
    fields = [*changed, "state", "state_changed_at"]
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


def _required_text(value: str | None, field: str, why: str) -> str:
    if not value or not value.strip():
        raise InvalidInput(f"{field} is required: {why}", field=field)
    return value.strip()


def _reason(value: str | None, detail: str, choices, what: str) -> tuple[str, str]:
    if not value:
        raise InvalidInput(
            f"reason is required to {what}; one of {', '.join(choices.values)}.", field="reason"
        )
    _choice(value, choices, "reason")
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
    referral = begin_transition(
        referral,
        S.IN_REVIEW,
        acting_user=acting_user,
        capability=Capability.CLINICAL_DECISIONS,
        expected_version=expected_version,
    )
    return finish_transition(
        referral, S.IN_REVIEW, acting_user=acting_user, now=now, data=_note(note)
    )


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
    missing = _required_text(missing_info, "missing_info", "say what the referrer must send.")
    referral = begin_transition(
        referral,
        S.PENDING_INFO,
        acting_user=acting_user,
        capability=Capability.CLINICAL_DECISIONS,
        expected_version=expected_version,
    )
    referral.missing_info = missing
    return finish_transition(
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
    referral = begin_transition(
        referral,
        S.ACCEPTED,
        acting_user=acting_user,
        capability=Capability.CLINICAL_DECISIONS,
        expected_version=expected_version,
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
    return finish_transition(
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
    reason, detail = _reason(reason, reason_detail, DeclineReason, "decline a referral")
    referral = begin_transition(
        referral,
        S.DECLINED,
        acting_user=acting_user,
        capability=Capability.CLINICAL_DECISIONS,
        expected_version=expected_version,
    )
    referral.end_reason = reason
    referral.end_reason_detail = detail
    referral.suggested_alternative = (suggested_alternative or "").strip()
    return finish_transition(
        referral,
        S.DECLINED,
        acting_user=acting_user,
        now=now,
        changed=["end_reason", "end_reason_detail", "suggested_alternative"],
        data={
            "reason": reason,
            "reason_detail": detail,
            "suggested_alternative": referral.suggested_alternative,
        },
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
    referral = begin_transition(
        referral,
        S.CONTACTING,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
    )
    referral.outreach_started_at = now
    return finish_transition(
        referral,
        S.CONTACTING,
        acting_user=acting_user,
        now=now,
        changed=["outreach_started_at"],
        data=_note(note),
    )


def _appointment(
    referral: Referral, booking: AppointmentInput | None, *, now: datetime
) -> Appointment:
    if booking is None:
        raise InvalidInput(
            "appointment is required: give at least its starts_at.", field="appointment"
        )
    starts_at = _aware(booking.starts_at, "appointment.starts_at")
    department = referral.department
    if booking.department_id is not None:
        department = Department.objects.filter(pk=booking.department_id).first()
        if department is None:
            raise InvalidInput(
                "appointment.department_id names no department.", field="appointment.department_id"
            )
    location = None
    if booking.location_id is not None:
        location = Location.objects.filter(pk=booking.location_id).first()
        if location is None:
            raise InvalidInput(
                "appointment.location_id names no location.", field="appointment.location_id"
            )
    clinician = None
    if booking.clinician_id is not None:
        clinician = User.objects.filter(
            pk=booking.clinician_id, role=Role.CLINICIAN, is_active=True
        ).first()
        if clinician is None:
            raise InvalidInput(
                "appointment.clinician_id names no active clinician.",
                field="appointment.clinician_id",
            )
    if referral.direction == Direction.OUTBOUND:
        department = location = clinician = None  # the visit is at the outside practice
    return Appointment.objects.create(
        referral=referral,
        starts_at=starts_at,
        department=department,
        location=location,
        clinician=clinician,
        created_at=now,
    )


def _pending_appointment(referral: Referral) -> Appointment | None:
    return referral.appointments.filter(outcome="").order_by("-starts_at", "-pk").first()


def _set_outcome(appointment: Appointment | None, outcome: str, **extra) -> None:
    if appointment is None:
        return
    appointment.outcome = outcome
    for name, value in extra.items():
        setattr(appointment, name, value)
    appointment.save(update_fields=["outcome", *extra])


def _appointment_data(appointment: Appointment) -> dict:
    return {"appointment_id": appointment.pk, "starts_at": appointment.starts_at.isoformat()}


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
    referral = begin_transition(
        referral,
        S.SCHEDULED,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
    )
    booked = _appointment(referral, appointment, now=now)
    changed = []
    if referral.first_scheduled_at is None:
        referral.first_scheduled_at = now
        changed.append("first_scheduled_at")
    return finish_transition(
        referral,
        S.SCHEDULED,
        acting_user=acting_user,
        now=now,
        changed=changed,
        data=_appointment_data(booked),
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
    locked = _lock(referral, acting_user=acting_user, capability=Capability.WORK_REFERRALS)
    check_version(locked, expected_version)
    if locked.state != S.SCHEDULED:
        raise Conflict(
            f"This referral is {locked.state}; only a scheduled referral can be rescheduled."
        )
    previous = _pending_appointment(locked)
    _set_outcome(previous, AppointmentOutcome.RESCHEDULED)
    booked = _appointment(locked, appointment, now=now)
    save_changes(locked, [])
    record_event(
        locked,
        "referral.rescheduled",
        actor=acting_user,
        at=now,
        data={
            **_appointment_data(booked),
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
    referral = begin_transition(
        referral,
        S.NO_SHOW,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
    )
    _set_outcome(_pending_appointment(referral), AppointmentOutcome.NO_SHOW)
    referral.outreach_started_at = now
    no_shows = referral.appointments.filter(outcome=AppointmentOutcome.NO_SHOW).count()
    return finish_transition(
        referral,
        S.NO_SHOW,
        acting_user=acting_user,
        now=now,
        changed=["outreach_started_at"],
        data={**_note(note), "no_shows": no_shows},
    )


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(
            "visit_value must be an amount such as 180.00.", field="visit_value"
        ) from None
    if amount < 0 or amount >= Decimal("100000000"):
        raise InvalidInput("visit_value must be between 0 and 99,999,999.99.", field="visit_value")
    return amount.quantize(Decimal("0.01"))


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
    value = _money(visit_value)
    referral = begin_transition(
        referral,
        S.SEEN,
        acting_user=acting_user,
        capability=Capability.CLINICAL_DECISIONS,
        expected_version=expected_version,
    )
    _set_outcome(_pending_appointment(referral), AppointmentOutcome.ATTENDED, visit_value=value)
    referral.seen_at = now
    return finish_transition(
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
    """The consult report went back to the referrer: the loop is closed."""
    now = now or timezone.now()
    report = _required_text(
        report_summary, "report_summary", "summarize the findings and plan sent to the referrer."
    )
    referral = begin_transition(
        referral,
        S.LOOP_CLOSED,
        acting_user=acting_user,
        capability=Capability.CLINICAL_DECISIONS,
        expected_version=expected_version,
    )
    referral.report_summary = report
    return finish_transition(
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
    reason, detail = _reason(
        reason, reason_detail, UnreachableReason, "mark a referral unreachable"
    )
    referral = begin_transition(
        referral,
        S.UNREACHABLE,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
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
    referral.end_reason = reason
    referral.end_reason_detail = detail
    return finish_transition(
        referral,
        S.UNREACHABLE,
        acting_user=acting_user,
        now=now,
        changed=["end_reason", "end_reason_detail"],
        data={"reason": reason, "reason_detail": detail},
    )


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
    reason, detail = _reason(reason, reason_detail, CancelReason, "cancel a referral")
    referral = begin_transition(
        referral,
        S.CANCELLED,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
    )
    _set_outcome(_pending_appointment(referral), AppointmentOutcome.CANCELLED)
    referral.end_reason = reason
    referral.end_reason_detail = detail
    return finish_transition(
        referral,
        S.CANCELLED,
        acting_user=acting_user,
        now=now,
        changed=["end_reason", "end_reason_detail"],
        data={"reason": reason, "reason_detail": detail},
    )


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
    referral = begin_transition(
        referral,
        S.SENT,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
    )
    referral.sent_at = now
    referral.receiving_in_network = referral.receiving_practice.in_network
    return finish_transition(
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
    report = _required_text(report_summary, "report_summary", "summarize the report received.")
    referral = begin_transition(
        referral,
        S.COMPLETED,
        acting_user=acting_user,
        capability=Capability.WORK_REFERRALS,
        expected_version=expected_version,
    )
    _set_outcome(_pending_appointment(referral), AppointmentOutcome.ATTENDED)
    referral.report_summary = report
    return finish_transition(
        referral, S.COMPLETED, acting_user=acting_user, now=now, changed=["report_summary"]
    )


def _note(note: str) -> dict:
    return {"note": note.strip()} if note and note.strip() else {}


# ---- one entry point for edges that name the target state ---------------------


def transition(
    referral: Referral | int,
    *,
    to: str,
    acting_user: User,
    fields: dict,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Move `referral` to state `to` with the fields that move needs (the API's body)."""
    if to not in State.values:
        raise InvalidInput(f"to must be one of {', '.join(State.values)}.", field="to")
    common = {"acting_user": acting_user, "expected_version": expected_version, "now": now}
    note = fields.get("note") or ""
    pk = referral.pk if isinstance(referral, Referral) else referral
    # Outbound and inbound share state names; the stored direction decides which move it is.
    direction = (
        visible_referrals(acting_user).filter(pk=pk).values_list("direction", flat=True).first()
    )
    if direction is None:
        raise NotFound("No referral with this id is visible to you.")
    booking = fields.get("appointment")
    if isinstance(booking, dict):
        booking = AppointmentInput(**booking)
    if direction == Direction.OUTBOUND:
        if to == S.SENT:
            return send_outbound(pk, **common)
        if to == S.COMPLETED:
            return complete_outbound(pk, report_summary=fields.get("report_summary"), **common)
    if to == S.IN_REVIEW:
        return start_review(pk, note=note, **common)
    if to == S.PENDING_INFO:
        return request_info(pk, missing_info=fields.get("missing_info"), **common)
    if to == S.ACCEPTED:
        department = None
        if fields.get("department_id") is not None:
            department = Department.objects.filter(pk=fields["department_id"]).first()
            if department is None:
                raise InvalidInput("department_id names no department.", field="department_id")
        return accept_referral(pk, department=department, note=note, **common)
    if to == S.DECLINED:
        return decline_referral(
            pk,
            reason=fields.get("reason"),
            reason_detail=fields.get("reason_detail") or "",
            suggested_alternative=fields.get("suggested_alternative") or "",
            **common,
        )
    if to == S.CONTACTING:
        return start_contacting(pk, note=note, **common)
    if to == S.SCHEDULED:
        return schedule_referral(pk, appointment=booking, **common)
    if to == S.NO_SHOW:
        return record_no_show(pk, note=note, **common)
    if to == S.SEEN:
        return mark_seen(pk, visit_value=fields.get("visit_value"), note=note, **common)
    if to == S.LOOP_CLOSED:
        return close_loop(pk, report_summary=fields.get("report_summary"), **common)
    if to == S.UNREACHABLE:
        return mark_unreachable(
            pk,
            reason=fields.get("reason"),
            reason_detail=fields.get("reason_detail") or "",
            **common,
        )
    if to == S.CANCELLED:
        return cancel_referral(
            pk,
            reason=fields.get("reason"),
            reason_detail=fields.get("reason_detail") or "",
            **common,
        )
    # received, draft, and outbound-only states asked of an inbound referral (or the reverse):
    # let the lifecycle say why this move is not possible.
    with transaction.atomic():
        begin_transition(
            pk,
            to,
            acting_user=acting_user,
            capability=Capability.WORK_REFERRALS,
            expected_version=expected_version,
        )
    raise InvalidInput(f"A referral cannot be moved to {to} this way.", field="to")
