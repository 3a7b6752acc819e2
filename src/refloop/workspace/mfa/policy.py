"""Who must use a second factor, and what a signed-in session still has to do."""

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from refloop.core.roles import Capability, Role, can, role_among
from refloop.practice.models import Organization

# Roles an admin may mark as needing a second factor (admins always need one).
CHOOSABLE_ROLES = [r for r in Role if r != Role.ADMIN]

VERIFY = "verify"
ENROL = "enrol"


def mfa_required(user) -> bool:
    """Admins (and anyone who may open the back office) always; other roles as the practice says."""
    if user.is_superuser or user.is_staff or can(user, Capability.MANAGE_SETTINGS):
        return True
    return role_among(user, Organization.current().mfa_required_roles)


def has_second_factor(user) -> bool:
    """An authenticator app or a passkey (recovery codes alone are not a factor)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def pending_step(user) -> str | None:
    """VERIFY when the session has not passed the user's second factor, ENROL when the user
    must have one and has none, None when the session may go anywhere its role allows."""
    if not user.is_authenticated or user.is_verified():
        return None
    if has_second_factor(user):
        return VERIFY
    if settings.MFA_ENFORCED and mfa_required(user):
        return ENROL
    return None
