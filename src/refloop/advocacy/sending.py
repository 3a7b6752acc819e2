"""Sending the post-visit patient survey (after a referral's visit, or by hand) and the review
invitation to a patient whose survey went unanswered, through the outbox.

The only referral event that records an attended appointment is `referral.seen`
(`transitions.mark_seen` sets the appointment's outcome); `on_seen` reacts to it, listed in
`refloop.referrals.reactions`. With "after the first visit" off, "after later visits in the
chosen departments" still surveys an attended visit in one of those departments.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse

from refloop.advocacy import reviews
from refloop.advocacy.models import (
    AdvocacySettings,
    Audience,
    ReviewInvitation,
    Survey,
    Trigger,
)
from refloop.advocacy.surveys import create_survey, recently_surveyed
from refloop.core import audit
from refloop.core.errors import Conflict
from refloop.core.links import absolute_url
from refloop.core.roles import Capability, require
from refloop.messaging import outbox
from refloop.messaging.automation import values_for
from refloop.messaging.recipients import patient_of, route
from refloop.messaging.rules import rule
from refloop.patients.models import Patient
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    Direction,
    Referral,
    ReferralEvent,
)


def _attended(referral: Referral) -> Appointment | None:
    return (
        referral.appointments.select_related("department", "location", "clinician")
        .filter(outcome=AppointmentOutcome.ATTENDED)
        .order_by("-starts_at", "-pk")
        .first()
    )


def why_not(referral: Referral, *, now: datetime) -> str:
    """Why this referral's patient may not get a survey now, or "" if they may."""
    if referral.direction != Direction.INBOUND:
        return "Only patients referred to us get our survey."
    if not referral.patient.contact_consent:
        return "The patient has not agreed to be contacted."
    if recently_surveyed(referral.patient_id, now=now):
        days = AdvocacySettings.current().survey_interval_days
        return f"The patient was already sent a survey in the last {days} days."
    path = route(patient_of(referral), clinical=False)
    if path.channel is None:
        return path.reason
    return ""


def dimensions(referral: Referral, appointment: Appointment | None) -> dict:
    """The links and dimensions a survey about `referral`'s visit at `appointment` keeps."""
    provider = referral.referring_provider
    return {
        "patient": referral.patient,
        "referral": referral,
        "appointment": appointment,
        "department": (appointment.department if appointment else None) or referral.department,
        "location": appointment.location if appointment else None,
        "clinician": appointment.clinician if appointment else None,
        "referring_practice": referral.referring_practice
        or (provider.practice if provider else None),
        "source_type": referral.source_type,
    }


def survey_about(referral: Referral) -> dict:
    """The links and dimensions a survey about `referral`'s visit keeps (`create_survey`'s
    `about`): the attended appointment's department, location and clinician."""
    return dimensions(referral, _attended(referral))


def _send(
    referral: Referral,
    *,
    trigger: str,
    dedupe_key: str,
    now: datetime,
    due_at: datetime,
    sent_by=None,
    event: ReferralEvent | None = None,
) -> Survey | None:
    """Make the survey (once per `dedupe_key`) and queue its message; None when the patient
    may not get one now. Run again, it queues nothing new."""
    with transaction.atomic():
        # One survey decision at a time per patient: two visits the same hour make one.
        Patient.objects.select_for_update().filter(pk=referral.patient_id).first()
        survey = Survey.objects.filter(dedupe_key=dedupe_key).first()
        if survey is None:
            if why_not(referral, now=now):
                return None
            survey, _ = create_survey(
                audience=Audience.PATIENT,
                trigger=trigger,
                recipient=f"patient:{referral.patient_id}",
                dedupe_key=dedupe_key,
                now=now,
                sent_by=sent_by,
                **survey_about(referral),
            )
        recipient = patient_of(referral)
        link = absolute_url(reverse("advocacy_survey_link", args=[survey.code]))
        message = outbox.queue(
            rule=rule("patient.survey"),
            recipient=recipient,
            cause=f"survey:{survey.pk}",
            values=values_for(referral, recipient, **{"link.survey": link}),
            due_at=due_at,
            now=now,
            referral=referral,
            event=event,
        )
        if message is not None and survey.message_id != message.pk:
            survey.message = message
            survey.save(update_fields=["message"])
    return survey


def on_seen(event: ReferralEvent) -> None:
    """After a referral's visit: the survey, if the settings ask for one (a reaction)."""
    referral = event.referral
    if referral.direction != Direction.INBOUND:
        return
    found = AdvocacySettings.current()
    due = event.at + rule("patient.survey").offset()
    if found.survey_after_seen:
        _send(
            referral,
            trigger=Trigger.SEEN,
            dedupe_key=f"seen:{referral.pk}",
            now=event.at,
            due_at=due,
            event=event,
        )
        return
    appointment = _attended(referral)
    if (
        found.survey_after_visits
        and appointment is not None
        and appointment.department_id is not None
        and found.survey_visit_departments.filter(pk=appointment.department_id).exists()
    ):
        _send(
            referral,
            trigger=Trigger.VISIT,
            dedupe_key=f"visit:{appointment.pk}",
            now=event.at,
            due_at=due,
            event=event,
        )


def send_survey_by_hand(*, referral: Referral, acting_user, now: datetime) -> Survey:
    """Staff send the survey now; refused, saying why, within the interval or without consent."""
    require(acting_user, Capability.HANDLE_FEEDBACK)
    if not rule("patient.survey").enabled():
        raise Conflict(
            "No survey sent: the survey message is switched off in the message settings."
        )
    reason = why_not(referral, now=now)
    if reason:
        raise Conflict(f"No survey sent: {reason[0].lower()}{reason[1:]}")
    survey = _send(
        referral,
        trigger=Trigger.BY_HAND,
        dedupe_key=f"by_hand:{referral.pk}:{now:%Y%m%d%H%M%S}",
        now=now,
        due_at=now,
        sent_by=acting_user,
    )
    if survey is None:  # changed in between: another survey just went out
        raise Conflict("No survey sent: the patient was just sent one.")
    return survey


def invite_to_review(*, survey: Survey, acting_user, now: datetime) -> ReviewInvitation:
    """Send the review invitation, with the same links the thank-you page offers, to the patient
    of an unanswered survey: once per patient in the survey interval."""
    require(acting_user, Capability.HANDLE_FEEDBACK)
    referral = survey.referral
    if survey.audience != Audience.PATIENT or referral is None or survey.patient_id is None:
        raise Conflict("Only a patient's survey can lead to a review invitation.")
    if survey.answered_at is not None:
        raise Conflict("This patient answered: their thank-you page already offered the reviews.")
    if not rule("patient.review_invitation").enabled():
        raise Conflict("The review invitation message is switched off in the message settings.")
    if not reviews.sites_for(survey.location_id):
        raise Conflict("No review site is set up yet: add one in the feedback settings.")
    days = AdvocacySettings.current().survey_interval_days
    earlier = ReviewInvitation.objects.filter(
        patient_id=survey.patient_id, created_at__gt=now - timedelta(days=days)
    ).exclude(survey=survey, via=ReviewInvitation.Via.MESSAGE)
    if earlier.exists():
        raise Conflict(f"This patient was already invited to review us in the last {days} days.")
    recipient = patient_of(referral)
    path = route(recipient, clinical=False)
    if path.channel is None:
        raise Conflict(f"No invitation sent: {path.reason[0].lower()}{path.reason[1:]}")
    with transaction.atomic():
        invitation = reviews.message_invitation(survey, now=now)
        message = outbox.queue(
            rule=rule("patient.review_invitation"),
            recipient=recipient,
            cause=f"review_invitation:{invitation.pk}",
            values=values_for(
                referral, recipient, **{"review.links": reviews.links_text(invitation)}
            ),
            due_at=now,
            now=now,
            referral=referral,
        )
        if message is not None and invitation.message_id != message.pk:
            invitation.message = message
            invitation.save(update_fields=["message"])
        audit.record(
            "review.invited",
            audit.Touch("reviewinvitation", invitation.pk, patient_id=invitation.patient_id),
            actor=acting_user,
            now=now,
        )
    return invitation
