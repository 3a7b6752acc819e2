"""Sign-in security pages, for staff and portal users alike: the second step of signing in,
enrolling and removing second factors, recovery codes, and confirming who you are before
a security change."""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from refloop.core import audit
from refloop.core.admin_site import is_support_staff
from refloop.core.audit import Touch
from refloop.core.reauth import mark_reauthenticated, reauthentication_required
from refloop.web.access import forbidden
from refloop.workspace.mfa import devices, webauthn
from refloop.workspace.mfa.forms import CodeForm, PasswordForm, TotpForm
from refloop.workspace.mfa.policy import ENROL, has_second_factor, mfa_required, pending_step

WRONG_CODE = "That code did not work. Check that your device's clock is right and try again."
THROTTLED = "Too many wrong codes. Wait a minute, then try again."


def next_url(request: HttpRequest, default: str = "home") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(default)


def _code_error(check: devices.CodeCheck) -> str:
    return check.refusal or (THROTTLED if check.throttled else WRONG_CODE)


@never_cache
@login_required
def security(request):
    """The user's second factors, and how to add one (where enrolment starts when required)."""
    user = request.user
    factors = devices.factors_of(user)
    return render(
        request,
        "workspace/mfa/security.html",
        {
            "factors": factors,
            "recovery_codes_left": devices.recovery_codes_left(user),
            "required": mfa_required(user),
            "enrolling": pending_step(user) == ENROL,
            "next": next_url(request),
        },
    )


@never_cache
@login_required
@reauthentication_required
def totp(request):
    """Set up an authenticator app: scan the code, type what it shows."""
    device = devices.pending_totp(request.user)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if devices.confirm_totp(
            request, device, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
        ):
            messages.success(request, "Your authenticator app is set up.")
            return redirect(_after_enrolment(request))
        # Not a failed sign-in: the key is on the screen of a session already signed in.
        form.add_error("code", WRONG_CODE)
    secret = b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url, error="m").svg_inline(scale=5, svgclass="qr")
    qr = qr.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)
    return render(
        request,
        "workspace/mfa/totp.html",
        {
            "form": form,
            "qr": mark_safe(qr),  # noqa: S308 - segno's SVG of our own otpauth URL
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "next": next_url(request),
        },
    )


def _after_enrolment(request: HttpRequest) -> str:
    """New recovery codes are shown first; then back where the user was going."""
    target = next_url(request)
    if request.session.get(devices.FRESH_CODES_SESSION_KEY):
        return f"{reverse('mfa_recovery_codes')}?{urlencode({'next': target})}"
    return target


@never_cache
@login_required
def recovery_codes(request):
    """New recovery codes, shown once."""
    codes = devices.pop_fresh_codes(request)
    if not codes:
        return redirect("mfa_security")
    return render(
        request,
        "workspace/mfa/recovery_codes.html",
        {"codes": codes, "next": next_url(request)},
    )


@require_POST
@login_required
@reauthentication_required
def new_recovery_codes(request):
    if not has_second_factor(request.user):
        messages.error(request, "Set up an authenticator app or a passkey first.")
        return redirect("mfa_security")
    devices.stash_fresh_codes(request, devices.issue_recovery_codes(request.user))
    return redirect("mfa_recovery_codes")


@require_POST
@login_required
@reauthentication_required
def remove(request):
    if devices.remove_factor(request, request.POST.get("device", "")):
        messages.success(request, "The second factor was removed.")
    else:
        messages.error(request, "That second factor is not one of yours, or it is already gone.")
    return redirect("mfa_security")


@never_cache
@login_required
def verify(request):
    """The second step of signing in."""
    user = request.user
    if user.is_verified() or not has_second_factor(user):
        return redirect(next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = devices.check_code(request, user, form.cleaned_data["code"])
        if check.method:
            if check.method == "recovery_code":
                left = devices.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones on the sign-in "
                    "security page if you are running out.",
                )
            return redirect(next_url(request))
        form.add_error("code", _code_error(check))
    return render(request, "workspace/mfa/verify.html", _factor_context(request, form))


def _factor_context(request: HttpRequest, form) -> dict:
    factors = devices.factors_of(request.user)
    return {
        "form": form,
        "has_totp": any(f.kind == "totp" for f in factors),
        "has_passkey": any(f.kind == "passkey" for f in factors),
        "recovery_codes_left": devices.recovery_codes_left(request.user),
        "next": next_url(request),
    }


@never_cache
@login_required
def reauthenticate(request):
    """Confirm it is you (password or second factor) before a security change."""
    user = request.user
    password_form = PasswordForm(request.POST if "password" in request.POST else None)
    code_form = CodeForm(request.POST if "code" in request.POST else None)
    if password_form.is_bound and password_form.is_valid():
        confirmed = authenticate(
            request, username=user.get_username(), password=password_form.cleaned_data["password"]
        )
        if confirmed is not None and confirmed.pk == user.pk:
            mark_reauthenticated(request)
            audit.record(
                "auth.reauthenticated",
                Touch("user", user.pk),
                actor=user,
                detail={"method": "password"},
            )
            return redirect(next_url(request))
        password_form.add_error("password", "That password is not right.")
    if code_form.is_bound and code_form.is_valid():
        check = devices.check_code(request, user, code_form.cleaned_data["code"])
        if check.method:
            return redirect(next_url(request))
        code_form.add_error("code", _code_error(check))
    context = _factor_context(request, code_form)
    context["password_form"] = password_form
    return render(request, "workspace/mfa/confirm.html", context)


def admin_login(request):
    """The back office signs in through the one sign-in page (its throttle, its second step)."""
    target = request.GET.get("next") or "/admin/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/admin/"
    if request.user.is_authenticated:
        if is_support_staff(request.user):
            return redirect(target)
        return forbidden(
            request,
            "The back office is for support staff. The practice's settings are under Settings.",
        )
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


urlpatterns = [
    path("security/", security, name="mfa_security"),
    path("security/verify/", verify, name="mfa_verify"),
    path("security/confirm/", reauthenticate, name="reauthenticate"),
    path("security/authenticator/", totp, name="mfa_totp"),
    path("security/recovery-codes/", recovery_codes, name="mfa_recovery_codes"),
    path("security/recovery-codes/new", new_recovery_codes, name="mfa_recovery_codes_new"),
    path("security/remove", remove, name="mfa_remove"),
    path("security/webauthn/", include((webauthn.urlpatterns, "otp_webauthn"))),
]
