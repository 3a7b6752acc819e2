"""Re-authentication: a fresh password or second factor before an action that changes security.

A sign-in, a second factor or the confirm page marks the session; for REAUTH_MINUTES
afterwards the guarded actions (MFA devices and recovery codes, user roles, the MFA
policy, key rotation) go through, and after that they ask again.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

SESSION_KEY = "refloop_reauthenticated_at"
CONFIRM_URL_NAME = "reauthenticate"


def mark_reauthenticated(request: HttpRequest, *, now: datetime | None = None) -> None:
    request.session[SESSION_KEY] = (now or timezone.now()).timestamp()


def recently_reauthenticated(request: HttpRequest, *, now: datetime | None = None) -> bool:
    at = request.session.get(SESSION_KEY)
    if at is None:
        return False
    age = (now or timezone.now()).timestamp() - float(at)
    return 0 <= age <= timedelta(minutes=settings.REAUTH_MINUTES).total_seconds()


def confirm_url(next_url: str) -> str:
    return f"{reverse(CONFIRM_URL_NAME)}?{urlencode({'next': next_url})}"


def reauthentication_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Send a user who has not confirmed who they are lately to the confirm page first.

    A page comes back to itself afterwards; a form post is not replayed (the user sends it
    again), and a JSON call answers 403 with code `reauthentication_required`.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated or recently_reauthenticated(request):
            return view(request, *args, **kwargs)
        if request.content_type == "application/json" or "json" in request.headers.get(
            "Accept", ""
        ):
            return JsonResponse(
                {
                    "detail": "Confirm it is you (password or second factor) and try again.",
                    "code": "reauthentication_required",
                },
                status=403,
            )
        next_url = request.get_full_path() if request.method == "GET" else request.path
        return redirect(confirm_url(next_url))

    return wrapped


def guard_form(
    form_class: type[forms.BaseForm], request: HttpRequest, fields: set[str]
) -> type[forms.BaseForm]:
    """The form, refusing to save a change to any of `fields` without a fresh confirmation.

    The error keeps what was typed and links to the confirm page (for the back office,
    whose forms cannot be sent through a redirect).
    """

    class Guarded(form_class):
        def clean(self):
            cleaned = super().clean()
            if set(self.changed_data) & fields and not recently_reauthenticated(request):
                raise ValidationError(
                    format_html(
                        'This change needs you to <a href="{}">confirm it is you</a> '
                        "(password or second factor) first; then save again.",
                        confirm_url(request.get_full_path()),
                    ),
                    code="reauthentication_required",
                )
            return cleaned

    Guarded.__name__ = form_class.__name__
    return Guarded


if TYPE_CHECKING:
    from django.contrib import admin

    # The mixin only ever sits before a ModelAdmin in a class's bases.
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class ReauthenticatedAdminMixin(_ModelAdmin):
    """Back-office saves and deletions need a fresh confirmation (for second-factor devices)."""

    def changeform_view(self, request, *args, **kwargs):
        if request.method == "POST" and not recently_reauthenticated(request):
            return redirect(confirm_url(request.get_full_path()))
        return super().changeform_view(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        if request.method == "POST" and not recently_reauthenticated(request):
            return redirect(confirm_url(request.get_full_path()))
        return super().delete_view(request, *args, **kwargs)


@receiver(user_logged_in)
def _fresh_after_sign_in(sender, request, user, **kwargs):
    # The password was just typed: that is as fresh as a confirmation gets.
    if request is not None and hasattr(request, "session"):
        mark_reauthenticated(request)
