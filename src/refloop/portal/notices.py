"""Background tasks of the portal: telling the other side there is something new.

Emails and notices name the referral number only; never the patient, never a message body.
The emails go through the outbox (refloop.messaging), which retries them and sends each once.
"""

from django.db.models import QuerySet
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from refloop.core.models import User
from refloop.core.notifications import notify
from refloop.core.roles import Role
from refloop.messaging import outbox
from refloop.messaging.automation import values_for
from refloop.messaging.models import Audience
from refloop.messaging.recipients import user_by_email
from refloop.messaging.rules import rule
from refloop.portal.models import PortalMessage
from refloop.referrals.models import Referral

STAFF_NOTICES = {
    "referral.message_posted": "New message from the referring practice about referral {number}.",
    "referral.info_answered": "The referring practice sent the information asked for on referral {number}.",
}


def staff_recipients(referral: Referral) -> list[User]:
    """Who hears about the referring practice's replies: the assignee, else the department's
    point of contact, else the coordinators."""
    for candidate in (
        referral.assignee,
        referral.department and referral.department.point_of_contact,
    ):
        if candidate is not None and candidate.is_active:
            return [candidate]
    return list(User.objects.filter(is_active=True, role=Role.COORDINATOR))


def portal_recipients(referral: Referral) -> QuerySet[User]:
    if referral.referring_practice_id is None:
        return User.objects.none()
    return User.objects.filter(
        is_active=True, role=Role.PORTAL, partner_practice_id=referral.referring_practice_id
    )


def _email(message: PortalMessage, users, *, rule_key: str, audience: str, link: str) -> None:
    """One outbox email per recipient (nobody sees who else was told), at most once each."""
    referral = message.referral
    values = values_for(referral, **{"link.thread": link})
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


@task()
def notify_new_message(message_id: int, base_url: str) -> None:
    message = PortalMessage.objects.select_related(
        "referral__assignee", "referral__department__point_of_contact", "author"
    ).get(pk=message_id)
    referral = message.referral
    if message.from_portal:
        recipients = [u for u in staff_recipients(referral) if u.pk != message.author_id]
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
    link = base_url.rstrip("/") + path
    _email(message, recipients, rule_key=rule_key, audience=audience, link=link)


@task()
def notify_staff(referral_id: int, kind: str, base_url: str) -> None:
    """An in-app notice to the staff who hold the referral (e.g. the records arrived)."""
    referral = Referral.objects.select_related("assignee", "department__point_of_contact").get(
        pk=referral_id
    )
    for user in staff_recipients(referral):
        notify(
            user,
            kind=kind,
            referral=referral,
            dedupe_key=f"{kind}-{referral.version}",
            text=STAFF_NOTICES[kind].format(number=referral.number),
            now=timezone.now(),
        )
