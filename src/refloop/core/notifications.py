"""In-app notifications for staff (the bell). Text names the referral number, never the patient."""

from django.utils import timezone

from refloop.core.models import Notification, User


def notify(
    user: User, *, kind: str, text: str, referral=None, dedupe_key: str = "", now=None
) -> bool:
    """Create the notice unless this (user, kind, referral, dedupe_key) was already sent."""
    _, created = Notification.objects.get_or_create(
        user=user,
        kind=kind,
        referral=referral,
        dedupe_key=dedupe_key,
        defaults={"text": text, "created_at": now or timezone.now()},
    )
    return created


def unread_for(user: User):
    return Notification.objects.filter(user=user, read_at__isnull=True).order_by("-created_at")
