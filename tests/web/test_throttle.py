"""One throttle for every way in: workspace, portal and admin sign-in, password reset and
API tokens, per username at an address, per username everywhere, and per address."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from refloop.core.models import ApiToken, AuditEntry
from refloop.core.roles import Role
from refloop.demo import factories as f

PASSWORD = "correct horse battery staple"
ATTACKER = "203.0.113.66"
COLLEAGUE = "198.51.100.7"
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    # Failures count within a window of minutes: a slow run must not age them out.
    with time_machine.travel(NOW, tick=False):
        yield


def at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def fail_sign_in(client: Client, username: str, times: int, path: str = "/login/") -> None:
    for _ in range(times):
        client.post(path, {"username": username, "password": "not the password"})


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 8
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 15
    return settings


@pytest.fixture
def root(org):
    """An administrator who may use Django's admin site."""
    return f.UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)


# ---- the admin sign-in is no way around the lock ------------------------------------


def test_a_username_locked_at_the_workspace_sign_in_is_refused_at_the_admin_sign_in(limits, root):
    attacker = at(ATTACKER)
    fail_sign_in(attacker, "root", 3)
    response = attacker.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert not signed_in(attacker)
    assert not AuditEntry.objects.filter(action="auth.login").exists()
    # The admin's own password form is never used: it sends to the one sign-in page.
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_twenty_wrong_guesses_lock_out_the_right_password_for_the_admin_site_too(root):
    # The default limits: the scenario the review found (20 guesses, then the password).
    attacker = at(ATTACKER)
    fail_sign_in(attacker, "root", 10, path="/admin/login/")
    fail_sign_in(attacker, "root", 10)
    attacker.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert not signed_in(attacker)
    page = attacker.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert "Too many failed sign-ins" in page.content.decode() and not signed_in(attacker)


def test_guesses_posted_to_the_admin_sign_in_check_no_password(limits, root):
    fail_sign_in(at(ATTACKER), "root", 2, path="/admin/login/")
    assert not AuditEntry.objects.filter(action__in=["auth.login", "auth.login_failed"]).exists()


def test_an_administrator_reaches_the_admin_site_through_the_workspace_sign_in(limits, root):
    admin = at(COLLEAGUE)
    response = admin.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and signed_in(admin)
    assert admin.get("/admin/").status_code == 200


def test_every_sign_in_backend_sits_behind_the_throttle(settings, db):
    call_command("check")  # the configured backends pass
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    with pytest.raises(SystemCheckError, match="refloop.throttle.E001"):
        call_command("check")


# ---- portal sign-in --------------------------------------------------------------------


def test_a_portal_users_sign_in_is_locked_after_repeated_failures(limits, pam):
    portal = at(ATTACKER)
    fail_sign_in(portal, "pam", 3)
    page = portal.post("/login/", {"username": "pam", "password": PASSWORD})
    assert "Too many failed sign-ins for this username" in page.content.decode()
    assert not signed_in(portal)


# ---- whose lock: the username at an address, everywhere, or the address ---------------


def test_one_address_cannot_lock_a_colleague_out_from_elsewhere(limits, cora):
    attacker = at(ATTACKER)
    fail_sign_in(attacker, "cora", 5)
    attacker.post("/login/", {"username": "cora", "password": PASSWORD})
    assert not signed_in(attacker)
    colleague = at(COLLEAGUE)
    colleague.post("/login/", {"username": "cora", "password": PASSWORD})
    assert signed_in(colleague)


def test_guessing_spread_over_many_addresses_locks_the_username_everywhere(limits, cora):
    for n in range(3):  # 3 addresses × 3 failures ≥ the username limit of 8
        fail_sign_in(at(f"203.0.113.{n + 1}"), "cora", 3)
    colleague = at(COLLEAGUE)
    page = colleague.post("/login/", {"username": "cora", "password": PASSWORD})
    assert "Too many failed sign-ins" in page.content.decode() and not signed_in(colleague)


def test_one_address_failing_across_many_usernames_is_refused_for_every_username(limits, cora, ada):
    attacker = at(ATTACKER)
    for n in range(6):  # 6 usernames, 1 failure each: no username lock, the address's limit
        fail_sign_in(attacker, f"someone{n}", 1)
    page = attacker.post("/login/", {"username": "ada", "password": PASSWORD})
    assert "Too many failed attempts from your network" in page.content.decode()
    assert not signed_in(attacker)
    # Nobody else is refused: the same usernames sign in from another address.
    colleague = at(COLLEAGUE)
    colleague.post("/login/", {"username": "ada", "password": PASSWORD})
    assert signed_in(colleague)


def test_refused_attempts_do_not_lengthen_the_lock_and_it_ends_with_the_window(limits, cora):
    user = at(COLLEAGUE)
    fail_sign_in(user, "cora", 3)
    for _ in range(5):
        user.post("/login/", {"username": "cora", "password": PASSWORD})
    assert not signed_in(user)
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 3
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        user.post("/login/", {"username": "cora", "password": PASSWORD})
        assert signed_in(user)


# ---- password reset ------------------------------------------------------------------


def test_an_address_asking_resets_for_unknown_accounts_is_refused_after_the_limit(limits, cora):
    prober = at(ATTACKER)
    for n in range(6):
        prober.post("/password-reset/", {"email": f"nobody{n}@example.org"})
    response = prober.post("/password-reset/", {"email": cora.email})
    assert response.status_code == 429 and int(response["Retry-After"]) == 15 * 60
    assert "Too many failed attempts" in response.content.decode()
    assert mail.outbox == []
    # The typed addresses stay out of the log.
    assert "nobody" not in str(list(AuditEntry.objects.values_list("detail", flat=True)))


def test_a_throttled_address_is_refused_a_working_reset_link(limits, cora):
    asker = at(ATTACKER)
    asker.post("/password-reset/", {"email": cora.email})
    [email] = mail.outbox
    link = re.search(
        re.escape(settings.BASE_URL) + r"(/password-reset/\S+/\S+/)", email.body
    ).group(1)
    uid = link.split("/")[2]
    for n in range(6):  # links that do not work count against the address
        response = asker.get(f"/password-reset/{uid}/bad-token-{n}/")
        assert "This link no longer works" in response.content.decode()
    assert asker.get(link).status_code == 429
    # The same link works from elsewhere.
    assert at(COLLEAGUE).get(link).status_code == 302


def test_failed_sign_ins_also_refuse_the_address_a_reset(limits, cora):
    attacker = at(ATTACKER)
    for n in range(6):
        fail_sign_in(attacker, f"someone{n}", 1)
    assert attacker.post("/password-reset/", {"email": cora.email}).status_code == 429
    assert mail.outbox == []


# ---- API tokens ------------------------------------------------------------------------


def test_an_address_sending_bad_tokens_is_answered_429_even_with_a_good_token(limits, cora):
    _, good = ApiToken.issue(cora)
    for n in range(6):
        bad = Client(REMOTE_ADDR=ATTACKER, HTTP_AUTHORIZATION=f"Bearer not-a-token-{n}")
        assert bad.get("/api/v1/referrals").status_code == 401
    failures = AuditEntry.objects.filter(action="auth.token_failed", ip_address=ATTACKER)
    assert failures.count() == 6
    assert "not-a-token" not in str(list(failures.values_list("detail", "object_id")))

    refused = Client(REMOTE_ADDR=ATTACKER, HTTP_AUTHORIZATION=f"Bearer {good}")
    response = refused.get("/api/v1/referrals")
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed attempts from your network. Wait 15 minutes and try again.",
        "field": None,
    }
    assert response["Retry-After"] == str(15 * 60)
    elsewhere = Client(REMOTE_ADDR=COLLEAGUE, HTTP_AUTHORIZATION=f"Bearer {good}")
    assert elsewhere.get("/api/v1/referrals").status_code == 200


def test_the_api_documents_429_on_every_operation(db):
    document = Client().get("/api/v1/openapi.json").json()
    secured = [
        operation
        for operations in document["paths"].values()
        for operation in operations.values()
        if operation.get("security")
    ]
    assert secured and all("429" in operation["responses"] for operation in secured)


def test_an_address_is_refused_on_its_own_failures_of_any_kind_until_they_age_out(limits, db):
    """The address count: every kind of failure from that address within the window, and
    nothing else (other addresses, other actions, older failures)."""
    from refloop.core import audit, context, throttle
    from refloop.core.audit import Touch

    def record(action: str, address: str, minutes_ago: int = 0) -> None:
        with (
            context.using(context.RequestContext(ip_address=address, channel="api")),
            time_machine.travel(NOW - timedelta(minutes=minutes_ago), tick=False),
        ):
            audit.record(action, Touch("user", ""), actor=None)

    ipv6 = "2001:db8::66"
    request = Client(REMOTE_ADDR=ipv6).get("/").wsgi_request
    record("auth.login_failed", ipv6, minutes_ago=16)  # aged out
    for action in ("auth.login_failed", "auth.mfa_failed", "auth.password_reset_failed"):
        record(action, ipv6)
    record("auth.token_failed", ipv6, minutes_ago=14)
    record("referral.read", ipv6)
    for _ in range(3):
        record("auth.token_failed", COLLEAGUE)
    assert throttle.refusal_for(request) is None  # 4 of 6
    record("auth.token_failed", ipv6)
    assert throttle.refusal_for(request) is None  # 5 of 6
    record("auth.login_failed", ipv6)
    assert throttle.refusal_for(request).scope == "address"
    assert throttle.refusal_for(request, now=NOW + timedelta(minutes=1, seconds=1)) is None
