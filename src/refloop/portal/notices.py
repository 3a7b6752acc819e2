"""Telling the other side of the portal there is something new: handlers in
refloop.referrals.reactions, run by the worker once the event has committed.

Emails and notices name the referral number only; never the patient, never a message body.
The emails go through the outbox (refloop.messaging), which retries them and sends each once.
"""

from collections.abc import Iterable

from django.db.models import QuerySet
from django.urls import reverse

from refloop.core.links import absolute_url
from refloop.core.models import User
from refloop.core.notifications import notify
from refloop.core.roles import Role
from refloop.messaging import outbox
from refloop.messaging.automation import values_for
from refloop.messaging.models import Audience
from refloop.messaging.recipients import user_by_email
from refloop.messaging.rules import rule
from refloop.portal.models import PortalMessage
from refloop.referrals.models import ReferralEvent, State
from refloop.referrals.selectors import answerable_staff

STAFF_NOTICES = {
    "referral.message_posted": "New message from the referring practice about referral {number}.",
    "referral.info_answered": "The referring practice sent the information asked for on referral {number}.",
}


def portal_recipients(referral) -> QuerySet[User]:
    if referral.referring_practice_id is None:
        return User.objects.none()
    return User.objects.filter(
        is_active=True, role=Role.PORTAL, partner_practice_id=referral.referring_practice_id
    )


def _email(
    message: PortalMessage, users: Iterable[User], *, rule_key: str, audience: str, link: str
) -> None:
    """One outbox email per recipient (nobody sees who else was told), at most once each."""
    referral = message.referral
    values = values_for(referral, None, **{"link.thread": link})
    for user in users:
        if user.email:
            outbox.queue(
                rule=rule(rule_key),
                recipient=user_by_email(user, audience),
                cause=f"portal-message:{message.pk}",
                values=values,
                due_at=message.created_at,
                now=message.created_at,
                referral=referral,
            )


def message_posted(event: ReferralEvent) -> None:
    """A message on the thread: the staff who answer for the referral get a notice and an
    email, or the practice's portal users an email, whichever side did not write it."""
    message = PortalMessage.objects.select_related(
        "referral__assignee", "referral__department__point_of_contact", "author"
    ).get(pk=event.data["message_id"])
    referral = message.referral
    recipients: list[User]
    if message.from_portal:
        recipients = [u for u in answerable_staff(referral) if u.pk != message.author_id]
        for user in recipients:
            notify(
                user,
                kind="referral.message_posted",
                referral=referral,
                dedupe_key=f"message-{message.pk}",
                text=STAFF_NOTICES["referral.message_posted"].format(number=referral.number),
                now=message.created_at,
            )
        rule_key, audience = "staff.new_portal_message", Audience.STAFF
        path = reverse("referral_detail", args=[referral.pk])
    else:
        recipients = list(portal_recipients(referral).exclude(pk=message.author_id))
        rule_key, audience = "referrer.new_portal_message", Audience.REFERRER
        path = reverse("portal_referral", args=[referral.pk])
    link = absolute_url(path)
    _email(message, recipients, rule_key=rule_key, audience=audience, link=link)


def info_answered(event: ReferralEvent) -> None:
    """The referring practice sent what a request for information asked for (the portal's
    answer moves the referral from pending_info back to review, with its documents)."""
    if event.from_state != State.PENDING_INFO or "documents" not in event.data:
        return
    referral = event.referral
    kind = "referral.info_answered"
    for user in answerable_staff(referral):
        notify(
            user,
            kind=kind,
            referral=referral,
            dedupe_key=f"{kind}-{event.pk}",
            text=STAFF_NOTICES[kind].format(number=referral.number),
            now=event.at,
        )
