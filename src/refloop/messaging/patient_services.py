"""What a patient does through a magic link: confirm or cancel an appointment, download a
document, ask for a fresh link. Each write uses up the link (once), records the event and the
audit record in one transaction; staff hear of a cancellation through the reactions to the
event (refloop.referrals.reactions), like every other notice.
"""

from datetime import datetime

from django.db import transaction

from refloop.core import audit
from refloop.core.errors import Conflict
from refloop.messaging import magic
from refloop.messaging.models import MagicLink, Message
from refloop.referrals.models import Attachment
from refloop.referrals.timeline import record_event


class LinkAlreadyUsed(Conflict):
    """The link acted once already (a double click, a second tab)."""


def record_link_audit(action: str, link: MagicLink, *, now: datetime, **detail: object) -> None:
    """An audit record of what happened through `link`: the patient is the actor, unnamed."""
    audit.record(
        action,
        audit.touch_on_referral("magic_link", link),
        actor=None,
        detail={"purpose": link.purpose, **detail},
        now=now,
    )


def _use(link: MagicLink, *, now: datetime) -> None:
    if not magic.use(link, now=now):
        raise LinkAlreadyUsed("This link was already used.")


def _answer_appointment(link: MagicLink, event: str, action: str, *, now: datetime) -> None:
    """Use `link` once, and record the patient's answer about its appointment: the timeline
    event `event` and the audit record `action`, in one transaction."""
    with transaction.atomic():
        _use(link, now=now)
        record_event(
            link.referral,
            event,
            actor=None,
            at=now,
            data={"appointment_id": link.appointment_id, "by": "patient"},
        )
        record_link_audit(action, link, now=now)


def confirm_appointment(*, link: MagicLink, now: datetime) -> None:
    """The patient confirms the link's appointment."""
    _answer_appointment(
        link, "referral.appointment_confirmed", "appointment.confirmed_by_patient", now=now
    )


def cancel_appointment(*, link: MagicLink, now: datetime) -> None:
    """The patient cancels the link's appointment. The referral's state is for staff to
    change; the event tells them (refloop.referrals.notices)."""
    _answer_appointment(
        link,
        "referral.appointment_cancelled_by_patient",
        "appointment.cancelled_by_patient",
        now=now,
    )


def download_document(*, link: MagicLink, now: datetime) -> Attachment:
    """The document the link is for, its download audited. A document link may be used
    again until it expires."""
    attachment = link.attachment
    if attachment is None:
        raise Conflict("This link is not for a document.")
    record_link_audit(
        "document.downloaded_by_patient", link, now=now, attachment_id=link.attachment_id
    )
    return attachment


def renew_link(*, link: MagicLink, now: datetime) -> Message | None:
    """Queue a fresh copy of the message whose link expired or was used (None if it may not
    be renewed); audited either way."""
    with transaction.atomic():
        sent = magic.resend_for(link, now=now)
        record_link_audit("magic_link.renewed", link, now=now, sent=sent is not None)
    return sent
