"""What the practice that sent a referral may know of it, for the portal's pages and the API
alike: its status in plain words, the appointment, why it was declined or cancelled, the
consult report once the loop is closed, its documents and the steps so far. Never our
internal work on it (contact attempts, notes, who holds it, the outbox)."""

from collections.abc import Iterable

from django.db.models import prefetch_related_objects

from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    Attachment,
    Referral,
    State,
)

S = State

# What each state means to the practice that sent the referral.
STATUS_WORDS: dict[str, tuple[str, str]] = {
    S.RECEIVED: ("Received", "We have it and will review it shortly."),
    S.IN_REVIEW: ("In review", "A coordinator is checking it."),
    S.PENDING_INFO: ("Information needed", "We need more from you before we can decide."),
    S.ACCEPTED: ("Accepted", "We will see the patient and will contact them to book."),
    S.CONTACTING: ("Contacting the patient", "We are reaching the patient to book a visit."),
    S.SCHEDULED: ("Appointment booked", "The patient has an appointment with us."),
    S.NO_SHOW: ("Missed appointment", "The patient missed the visit; we are reaching out again."),
    S.SEEN: ("Seen", "The patient was seen; the consult report follows."),
    S.LOOP_CLOSED: ("Complete", "The consult report is below."),
    S.DECLINED: ("Declined", "We cannot see the patient for this referral; see why below."),
    S.UNREACHABLE: ("Patient not reached", "We could not reach the patient to book."),
    S.CANCELLED: ("Cancelled", "This referral was withdrawn."),
}
APPOINTMENT_STATES = {S.SCHEDULED, S.NO_SHOW, S.SEEN, S.LOOP_CLOSED}
# The end reason is the referrer's to know when we declined or it was cancelled; why we
# stopped trying to reach the patient is ours.
END_REASON_STATES = {S.DECLINED, S.CANCELLED}


def status_words(state: str) -> tuple[str, str]:
    """(label, meaning) of a state for the referring practice."""
    return STATUS_WORDS.get(state, (state.replace("_", " ").capitalize(), ""))


def appointment_shown(referral: Referral) -> Appointment | None:
    """The appointment the practice should know of: the latest one not cancelled, once the
    referral is booked (reads the referral's appointments, prefetched or not)."""
    if referral.state not in APPOINTMENT_STATES:
        return None
    booked = [
        a
        for a in sorted(referral.appointments.all(), key=lambda a: (a.starts_at, a.pk))
        if a.outcome != AppointmentOutcome.CANCELLED
    ]
    return booked[-1] if booked else None


def with_appointments(referrals: Iterable[Referral]) -> list[Referral]:
    """The referrals with their appointments (and those's places) read in one go."""
    referrals = list(referrals)
    prefetch_related_objects(referrals, "appointments__department", "appointments__location")
    return referrals


def missing_info(referral: Referral) -> str:
    return referral.missing_info if referral.state == S.PENDING_INFO else ""


def end_reason(referral: Referral) -> tuple[str, str]:
    """(reason, detail) when the referral was declined or cancelled."""
    if referral.state not in END_REASON_STATES:
        return "", ""
    return referral.end_reason, referral.end_reason_detail


def report_summary(referral: Referral) -> str:
    return referral.report_summary if referral.state == S.LOOP_CLOSED else ""


def documents(referral: Referral) -> list[Attachment]:
    return sorted(referral.attachments.all(), key=lambda a: (a.uploaded_at, a.pk))


def status_history(referral: Referral) -> list[dict]:
    """The state changes on the timeline, oldest first: when, and the state reached."""
    return [
        {"state": e.to_state, "label": status_words(e.to_state)[0], "at": e.at}
        for e in sorted(referral.events.all(), key=lambda e: (e.at, e.pk))
        if e.to_state
    ]
