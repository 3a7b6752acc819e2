"""Testimonials under a HIPAA authorization (45 CFR 164.508): a patient offers their words
(and perhaps a photo) from their survey link and signs an authorization carrying every
element the rule requires; staff approve or decline; revoking takes it down at once.

`publishable(now)` is the ONE answer to "may this testimonial be shown or exported?": the
widget, the export and the photo route ask it and nothing else.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.core.files.base import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from refloop.advocacy.events import record_event
from refloop.advocacy.models import (
    Audience,
    Authorization,
    Survey,
    Testimonial,
    TestimonialState,
    new_code,
)
from refloop.core import audit, uploads
from refloop.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, PayloadTooLarge
from refloop.core.links import absolute_url
from refloop.core.roles import Capability, can
from refloop.practice.models import Location, Organization

PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
PHOTO_MAX_BYTES = 5 * 1024 * 1024
TEXT_MAX_CHARS = 2000
ATTRIBUTION_MAX_CHARS = 80
DEFAULT_TERM_YEARS = 2
REVOKED_BY_LINK = "By the patient, through the link in their copy"


def today(now: datetime) -> date:
    """The practice's calendar day at `now`: an authorization's last valid day is a local day."""
    return timezone.localdate(now, Organization.current().zone)


def default_attribution(patient) -> str:
    """First name and last initial ("Maria G."): how a testimonial is signed unless the
    patient chooses otherwise."""
    initial = f" {patient.last_name[:1]}." if patient.last_name else ""
    return f"{patient.first_name}{initial}"


def default_expiry(on: date) -> date:
    """DEFAULT_TERM_YEARS after `on` (28 February for a 29 February)."""
    try:
        return on.replace(year=on.year + DEFAULT_TERM_YEARS)
    except ValueError:
        return on.replace(year=on.year + DEFAULT_TERM_YEARS, day=28)


# ---------------------------------------------------------------- the one selector


def publishable(now: datetime) -> QuerySet[Testimonial]:
    """Approved testimonials under an authorization that is signed, not revoked and not
    expired at `now`: its expiry date is today or later in the practice's zone, and any expiry
    event has not been recorded as having happened. Newest approval first."""
    return (
        Testimonial.objects.filter(
            state=TestimonialState.APPROVED,
            authorization__isnull=False,
            authorization__signed_at__lte=now,
            authorization__revoked_at__isnull=True,
            authorization__expiry_event_occurred_at__isnull=True,
        )
        .filter(
            Q(authorization__expires_on__gte=today(now)) | Q(authorization__expires_on__isnull=True)
        )
        .exclude(Q(authorization__expires_on__isnull=True) & Q(authorization__expiry_event=""))
        .order_by("-reviewed_at", "-pk")
    )


def is_publishable(testimonial: Testimonial, now: datetime) -> bool:
    return publishable(now).filter(pk=testimonial.pk).exists()


def authorization_valid(authorization: Authorization | None, now: datetime) -> bool:
    """The same test as `publishable`, for one authorization (pages say it in words)."""
    if authorization is None or authorization.revoked_at is not None:
        return False
    if authorization.expiry_event_occurred_at is not None:
        return False
    if authorization.expires_on is not None:
        return authorization.expires_on >= today(now)
    return bool(authorization.expiry_event)


# ---------------------------------------------------------------- offering one


def check_photo(upload: File) -> uploads.CheckedFile:
    """The house upload check, narrowed to JPEG and PNG within PHOTO_MAX_BYTES."""
    if upload.size is not None and upload.size > PHOTO_MAX_BYTES:
        raise PayloadTooLarge(
            f"The photo is larger than {PHOTO_MAX_BYTES // (1024 * 1024)} MB; "
            "choose a smaller one.",
            field="photo",
        )
    try:
        return uploads.check(upload, accepted=PHOTO_TYPES)
    except DomainError as refusal:
        refusal.field = "photo"
        raise


def offer_testimonial(
    *,
    survey: Survey,
    text: str,
    attribution: str,
    photo: uploads.CheckedFile | None,
    now: datetime,
) -> Testimonial:
    """Step 1: keep the words (and photo) offered from `survey`'s link. One testimonial per
    survey; until it is signed for, offering again replaces the words and photo."""
    if survey.audience != Audience.PATIENT or survey.patient_id is None:
        raise NotAllowed("Only a patient's survey link can offer a testimonial.")
    text = text.strip()
    attribution = attribution.strip() or default_attribution(survey.patient)
    if not text:
        raise InvalidInput("Write a few words about your experience.", field="text")
    if len(text) > TEXT_MAX_CHARS:
        raise InvalidInput(f"Keep it within {TEXT_MAX_CHARS} characters.", field="text")
    if len(attribution) > ATTRIBUTION_MAX_CHARS:
        raise InvalidInput(
            f"Keep the signature within {ATTRIBUTION_MAX_CHARS} characters.", field="attribution"
        )
    with transaction.atomic():
        Survey.objects.select_for_update().get(pk=survey.pk)
        testimonial = Testimonial.objects.filter(survey=survey).first()
        if testimonial is not None and testimonial.authorization_id is not None:
            raise Conflict("We already have your testimonial and your signed authorization.")
        if testimonial is None:
            testimonial = Testimonial(survey=survey, patient_id=survey.patient_id, created_at=now)
        testimonial.text = text
        testimonial.attribution = attribution
        if photo is not None:
            if testimonial.photo:
                testimonial.photo.delete(save=False)
            testimonial.photo.save("photo", photo, save=False)
            testimonial.photo_type = photo.content_type
        testimonial.save()
        record_event(
            "testimonial.offered",
            actor=None,
            at=now,
            testimonial=testimonial,
            data={"photo": bool(testimonial.photo)},
        )
        audit.record("testimonial.offered", testimonial.audit_touch(), actor=None, now=now)
    return testimonial


# ---------------------------------------------------------------- the authorization


@dataclass(frozen=True)
class Terms:
    """The elements of 45 CFR 164.508(c), in plain words, as the patient reads and signs them."""

    information: str  # (c)(1)(i)
    disclosed_by: str  # (c)(1)(ii)
    disclosed_to: str  # (c)(1)(iii)
    purpose: str  # (c)(1)(iv)
    expiry: str  # (c)(1)(v)
    revocation: str  # (c)(2)(i)
    no_conditioning: str  # (c)(2)(ii)
    redisclosure: str  # (c)(2)(iii)

    @property
    def statements(self) -> str:
        return "\n\n".join([self.revocation, self.no_conditioning, self.redisclosure])


def practice_contact() -> str:
    """How to reach the practice in writing and by phone: the first location's address."""
    org = Organization.current()
    location = Location.objects.exclude(address="").order_by("pk").first()
    parts = [org.name]
    if location is not None:
        parts.append(
            ", ".join(
                p
                for p in (
                    location.address,
                    location.city,
                    f"{location.state} {location.postal_code}",
                )
                if p.strip()
            )
        )
    phone = org.phone or (location.phone if location is not None else "")
    if phone:
        parts.append(f"phone {phone}")
    return ", ".join(parts)


def terms_for(testimonial: Testimonial, *, expires_on: date | None, expiry_event: str) -> Terms:
    org = Organization.current()
    photo = " and the photo you gave us" if testimonial.photo else ""
    if expires_on is not None:
        expiry = f"This authorization ends on {expires_on:%B} {expires_on.day}, {expires_on.year}."
    else:
        expiry = f"This authorization ends when this happens: {expiry_event}."
    contact = practice_contact()
    return Terms(
        information=(
            f"What will be used and shared: the testimonial you wrote (shown in full below), the "
            f'name you chose to sign it with ("{testimonial.attribution}"){photo}, and the fact '
            f"that you were a patient of {org.name}. Nothing else from your records."
        ),
        disclosed_by=org.name,
        disclosed_to=(
            "Who will receive it: the public. It may appear on our website (including where "
            "our website shows it inside other pages), in printed materials, and on our "
            "social media pages."
        ),
        purpose=(
            f"Why: marketing. {org.name} will use it to tell others about its care. We do not "
            "pay you for it and no one pays us for it."
        ),
        expiry=expiry,
        revocation=(
            "You may take back (revoke) this authorization at any time, in writing. The "
            "easiest way is the link in the copy we send you; or write to "
            f"{contact}. Revoking stops any further use from that moment; it cannot undo a "
            "use made before we received it."
        ),
        no_conditioning=(
            f"Your treatment, payment, enrolment in a health plan and eligibility for benefits "
            f"do not depend on whether you sign. Saying no changes nothing about your care at "
            f"{org.name}."
        ),
        redisclosure=(
            "Once it is public, anyone may copy or share it further, and the federal privacy "
            "rule (HIPAA) no longer protects the information shared."
        ),
    )


def authorization_text(
    testimonial: Testimonial,
    terms: Terms,
    *,
    signature: str,
    signed_on: date,
    signer_is_patient: bool,
    representative_authority: str,
) -> str:
    """The whole authorization exactly as signed: what is kept (Authorization.text) and hashed."""
    org = Organization.current()
    signer = (
        "Signed by the patient."
        if signer_is_patient
        else f"Signed by the patient's personal representative. Authority to act for the "
        f"patient: {representative_authority}."
    )
    return "\n\n".join(
        [
            "Authorization to use and share my testimonial (45 CFR 164.508)",
            terms.information,
            f"Who will share it: {terms.disclosed_by}.",
            terms.disclosed_to,
            terms.purpose,
            terms.expiry,
            terms.revocation,
            terms.no_conditioning,
            terms.redisclosure,
            "My testimonial:",
            testimonial.text,
            f'Signed as: "{testimonial.attribution}"'
            + (" (with a photo)" if testimonial.photo else ""),
            f"I have read this authorization and I agree to {org.name} using and sharing my "
            "testimonial as described above.",
            f"Signature: {signature}",
            f"Date: {signed_on.isoformat()}",
            signer,
        ]
    )


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sign_authorization(
    *,
    testimonial: Testimonial,
    signature: str,
    agreed: bool,
    expires_on: date | None,
    expiry_event: str,
    signer_is_patient: bool,
    representative_authority: str,
    now: datetime,
) -> Authorization:
    """Step 2: the patient (or their representative) signs. Refused without the agreement
    box, a typed full name, one expiry (a date after today, or an event) and, for a
    representative, their authority. Signed once."""
    signature = " ".join(signature.split())
    expiry_event = expiry_event.strip()
    representative_authority = representative_authority.strip()
    if not agreed:
        raise InvalidInput("Tick the box to say you agree and are signing.", field="agreed")
    if len(signature) < 3 or " " not in signature:
        raise InvalidInput("Type your full name (first and last) to sign.", field="signature")
    if len(signature) > 200:
        raise InvalidInput("Keep the signature within 200 characters.", field="signature")
    if expires_on is None and not expiry_event:
        raise InvalidInput(
            "Choose when this authorization ends: a date, or an event.", field="expires_on"
        )
    if expires_on is not None and expiry_event:
        raise InvalidInput("Choose a date or an event for the end, not both.", field="expires_on")
    if expires_on is not None and expires_on <= today(now):
        raise InvalidInput("Choose an end date after today.", field="expires_on")
    if len(expiry_event) > 200:
        raise InvalidInput("Describe the event within 200 characters.", field="expiry_event")
    if not signer_is_patient and not representative_authority:
        raise InvalidInput(
            "Say what gives you authority to sign for the patient (for example: parent of a "
            "minor, health care power of attorney).",
            field="representative_authority",
        )
    with transaction.atomic():
        testimonial = Testimonial.objects.select_for_update().get(pk=testimonial.pk)
        if testimonial.authorization_id is not None:
            raise Conflict("This testimonial's authorization is already signed.")
        terms = terms_for(testimonial, expires_on=expires_on, expiry_event=expiry_event)
        text = authorization_text(
            testimonial,
            terms,
            signature=signature,
            signed_on=today(now),
            signer_is_patient=signer_is_patient,
            representative_authority=representative_authority if not signer_is_patient else "",
        )
        authorization = Authorization.objects.create(
            patient_id=testimonial.patient_id,
            information=terms.information,
            disclosed_by=terms.disclosed_by,
            disclosed_to=terms.disclosed_to,
            purpose=terms.purpose,
            expires_on=expires_on,
            expiry_event=expiry_event if expires_on is None else "",
            statements=terms.statements,
            signature=signature,
            signer_is_patient=signer_is_patient,
            representative_authority=representative_authority if not signer_is_patient else "",
            signed_at=now,
            text=text,
            text_sha256=digest(text),
            revocation_code=new_code("r"),
        )
        testimonial.authorization = authorization
        testimonial.save(update_fields=["authorization"])
        record_event(
            "testimonial.authorized",
            actor=None,
            at=now,
            testimonial=testimonial,
            data={"authorization": authorization.pk},
        )
        audit.record("authorization.signed", authorization.audit_touch(), actor=None, now=now)
    return authorization


def revoke_link(authorization: Authorization) -> str:
    return absolute_url(
        reverse("advocacy_authorization_link", args=[authorization.revocation_code])
    )


def send_authorization_copy(event) -> None:
    """Reaction to testimonial.authorized: the patient's copy (164.508(c)(4)). The message
    names no one but the patient's first name; its link opens the signed text, with the way
    to revoke it."""
    from refloop.messaging import outbox, recipients
    from refloop.messaging.rules import rule
    from refloop.referrals.models import Referral

    testimonial = event.testimonial
    authorization = testimonial.authorization
    survey = testimonial.survey
    referral = survey.referral if survey is not None else None
    if referral is None:
        referral = (
            Referral.objects.filter(patient_id=testimonial.patient_id).order_by("-pk").first()
        )
    if referral is None:
        return
    org = Organization.current()
    recipient = recipients.patient_of(referral)
    outbox.queue(
        rule=rule("patient.testimonial_authorization"),
        recipient=recipient,
        cause=f"authorization:{authorization.pk}",
        values={
            "practice.name": org.name,
            "practice.phone": org.phone or "our office",
            "patient.first_name": testimonial.patient.first_name,
            "link.authorization": revoke_link(authorization),
        },
        due_at=event.at,
        now=event.at,
    )


# ---------------------------------------------------------------- revoking, expiring


def by_revocation_code(code: str) -> Authorization | None:
    if not code or len(code) > 40:
        return None
    return Authorization.objects.filter(revocation_code=code).first()


def revoke_authorization(
    authorization: Authorization, *, how: str, acting_user, now: datetime
) -> Authorization:
    """Revoke: from this moment nothing under it is shown or exported (publishable says so)."""
    how = how.strip()
    if not how:
        raise InvalidInput("Say how the revocation reached us.", field="how")
    with transaction.atomic():
        authorization = Authorization.objects.select_for_update().get(pk=authorization.pk)
        if authorization.revoked_at is not None:
            raise Conflict("This authorization is already revoked.")
        authorization.revoked_at = now
        authorization.revoked_how = how[:200]
        authorization.save(update_fields=["revoked_at", "revoked_how"])
        for testimonial in authorization.testimonials.all():
            record_event(
                "authorization.revoked",
                actor=acting_user,
                at=now,
                testimonial=testimonial,
                data={"authorization": authorization.pk},
            )
        audit.record(
            "authorization.revoked", authorization.audit_touch(), actor=acting_user, now=now
        )
    return authorization


def record_expiry_event(
    authorization: Authorization, *, acting_user, now: datetime
) -> Authorization:
    """Staff record that the event an authorization ends with has happened: it has expired."""
    if not can(acting_user, Capability.HANDLE_FEEDBACK):
        raise NotAllowed("Your role does not include testimonials.")
    with transaction.atomic():
        authorization = Authorization.objects.select_for_update().get(pk=authorization.pk)
        if not authorization.expiry_event:
            raise Conflict("This authorization ends on a date, not with an event.")
        if authorization.expiry_event_occurred_at is not None:
            raise Conflict("The end of this authorization is already recorded.")
        authorization.expiry_event_occurred_at = now
        authorization.save(update_fields=["expiry_event_occurred_at"])
        for testimonial in authorization.testimonials.all():
            record_event(
                "authorization.expired",
                actor=acting_user,
                at=now,
                testimonial=testimonial,
                data={"authorization": authorization.pk},
            )
        audit.record(
            "authorization.expired", authorization.audit_touch(), actor=acting_user, now=now
        )
    return authorization


# ---------------------------------------------------------------- staff review


@dataclass(frozen=True)
class Move:
    key: str
    label: str
    capability: Capability
    from_states: tuple[str, ...]
    to_state: str


MOVES: dict[str, Move] = {
    move.key: move
    for move in [
        Move(
            "approve",
            "Approve for publication",
            Capability.PUBLISH_TESTIMONIALS,
            (TestimonialState.SUBMITTED,),
            TestimonialState.APPROVED,
        ),
        Move(
            "decline",
            "Do not use",
            Capability.PUBLISH_TESTIMONIALS,
            (TestimonialState.SUBMITTED,),
            TestimonialState.DECLINED,
        ),
        Move(
            "withdraw",
            "Withdraw (take it down)",
            Capability.HANDLE_FEEDBACK,
            (TestimonialState.SUBMITTED, TestimonialState.APPROVED),
            TestimonialState.WITHDRAWN,
        ),
    ]
}


def moves_for(user, testimonial: Testimonial) -> list[Move]:
    return [
        m for m in MOVES.values() if can(user, m.capability) and testimonial.state in m.from_states
    ]


def review_testimonial(
    testimonial: Testimonial, *, move: str, acting_user, now: datetime
) -> Testimonial:
    chosen = MOVES.get(move)
    if chosen is None:
        raise InvalidInput("Choose approve, decline or withdraw.", field="move")
    if not can(acting_user, chosen.capability):
        raise NotAllowed("Your role does not include this.")
    with transaction.atomic():
        testimonial = (
            Testimonial.objects.select_for_update(of=("self",))
            .select_related("authorization")
            .get(pk=testimonial.pk)
        )
        if testimonial.state not in chosen.from_states:
            raise Conflict(f"This testimonial is {testimonial.get_state_display().lower()}.")
        if chosen.key == "approve" and not authorization_valid(testimonial.authorization, now):
            raise Conflict(
                "It cannot be approved: its authorization is not signed, or is revoked or expired."
            )
        testimonial.state = chosen.to_state
        testimonial.reviewed_by = acting_user
        testimonial.reviewed_at = now
        testimonial.save(update_fields=["state", "reviewed_by", "reviewed_at"])
        record_event(
            f"testimonial.{chosen.to_state}", actor=acting_user, at=now, testimonial=testimonial
        )
        audit.record(
            f"testimonial.{chosen.to_state}", testimonial.audit_touch(), actor=acting_user, now=now
        )
    return testimonial
