"""Magic links for patients: signed, expiring, single-purpose. Only a digest is stored;
the token exists in the message that carries it and nowhere else."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse

from refloop.core.links import absolute_url
from refloop.messaging.models import MagicLink

Purpose = MagicLink.Purpose
_FOR_PLACEHOLDER = {
    "link.confirm": Purpose.CONFIRM_APPOINTMENT,
    "link.cancel": Purpose.CANCEL_APPOINTMENT,
    "link.instructions": Purpose.VIEW_INSTRUCTIONS,
}


def digest(token: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{token}".encode()).hexdigest()


def mint(
    purpose: str,
    *,
    referral,
    now: datetime,
    appointment=None,
    attachment=None,
    message=None,
) -> str:
    """A new link's token. Appointment links last until the appointment starts."""
    token = secrets.token_urlsafe(24)
    if appointment is not None and purpose in (
        Purpose.CONFIRM_APPOINTMENT,
        Purpose.CANCEL_APPOINTMENT,
    ):
        expires = appointment.starts_at
    else:
        expires = now + timedelta(days=settings.MAGIC_LINK_DAYS)
    MagicLink.objects.create(
        digest=digest(token),
        purpose=purpose,
        referral=referral,
        appointment=appointment,
        attachment=attachment,
        message=message,
        created_at=now,
        expires_at=expires,
    )
    return token


def url_for(token: str) -> str:
    return absolute_url(reverse("magic_link", args=[token]))


def links_for(message, *, now: datetime) -> dict[str, str]:
    """Mint a link for each link placeholder in `message`'s body, for its referral."""
    from refloop.messaging.templating import placeholders_in

    wanted = [
        name for name in dict.fromkeys(placeholders_in(message.body)) if name in _FOR_PLACEHOLDER
    ]
    if not wanted:
        return {}
    referral = message.referral
    appointments = referral.appointments.all()
    appointment_id = message.event.data.get("appointment_id") if message.event_id else None
    if appointment_id:
        appointments = appointments.filter(pk=appointment_id)
    else:
        appointments = appointments.filter(outcome="")
    appointment = appointments.order_by("-starts_at").first()
    return {
        name: url_for(
            mint(
                _FOR_PLACEHOLDER[name],
                referral=referral,
                appointment=appointment,
                message=message,
                now=now,
            )
        )
        for name in wanted
    }


@dataclass(frozen=True)
class Lookup:
    link: MagicLink | None
    problem: str  # "", "unknown", "expired", "used"


def look_up(token: str, *, now: datetime) -> Lookup:
    link = (
        MagicLink.objects.select_related("referral", "appointment", "attachment")
        .filter(digest=digest(token))
        .first()
    )
    if link is None:
        return Lookup(None, "unknown")
    if link.used_at is not None:
        return Lookup(link, "used")
    if link.expires_at <= now:
        return Lookup(link, "expired")
    return Lookup(link, "")


def use(link: MagicLink, *, now: datetime) -> bool:
    """Mark `link` used; False when it already was (a double click acts once)."""
    used = MagicLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
    if used:
        link.used_at = now
    return bool(used)


def appointment_ahead(link: MagicLink, *, now: datetime) -> bool:
    """Whether the link's appointment is still to come and not called off."""
    from refloop.referrals.models import State

    appointment = link.appointment
    return (
        appointment is not None
        and appointment.outcome == ""
        and appointment.starts_at > now
        and link.referral.state != State.CANCELLED
    )


def appointment_confirmed(link: MagicLink) -> bool:
    """Whether the patient already confirmed the link's appointment, with this link or
    another one for the same appointment."""
    return (
        link.appointment_id is not None
        and MagicLink.objects.filter(
            appointment_id=link.appointment_id,
            purpose=Purpose.CONFIRM_APPOINTMENT,
            used_at__isnull=False,
        ).exists()
    )


def renewable(link: MagicLink, *, now: datetime) -> bool:
    """Whether a fresh copy of the link's message may be sent to the patient: not for an
    appointment the patient has confirmed already (a new link would ask again)."""
    if link.message_id is None:
        return False
    if link.appointment_id is None:
        return link.purpose == Purpose.VIEW_DOCUMENT
    if link.purpose == Purpose.CONFIRM_APPOINTMENT and appointment_confirmed(link):
        return False
    return appointment_ahead(link, now=now)


def resend_for(link: MagicLink, *, now: datetime):
    """Queue a fresh copy of the message that carried `link`, to the same recipient; its
    links are minted anew when it is sent. Asking again returns the same copy.
    None when there is no message to copy or the link may not be renewed."""
    from refloop.messaging.models import Message, Status

    if not renewable(link, now=now):
        return None
    original = link.message
    if original is None:  # renewable() saw a message; it cannot have gone since
        return None
    copy, _ = Message.objects.get_or_create(
        dedupe_key=f"renew:{link.pk}",
        defaults={
            "referral_id": original.referral_id,
            "event_id": original.event_id,
            "rule": original.rule,
            "audience": original.audience,
            "recipient": original.recipient,
            "recipient_label": original.recipient_label,
            "channel": original.channel,
            "address": original.address,
            "language": original.language,
            "subject": original.subject,
            "body": original.body,
            "clinical": original.clinical,
            "due_at": now,
            "status": Status.DUE,
            "created_at": now,
        },
    )
    return copy
