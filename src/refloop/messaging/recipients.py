"""Who a message goes to, how they can be reached, and how they prefer to be."""

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from refloop.core.validation import phone_e164 as e164
from refloop.messaging.models import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    Audience,
    Channel,
    OptOut,
    Preference,
)
from refloop.practice.models import Organization

# What a directory entry's preferred channel means for the outbox.
_DIRECTORY_CHANNEL = {
    "email": Channel.EMAIL,
    "fax": Channel.FAX,
    "mail": Channel.LETTER,
    "portal": Channel.EMAIL,
    "phone": Channel.FAX,
}
# Clinical detail goes only where it stays between treating parties: not plain email or SMS.
CLINICAL_CHANNELS = {Channel.FAX, Channel.LETTER}


@dataclass
class Recipient:
    key: str  # "patient:12", "provider:4", "practice:3", "staff_contact:9", "user:5"
    audience: str
    label: str
    addresses: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # channels in the order to try
    language: str = "en"
    zone: ZoneInfo | None = None
    quiet: tuple[time, time] | None = (DEFAULT_QUIET_START, DEFAULT_QUIET_END)
    opted_out: set[str] = field(default_factory=set)
    refused: str = ""  # why nothing may be sent at all (no contact consent)
    name: str = ""  # how a message addresses them ("Dr. Reed", "Maria")


@dataclass(frozen=True)
class Route:
    channel: str | None
    address: str
    reason: str = ""  # why there is no channel


def with_preference(recipient: Recipient) -> Recipient:
    """The recipient with their own choices (channel, opt-outs, language, quiet hours) applied."""
    preference = Preference.objects.filter(recipient=recipient.key).first()
    if preference is not None:
        if preference.preferred_channel:
            recipient.order = [preference.preferred_channel] + [
                c for c in recipient.order if c != preference.preferred_channel
            ]
        recipient.opted_out |= set(preference.opted_out)
        if preference.language:
            recipient.language = preference.language
        recipient.quiet = (preference.quiet_start, preference.quiet_end)
        if preference.time_zone:
            recipient.zone = ZoneInfo(preference.time_zone)
    return recipient


_LANGUAGES = {"english": "en", "spanish": "es", "español": "es", "french": "fr", "chinese": "zh"}


def patient_of(referral) -> Recipient:
    return patient_recipient(referral.patient)


def patient_recipient(patient) -> Recipient:
    """A patient as a recipient, apart from any referral (an advocate's messages)."""
    address = ", ".join(
        part
        for part in [
            patient.address,
            patient.city,
            f"{patient.state} {patient.postal_code}".strip(),
        ]
        if part
    )
    recipient = Recipient(
        key=f"patient:{patient.pk}",
        audience=Audience.PATIENT,
        label="the patient",
        name=patient.first_name,
        addresses={
            Channel.SMS: e164(patient.phone),
            Channel.EMAIL: patient.email,
            Channel.LETTER: f"{patient.first_name} {patient.last_name}, {address}"
            if address
            else "",
        },
        order=[Channel.SMS, Channel.EMAIL, Channel.LETTER],
        language=_LANGUAGES.get(patient.preferred_language.strip().lower(), "en"),
        zone=Organization.current().zone,
    )
    if not patient.contact_consent:
        recipient.refused = "The patient has not agreed to be contacted."
    return with_preference(recipient)


def _contact(entity, key: str, label: str, name: str, postal: str) -> Recipient:
    preferred = _DIRECTORY_CHANNEL.get(entity.preferred_channel)
    order: list[str] = [Channel.EMAIL, Channel.FAX, Channel.LETTER]
    if preferred:
        order = [preferred] + [c for c in order if c != preferred]
    recipient = Recipient(
        key=key,
        audience=Audience.REFERRER,
        label=label,
        name=name,
        addresses={
            Channel.EMAIL: entity.email,
            Channel.FAX: e164(entity.fax),
            Channel.LETTER: postal,
        },
        order=order,
        zone=Organization.current().zone,
    )
    return with_preference(recipient)


def _postal(practice, attention: str) -> str:
    if practice is None or not practice.address:
        return ""
    return ", ".join(
        p
        for p in [
            attention,
            practice.name,
            practice.address,
            practice.city,
            f"{practice.state} {practice.postal_code}".strip(),
        ]
        if p
    )


def referrer_of(referral) -> Recipient | None:
    """The referring provider, else the referring practice; None for self-referrals."""
    provider = referral.referring_provider
    if provider is not None:
        practice = provider.practice or referral.referring_practice
        recipient = _contact(
            provider,
            f"provider:{provider.pk}",
            str(provider),
            f"Dr. {provider.last_name}"
            if provider.credentials in ("MD", "DO", "")
            else str(provider),
            _postal(practice, str(provider)),
        )
        # A provider with no address of their own is reached through their practice.
        if practice is not None:
            for channel, value in [
                (Channel.EMAIL, practice.email),
                (Channel.FAX, e164(practice.fax)),
            ]:
                recipient.addresses[channel] = recipient.addresses[channel] or value
        return recipient
    practice = referral.referring_practice
    return practice_recipient(practice) if practice is not None else None


def practice_recipient(practice) -> Recipient:
    return _contact(
        practice,
        f"practice:{practice.pk}",
        practice.name,
        f"{practice.name} team",
        _postal(practice, ""),
    )


def staff_contact(contact) -> Recipient:
    return _contact(
        contact,
        f"staff_contact:{contact.pk}",
        str(contact),
        contact.name,
        _postal(contact.practice, contact.name),
    )


def staff_user(user) -> Recipient:
    return Recipient(
        key=f"user:{user.pk}",
        audience=Audience.STAFF,
        label=user.get_username(),
        name=user.first_name or user.get_username(),
        addresses={Channel.IN_APP: str(user.pk)},
        order=[Channel.IN_APP],
        quiet=None,
    )


def user_by_email(user, audience: str) -> Recipient:
    """A signed-in user (staff or portal) reached at their account's email address."""
    return Recipient(
        key=f"user:{user.pk}",
        audience=audience,
        label=user.get_username(),
        name=user.first_name or user.get_username(),
        addresses={Channel.EMAIL: user.email},
        order=[Channel.EMAIL],
        quiet=None,
    )


def route(recipient: Recipient, *, clinical: bool) -> Route:
    """The first channel the recipient can be reached on, or why there is none."""
    if recipient.refused:
        return Route(None, "", recipient.refused)
    reasons = []
    for channel in recipient.order:
        address = recipient.addresses.get(channel, "")
        if clinical and channel not in CLINICAL_CHANNELS:
            continue
        if not address:
            continue
        if channel in recipient.opted_out or is_opted_out(channel, address):
            reasons.append(f"opted out of {Channel(channel).label}")
            continue
        return Route(channel, address)
    if reasons:
        return Route(None, "", "The recipient " + " and ".join(reasons) + ".")
    if clinical:
        return Route(None, "", "No fax number or postal address on file for a clinical report.")
    return Route(None, "", "No way to reach the recipient is on file.")


def is_opted_out(channel: str, address: str) -> bool:
    return OptOut.objects.filter(channel=channel, address=address).exists()
