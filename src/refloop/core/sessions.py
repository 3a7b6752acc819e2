"""Automatic logoff: a signed-in session ends after a spell without activity, and at an
absolute limit however busy it is.

Both clocks live in the session itself. Every request counts as activity except those
to views marked `passive` (htmx polling a progress bar, the sign-out warning asking how
long is left), so a page left open on a poll still signs its user out.
"""

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from refloop.core import audit
from refloop.core.audit import Touch

SIGNED_IN_AT = "refloop_signed_in_at"
LAST_ACTIVITY = "refloop_last_activity"
SECONDS_LEFT_HEADER = "X-Session-Seconds-Left"


def passive(view: Callable) -> Callable:
    """Mark a view whose requests do not count as activity (background polling)."""
    view.session_passive = True
    return view


def idle_limit() -> timedelta:
    return timedelta(minutes=settings.SESSION_IDLE_MINUTES)


def absolute_limit() -> timedelta:
    return timedelta(hours=settings.SESSION_MAX_HOURS)


def _read(session, key: str) -> datetime | None:
    value = session.get(key)
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def start(session, now: datetime) -> None:
    session[SIGNED_IN_AT] = now.timestamp()
    session[LAST_ACTIVITY] = now.timestamp()


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    # Every way in (workspace, admin, portal invitation) ends in django's login().
    if request is not None:
        start(request.session, timezone.now())


def ends_at(session, now: datetime) -> datetime:
    """When this session will end if nothing else happens."""
    signed_in_at = _read(session, SIGNED_IN_AT) or now
    last_activity = _read(session, LAST_ACTIVITY) or now
    return min(last_activity + idle_limit(), signed_in_at + absolute_limit())


def expiry_reason(session, now: datetime) -> str | None:
    """'idle' or 'absolute' when the session is over at `now`; None while it lasts.

    At exactly the limit it is over: 15 minutes without activity is the 15 minutes.
    """
    last_activity = _read(session, LAST_ACTIVITY)
    if last_activity is not None and now - last_activity >= idle_limit():
        return "idle"
    signed_in_at = _read(session, SIGNED_IN_AT)
    if signed_in_at is not None and now - signed_in_at >= absolute_limit():
        return "absolute"
    return None


def seconds_left(session, now: datetime) -> int:
    # Rounded up: 0 only once the session is over, so the warning never reloads early.
    return max(0, math.ceil((ends_at(session, now) - now).total_seconds()))


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def signed_out_sentence(reason: str) -> str:
    if reason == "idle":
        minutes = _plural(settings.SESSION_IDLE_MINUTES, "minute")
        return f"You were signed out after {minutes} without activity. Sign in again to continue."
    hours = _plural(settings.SESSION_MAX_HOURS, "hour")
    return (
        f"You were signed out because a sign-in lasts at most {hours}. Sign in again to continue."
    )


class AutomaticLogoffMiddleware:
    """Ends a session that has run out, before the view runs; otherwise records activity.

    A page request then goes on as a signed-out visitor (its view sends it to sign in,
    with the page to come back to); an htmx request gets HX-Redirect, so the whole page
    goes to sign in instead of the sign-in form being swapped into a fragment.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated and SIGNED_IN_AT in request.session:
            response[SECONDS_LEFT_HEADER] = str(seconds_left(request.session, timezone.now()))
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        now = timezone.now()
        session = request.session
        if SIGNED_IN_AT not in session:
            start(session, now)  # signed in before automatic logoff existed
            return None
        reason = expiry_reason(session, now)
        if reason is not None:
            return self.sign_out(request, reason)
        if not getattr(view_func, "session_passive", False):
            session[LAST_ACTIVITY] = now.timestamp()
        return None

    def sign_out(self, request: HttpRequest, reason: str) -> HttpResponse | None:
        user = request.user
        audit.record(
            "auth.session_expired", Touch("user", user.pk), actor=user, detail={"reason": reason}
        )
        logout(request)
        messages.info(request, signed_out_sentence(reason))
        if request.headers.get("HX-Request") != "true":
            return None
        response = HttpResponse(status=204)
        response["HX-Redirect"] = redirect_to_login(_htmx_page(request))["Location"]
        return response


def _htmx_page(request: HttpRequest) -> str:
    """The page an htmx request came from (path and query only), to come back to."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    return (current.path or "/") + (f"?{current.query}" if current.query else "")
