"""Passkeys through django-otp-webauthn: the relying party, and its JSON views with our
audit, re-authentication and recovery codes around them."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions, views
from django_otp_webauthn.helpers import WebAuthnHelper

from refloop.core.reauth import mark_reauthenticated, reauthentication_required
from refloop.practice.models import Organization
from refloop.workspace.mfa import devices


def relying_party_id(request: HttpRequest) -> str:
    """The configured RP ID, else the host the browser asked for (ALLOWED_HOSTS vetted it)."""
    return settings.WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0].strip("[]")


def relying_party_name(request: HttpRequest) -> str:
    return Organization.current().name


class RefloopWebAuthnHelper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        # A phishing site relaying the ceremony gets its own origin signed by the
        # browser, which never equals ours.
        configured = super().get_allowed_origins()
        if configured:
            return configured
        scheme = "https" if self.request.is_secure() else "http"
        return [f"{scheme}://{self.request.get_host()}"]


@method_decorator(reauthentication_required, name="dispatch")
class BeginRegistration(views.BeginCredentialRegistrationView):
    pass


@method_decorator(reauthentication_required, name="dispatch")
class CompleteRegistration(views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        devices.record_passkey_added(self.request)
        return response


class CompleteAuthentication(views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        super().complete_auth(device)
        mark_reauthenticated(self.request)
        devices.record_verified(self.request, method="passkey")

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.OTPWebAuthnApiError) and self.request.user.is_authenticated:
            devices.second_factor_failed(self.request, self.request.user, method="passkey")
        return super().handle_exception(exc)


urlpatterns = [
    path(
        "registration/begin/",
        BeginRegistration.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        CompleteRegistration.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        views.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
