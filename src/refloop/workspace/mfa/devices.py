"""Second factors of a user: enrol, check and remove them, with every step audited.

Codes are checked by django-otp's devices (TOTP with replay protection and back-off,
single-use recovery codes); nothing here computes a code.
"""

from dataclasses import dataclass

import django_otp
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from refloop.core import audit, throttle
from refloop.core.audit import Touch
from refloop.core.reauth import mark_reauthenticated

RECOVERY_CODE_COUNT = 10
FRESH_CODES_SESSION_KEY = "refloop_fresh_recovery_codes"
RECOVERY_DEVICE_NAME = "Recovery codes"


@dataclass(frozen=True)
class Factor:
    """One second factor as the security page lists it."""

    kind: str  # "totp" | "passkey"
    persistent_id: str
    name: str
    created_at: object
    last_used_at: object


def factors_of(user) -> list[Factor]:
    found = [
        Factor("totp", d.persistent_id, d.name, d.created_at, d.last_used_at)
        for d in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    ]
    found += [
        Factor("passkey", d.persistent_id, d.name, d.created_at, d.last_used_at)
        for d in WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk")
    ]
    return found


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _touch(user) -> Touch:
    return Touch("user", user.pk)


# -- Checking a code ------------------------------------------------------------------------


def normalize_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


@dataclass(frozen=True)
class CodeCheck:
    method: str | None  # "totp" | "recovery_code" when accepted
    throttled: bool = False
    refusal: str = ""  # the sign-in throttle's sentence, when it refused the attempt


def check_code(request: HttpRequest, user, raw_code: str) -> CodeCheck:
    """Try a code from an authenticator app (6 digits) or a recovery code on the user's devices.

    On success the session counts as verified and freshly re-authenticated; on failure the
    attempt is audited (and counted against the sign-in throttle).
    """
    if (refusal := throttle.refusal_for(request, user.get_username())) is not None:
        return CodeCheck(None, throttled=True, refusal=refusal.message)
    code = normalize_code(raw_code)
    if code.isdigit():
        candidates, method = TOTPDevice.objects.filter(user=user, confirmed=True), "totp"
    else:
        candidates = StaticDevice.objects.filter(user=user, confirmed=True)
        method = "recovery_code"
    throttled = False
    for device in candidates:
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            django_otp.login(request, verified)
            mark_reauthenticated(request)
            record_verified(request, method=method)
            return CodeCheck(method)
    second_factor_failed(request, user, method=method)
    return CodeCheck(None, throttled=throttled)


def record_verified(request: HttpRequest, *, method: str) -> None:
    detail: dict[str, object] = {"method": method}
    if method == "recovery_code":
        detail["recovery_codes_left"] = recovery_codes_left(request.user)
    audit.record("auth.mfa_verified", _touch(request.user), actor=request.user, detail=detail)


def second_factor_failed(request: HttpRequest, user, *, method: str) -> None:
    """A wrong or refused second factor; the sign-in throttle counts it beside failed
    passwords (refloop.core.throttle), for the username and the address alike."""
    audit.record(
        "auth.mfa_failed",
        _touch(user),
        actor=user,
        detail={"username": user.get_username(), "method": method},
    )


# -- Enrolling ------------------------------------------------------------------------------


def pending_totp(user) -> TOTPDevice:
    """The authenticator being set up: one unconfirmed device per user, its key kept until
    a code from it confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def confirm_totp(request: HttpRequest, device: TOTPDevice, *, code: str, name: str) -> bool:
    """Confirm the pending authenticator with a code it shows; False when the code is wrong."""
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if not device.verify_token(normalize_code(code)):
            return False
        device.confirmed = True
        device.name = name
        device.save(update_fields=["confirmed", "name"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit.record(
            "mfa.device_added", _touch(user), actor=user, detail={"kind": "totp", "name": name}
        )
    _after_first_factor(request, device)
    return True


def record_passkey_added(request: HttpRequest) -> None:
    user = request.user
    credential = WebAuthnCredential.objects.filter(user=user).order_by("-pk").first()
    audit.record(
        "mfa.device_added",
        _touch(user),
        actor=user,
        detail={"kind": "passkey", "name": credential.name if credential else ""},
    )
    _after_first_factor(request, credential)


def _after_first_factor(request: HttpRequest, device) -> None:
    if not request.user.is_verified() and device is not None:
        django_otp.login(request, device)
    if recovery_codes_left(request.user) == 0:
        stash_fresh_codes(request, issue_recovery_codes(request.user))


def issue_recovery_codes(user) -> list[str]:
    """A new set of single-use recovery codes; the old ones stop working."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        audit.record(
            "mfa.recovery_codes_issued", _touch(user), actor=user, detail={"count": len(codes)}
        )
    return codes


def stash_fresh_codes(request: HttpRequest, codes: list[str]) -> None:
    """Keep new codes for the one page that shows them (after a redirect), then forget them."""
    request.session[FRESH_CODES_SESSION_KEY] = codes


def pop_fresh_codes(request: HttpRequest) -> list[str]:
    return request.session.pop(FRESH_CODES_SESSION_KEY, [])


# -- Removing -------------------------------------------------------------------------------


def remove_factor(request: HttpRequest, persistent_id: str) -> bool:
    """Remove one of the user's own second factors; with the last one go the recovery codes."""
    user = request.user
    factor = next((f for f in factors_of(user) if f.persistent_id == persistent_id), None)
    if factor is None:
        return False
    with transaction.atomic():
        model = TOTPDevice if factor.kind == "totp" else WebAuthnCredential
        model.objects.filter(user=user, pk=int(persistent_id.rsplit("/", 1)[1])).delete()
        if not factors_of(user):
            StaticDevice.objects.filter(user=user).delete()
        audit.record(
            "mfa.device_removed",
            _touch(user),
            actor=user,
            detail={"kind": factor.kind, "name": factor.name},
        )
    return True


def remove_all_factors(user, *, actor) -> int:
    """An admin's help for a user who lost their phone and their recovery codes: every
    second factor of `user` goes, recovery codes included; they enrol again at next sign-in
    where a second factor is required. Returns how many factors were removed."""
    with transaction.atomic():
        removed = len(factors_of(user))
        TOTPDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record("mfa.devices_reset", _touch(user), actor=actor, detail={"removed": removed})
    return removed
