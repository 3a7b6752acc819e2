"""What the referring-practice portal keeps: invitations, secure messages on a referral, and
each portal user's last used choices on the referral form."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models

from refloop.core.encryption import EncryptedTextField

INVITE_DAYS_DEFAULT = 7


def invite_lifetime() -> timedelta:
    return timedelta(days=getattr(settings, "PORTAL_INVITE_DAYS", INVITE_DAYS_DEFAULT))


def new_invite_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InviteStatus(models.TextChoices):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class PortalInvite(models.Model):
    """A single-use, expiring invitation for someone at a partner practice.

    Only the SHA-256 of the token is kept; the token itself is in the emailed link alone.
    """

    email = models.EmailField()
    practice = models.ForeignKey(
        "network.Practice", on_delete=models.CASCADE, related_name="portal_invites"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accepted_portal_invites",
        help_text="The account created from this invite",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invite for {self.email}"

    def status(self, now) -> str:
        if self.used_at is not None:
            return InviteStatus.USED
        if self.revoked_at is not None:
            return InviteStatus.REVOKED
        if self.expires_at <= now:
            return InviteStatus.EXPIRED
        return InviteStatus.OPEN


class PortalMessage(models.Model):
    """One secure message on a referral, between the referring practice and our staff.

    The body is PHI: it is shown on the referral's pages only, never emailed or logged.
    `read_at` is when the other side first opened it.
    """

    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="portal_messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_portal = models.BooleanField(help_text="Written by the referring practice")
    body = EncryptedTextField()
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["referral", "from_portal", "read_at"])]


class PortalPreference(models.Model):
    """What a portal user chose on their last referral, offered again on the next one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_preference"
    )
    referring_provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        "practice.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    urgency = models.CharField(max_length=8, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
