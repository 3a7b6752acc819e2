"""Background tasks of the portal: telling the other side there is something new.

Emails and notices name the referral number only; never the patient, never a message body.
"""

from django.core.mail import send_mail
from django.db.models import QuerySet
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from refloop.core.models import User
from refloop.core.notifications import notify
from refloop.core.roles import Role
from refloop.portal.models import PortalMessage
from refloop.practice.models import Organization
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


def _email(users, *, subject: str, body: str) -> None:
    # One message per recipient: nobody sees who else was told.
    for address in sorted({u.email for u in users if u.email}):
        send_mail(subject, body, None, [address])


def _message_email(referral: Referral, link: str) -> tuple[str, str]:
    org = Organization.current()
    subject = f"New message about referral {referral.number}"
    body = (
        f"There is a new message about referral {referral.number}.\n\n"
        f"Sign in to read it: {link}\n\n"
        f"{org.name}\n"
    )
    return subject, body


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
        path = reverse("referral_detail", args=[referral.pk])
    else:
        recipients = list(portal_recipients(referral).exclude(pk=message.author_id))
        path = reverse("portal_referral", args=[referral.pk])
    subject, body = _message_email(referral, base_url.rstrip("/") + path)
    _email(recipients, subject=subject, body=body)


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
