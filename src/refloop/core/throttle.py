"""One throttle for every way in: sign-in (workspace, portal, admin), password reset and
API tokens. Failures are the audit log's rows; nothing else is stored.

Policy, within a sliding window (LOGIN_FAILURE_WINDOW_MINUTES):

- an address with LOGIN_ADDRESS_FAILURE_LIMIT failures of any kind, for any usernames,
  is refused everything here until its failures age out;
- a username with LOGIN_FAILURE_LIMIT failures from one address is refused at that
  address; the same user elsewhere still signs in, so one attacker cannot lock a
  colleague out;
- a username with LOGIN_USERNAME_FAILURE_LIMIT failures from all addresses is refused
  everywhere (guessing spread over many addresses). Since an address adds at most
  LOGIN_FAILURE_LIMIT failures to one username before it is refused, that takes
  several addresses, never one.

A refused attempt is not counted again: a locked-out user retrying the right password
does not lengthen their own lock. Every Django sign-in passes through `GateBackend`,
first in AUTHENTICATION_BACKENDS, so a form added later (the admin's included) cannot
skip it; other entry points call `check` and `failed`.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from refloop.core import audit
from refloop.core.addresses import client_address
from refloop.core.audit import Touch
from refloop.core.models import AuditEntry

# What each kind of failure touches in the audit log; all of them count against the address.
FAILURES = {
    "auth.login_failed": "user",
    "auth.mfa_failed": "user",  # a wrong second factor counts as a wrong password
    "auth.password_reset_failed": "user",
    "auth.token_failed": "api_token",
}
_REFUSAL_ATTRIBUTE = "refloop_throttle_refusal"


@dataclass(frozen=True)
class Refusal:
    scope: str  # "address" or "username"
    message: str
    retry_after_seconds: int


class Throttled(PermissionDenied):
    """Raised by `check`; a PermissionDenied, so Django's authenticate() stops at it."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.refusal = refusal


def refusal_for(
    request: HttpRequest | None, username: str | None = None, *, now: datetime | None = None
) -> Refusal | None:
    """Why this attempt is refused now, or None when it may go ahead."""
    window = timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    address = client_address(request) if request is not None else None
    since = (now or timezone.now()) - window
    wait = int(window.total_seconds())
    minutes = settings.LOGIN_FAILURE_WINDOW_MINUTES
    if address and _address_failures(address, since=since) >= (
        settings.LOGIN_ADDRESS_FAILURE_LIMIT
    ):
        return Refusal(
            "address",
            f"Too many failed attempts from your network. Wait {minutes} minutes and try again.",
            wait,
        )
    if username:
        counts = AuditEntry.objects.filter(
            action__in=("auth.login_failed", "auth.mfa_failed"),
            at__gte=since,
            detail__username=username[:150],
        ).aggregate(
            everywhere=Count("pk"),
            here=Count("pk", filter=Q(ip_address=address)) if address else Count("pk"),
        )
        if (
            counts["here"] >= settings.LOGIN_FAILURE_LIMIT
            or counts["everywhere"] >= settings.LOGIN_USERNAME_FAILURE_LIMIT
        ):
            return Refusal(
                "username",
                f"Too many failed sign-ins for this username. Wait {minutes} minutes or "
                "ask an administrator to reset the password.",
                wait,
            )
    return None


def _address_failures(address: str, *, since: datetime) -> int:
    """Failures of any kind from `address` since `since`: every API request asks, so the
    statement is written once rather than built by the ORM each time (building it cost more
    than running it; the same SQL as `failures.filter(ip_address=address).count()`)."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            _address_failures_sql(),
            [
                *FAILURES,
                ops.adapt_datetimefield_value(since),
                ops.adapt_ipaddressfield_value(address),
            ],
        )
        return cursor.fetchone()[0]


@functools.cache
def _address_failures_sql() -> str:
    actions = ", ".join("%s" for _ in FAILURES)
    return (
        f"SELECT COUNT(*) FROM {AuditEntry._meta.db_table} WHERE action IN ({actions})"  # noqa: S608 (our names; values are parameters)
        " AND at >= %s AND ip_address = %s"
    )


def check(request: HttpRequest | None, username: str | None = None) -> None:
    """Raise Throttled when this attempt is refused; the request remembers why."""
    refusal = refusal_for(request, username)
    if refusal is not None:
        if request is not None:
            setattr(request, _REFUSAL_ATTRIBUTE, refusal)
        raise Throttled(refusal)


def refused(request: HttpRequest | None) -> Refusal | None:
    """The refusal `check` gave this request, if it gave one."""
    return getattr(request, _REFUSAL_ATTRIBUTE, None)


def failed(action: str, *, username: str | None = None) -> None:
    """Record one failed attempt from the current request's address (and for the username).

    The username tried is kept (it names staff, not patients); passwords, tokens and
    typed email addresses never are.
    """
    audit.record(
        action,
        Touch(FAILURES[action], ""),
        actor=None,
        detail={"username": str(username)[:150]} if username is not None else {},
    )


class GateBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a throttled attempt before any backend
    looks at the password, and never authenticates anyone itself.

    It is a ModelBackend only so that a session opened without naming a backend
    (force_login, login() after a reset) reads its user back.
    """

    def authenticate(self, request, username=None, password=None, **credentials):
        check(request, username or credentials.get(get_user_model().USERNAME_FIELD))
        return None


@register()
def gate_comes_first(app_configs, **kwargs) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    backends = settings.AUTHENTICATION_BACKENDS
    gate = f"{GateBackend.__module__}.{GateBackend.__qualname__}"
    if not backends or backends[0] != gate:
        errors.append(
            Error(
                f"{gate} must be the first of AUTHENTICATION_BACKENDS, or sign-ins skip the "
                "throttle.",
                id="refloop.throttle.E001",
            )
        )
    if settings.LOGIN_USERNAME_FAILURE_LIMIT <= settings.LOGIN_FAILURE_LIMIT:
        errors.append(
            Warning(
                "LOGIN_USERNAME_FAILURE_LIMIT should be above LOGIN_FAILURE_LIMIT, or one "
                "address can lock a username out everywhere.",
                id="refloop.throttle.W001",
            )
        )
    return errors
