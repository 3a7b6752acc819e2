"""Refer a friend: a patient opts in as an advocate (their personal link and printable card),
a friend's referral through that link is recorded with the friend's answer to "may we thank
the person who referred you?", and the advocate is thanked, naming the friend only with that yes.
"""

from datetime import datetime

import segno
from django.db import transaction
from django.urls import reverse

from refloop.advocacy.events import record_event
from refloop.advocacy.models import AdvocacyEvent, Advocate, FriendReferral, new_code
from refloop.core import audit
from refloop.core.audit import Touch
from refloop.core.errors import Conflict
from refloop.core.links import absolute_url
from refloop.messaging import outbox
from refloop.messaging.recipients import patient_recipient
from refloop.messaging.rules import rule
from refloop.practice.models import Organization

# Ways a patient becomes an advocate, as the event and the audit log say it.
BY_STAFF = "staff"
BY_PATIENT = "survey_page"


def advocate_touch(advocate: Advocate) -> Touch:
    return Touch("advocate", advocate.pk, patient_id=advocate.patient_id)


def personal_link(advocate: Advocate) -> str:
    """The practice's public referral form carrying the advocate's code (which names no one)."""
    return absolute_url(reverse("public_friend_form", args=[advocate.code]))


def card_svg(link: str) -> str:
    """The QR code for `link`, as inline SVG (no patient data: the link names no one)."""
    return segno.make(link, error="m").svg_inline(scale=4, border=2, title="QR code of the link")


def _practice_values() -> dict[str, str]:
    org = Organization.current()
    return {"practice.name": org.name, "practice.phone": org.phone or "our office"}


def enrol(*, patient, acting_user, via: str, now: datetime) -> Advocate:
    """Make `patient` an advocate (again, after an opt-out, with a new code: old cards stay
    dead); send them their personal link. Enrolling an active advocate changes nothing."""
    with transaction.atomic():
        advocate = Advocate.objects.select_for_update().filter(patient=patient).first()
        if advocate is not None and advocate.active:
            return advocate
        if advocate is None:
            advocate = Advocate(patient=patient)
        advocate.code = new_code("a")
        advocate.opted_in_at = now
        advocate.opted_out_at = None
        advocate.recorded_by = acting_user
        advocate.save()
        record_event(
            "advocate.enrolled", actor=acting_user, at=now, data={"via": via}, advocate=advocate
        )
        audit.record(
            "advocate.enrolled",
            advocate_touch(advocate),
            actor=acting_user,
            detail={"via": via},
            now=now,
        )
    return advocate


def opt_out(*, advocate: Advocate, acting_user, now: datetime) -> Advocate:
    """Stop `advocate` being one: their link and card lead to the ordinary form from now on."""
    with transaction.atomic():
        advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
        if not advocate.active:
            raise Conflict("This patient has already opted out of referring friends.")
        advocate.opted_out_at = now
        advocate.save(update_fields=["opted_out_at"])
        record_event("advocate.opted_out", actor=acting_user, at=now, advocate=advocate)
        audit.record("advocate.opted_out", advocate_touch(advocate), actor=acting_user, now=now)
    return advocate


def active_by_code(code: str) -> Advocate | None:
    """The active advocate whose link carries `code`; None for an unknown or opted-out code."""
    if not code or len(code) > 40:
        return None
    return (
        Advocate.objects.select_related("patient")
        .filter(code=code, opted_out_at__isnull=True)
        .first()
    )


def record_friend_referral(*, referral, advocate: Advocate, may_name_friend: bool, now: datetime):
    """Inside the transaction that made `referral` from `advocate`'s link: link the two, keep
    the friend's answer, and record the event the thank-you follows."""
    friend = FriendReferral.objects.create(
        referral=referral, advocate=advocate, may_name_friend=may_name_friend
    )
    record_event(
        "advocate.friend_referred",
        actor=None,
        at=now,
        data={"friend_referral": friend.pk},
        advocate=advocate,
    )
    audit.record(
        "friend_referral.created",
        Touch(
            "friend_referral", friend.pk, patient_id=referral.patient_id, referral_id=referral.pk
        ),
        actor=None,
        detail={"advocate": advocate.pk, "may_name_friend": may_name_friend},
        now=now,
    )
    return friend


# ---------------------------------------------------------------- reactions


def send_welcome(event: AdvocacyEvent) -> None:
    """The new advocate's message with their personal link (once per enrolment)."""
    advocate = event.advocate
    if advocate is None or not advocate.active:
        return
    recipient = patient_recipient(advocate.patient)
    outbox.queue(
        rule=rule("patient.advocate_welcome"),
        recipient=recipient,
        cause=f"advocacy_event:{event.pk}",
        values={
            **_practice_values(),
            "patient.first_name": advocate.patient.first_name,
            "link.advocate": personal_link(advocate),
        },
        due_at=event.at,
        now=event.at,
    )


def thank_advocate(event: AdvocacyEvent) -> None:
    """Thank the advocate for a friend's referral, once per friend referral. Only with the
    friend's yes may it say the friend's first name; otherwise the rule used has no placeholder
    that could name or point at the friend (no referral number, no department)."""
    friend = (
        FriendReferral.objects.select_related("advocate__patient", "referral__patient")
        .filter(pk=event.data.get("friend_referral"))
        .first()
    )
    if friend is None or friend.thanked_at is not None or not friend.advocate.active:
        return
    advocate_patient = friend.advocate.patient
    values = {**_practice_values(), "patient.first_name": advocate_patient.first_name}
    if friend.may_name_friend:
        key = "patient.advocate_thanks_named"
        values["friend.first_name"] = friend.referral.patient.first_name
    else:
        key = "patient.advocate_thanks"
    message = outbox.queue(
        rule=rule(key),
        recipient=patient_recipient(advocate_patient),
        cause=f"friend_referral:{friend.pk}",
        values=values,
        due_at=event.at,
        now=event.at,
    )
    FriendReferral.objects.filter(pk=friend.pk, thanked_at__isnull=True).update(
        thanked_at=event.at, thank_message=message
    )
