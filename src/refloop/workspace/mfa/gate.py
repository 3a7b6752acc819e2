"""Holds a signed-in session at the second-factor step until it is passed.

Every page, the back office (/admin/) included, is behind it: a session that signed in
with a password only reaches the pages that finish signing in (or enrol a first factor
when the user's role requires one) and sign-out. The API authenticates with bearer tokens
of its own and is not session-based.
"""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from refloop.workspace.mfa.policy import ENROL, VERIFY, pending_step

WEBAUTHN_AUTHENTICATION = {
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
}
WEBAUTHN_REGISTRATION = {
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:js-i18n-catalog",
}
ALWAYS_OPEN = {"logout", "logo", "favicon"}
OPEN_WHILE = {
    VERIFY: ALWAYS_OPEN | WEBAUTHN_AUTHENTICATION | {"mfa_verify"},
    ENROL: ALWAYS_OPEN
    | WEBAUTHN_REGISTRATION
    | {"mfa_security", "mfa_totp", "mfa_recovery_codes", "reauthenticate"},
}
STEP_PAGE = {VERIFY: "mfa_verify", ENROL: "mfa_security"}


class MfaGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/") or not request.user.is_authenticated:
            return None
        step = request.mfa_pending = pending_step(request.user)
        if step is None or request.resolver_match.view_name in OPEN_WHILE[step]:
            return None
        next_url = request.get_full_path() if request.method == "GET" else request.path
        target = f"{reverse(STEP_PAGE[step])}?{urlencode({'next': next_url})}"
        if request.headers.get("HX-Request"):
            # htmx would swap the whole page into a fragment; send the browser there instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
