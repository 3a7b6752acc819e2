"""Second factors: sign-in with TOTP, recovery codes, enrolment when required, the back office
behind the same gate, and a fresh confirmation before security changes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from refloop.core.models import AuditEntry
from refloop.core.roles import Role
from refloop.practice.models import Organization
from refloop.workspace.mfa import devices
from refloop.workspace.mfa.checks import mfa_enforced

PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def enforced(settings):
    settings.MFA_ENFORCED = True


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def code_of(device: TOTPDevice) -> str:
    """What the user's app shows now, from the device's key (django-otp's own TOTP)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client: Client, username: str) -> None:
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "the password step failed"


def gate_of(response) -> str:
    assert response.status_code == 302
    return response["Location"].split("?")[0]


def test_password_and_a_totp_code_sign_in(client, cora, clock):
    device = authenticator(cora)
    sign_in(client, "cora")
    assert gate_of(client.get("/referrals/")) == "/security/verify/"

    response = client.post("/security/verify/", {"code": code_of(device), "next": "/referrals/"})

    assert response["Location"] == "/referrals/"
    assert client.get("/referrals/").status_code == 200
    entry = AuditEntry.objects.get(action="auth.mfa_verified", actor=cora)
    assert entry.detail == {"method": "totp"}


def test_a_wrong_code_is_refused_and_audited(client, cora, clock):
    device = authenticator(cora)
    sign_in(client, "cora")
    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"

    response = client.post("/security/verify/", {"code": wrong})

    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert gate_of(client.get("/referrals/")) == "/security/verify/"
    failure = AuditEntry.objects.get(action="auth.mfa_failed")
    assert failure.actor == cora
    assert failure.detail == {"username": "cora", "method": "totp"}


def test_a_code_is_not_accepted_twice(client, cora, clock):
    device = authenticator(cora)
    code = code_of(device)
    sign_in(client, "cora")
    client.post("/security/verify/", {"code": code})
    other = Client()
    sign_in(other, "cora")

    response = other.post("/security/verify/", {"code": code})

    assert response.status_code == 200
    assert gate_of(other.get("/referrals/")) == "/security/verify/"


def test_a_recovery_code_works_once(client, cora, clock):
    authenticator(cora)
    code = devices.issue_recovery_codes(cora)[0]
    sign_in(client, "cora")

    response = client.post("/security/verify/", {"code": code.upper(), "next": "/referrals/"})

    assert response["Location"] == "/referrals/"
    assert client.get("/referrals/").status_code == 200
    assert StaticToken.objects.filter(device__user=cora).count() == devices.RECOVERY_CODE_COUNT - 1
    again = Client()
    sign_in(again, "cora")
    assert again.post("/security/verify/", {"code": code}).status_code == 200
    assert gate_of(again.get("/referrals/")) == "/security/verify/"


def test_an_admin_without_a_second_factor_must_enrol_before_any_page(client, ada, clock):
    sign_in(client, "ada")
    for path in ("/referrals/", "/audit/", "/admin/", "/password/", "/refer/"):
        response = client.get(path)
        assert gate_of(response) == "/security/", path
    assert "Set one up to continue" in client.get("/security/").content.decode()

    page = client.get("/security/authenticator/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=ada, confirmed=False)
    response = client.post(
        "/security/authenticator/", {"name": "Work phone", "code": code_of(device), "next": "/"}
    )

    assert gate_of(response) == "/security/recovery-codes/"
    codes_page = client.get(response["Location"]).content.decode()
    shown = re.findall(r"<code>([a-z2-7]{8})</code>", codes_page)
    assert len(shown) == devices.RECOVERY_CODE_COUNT
    assert client.get("/security/recovery-codes/").status_code == 302  # shown once
    assert client.get("/audit/").status_code == 200
    assert AuditEntry.objects.filter(action="mfa.device_added", actor=ada).exists()


def test_the_back_office_refuses_a_session_that_has_not_passed_mfa(client, ada, clock):
    ada.is_staff = ada.is_superuser = True
    ada.save()
    device = authenticator(ada)
    sign_in(client, "ada")

    assert gate_of(client.get("/admin/")) == "/security/verify/"
    assert gate_of(client.get("/admin/core/user/")) == "/security/verify/"
    client.post("/security/verify/", {"code": code_of(device)})
    assert client.get("/admin/core/user/").status_code == 200


def test_the_back_office_sign_in_form_is_not_a_way_around_mfa(client, ada, clock):
    ada.is_staff = ada.is_superuser = True
    ada.save()
    authenticator(ada)

    response = client.post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD})

    assert gate_of(response) == "/login/"
    assert gate_of(client.get("/admin/")) == "/admin/login/"


def require_mfa_of(org: Organization, *roles: Role) -> None:
    org.mfa_required_roles = list(roles)
    org.save(update_fields=["mfa_required_roles"])


def test_a_role_the_admin_marks_required_must_enrol(client, org, cora, lia):
    require_mfa_of(org, Role.COORDINATOR)
    client.force_login(cora)
    assert gate_of(client.get("/referrals/")) == "/security/"

    client.force_login(lia)
    assert client.get("/referrals/").status_code == 200


def test_a_portal_user_may_enrol_but_need_not(client, org, pam):
    client.force_login(pam)
    assert client.get("/portal/").status_code == 200
    page = client.get("/security/").content.decode()
    assert "It is optional for your role" in page


def test_the_practice_can_require_mfa_of_portal_users(client, org, pam, clock):
    require_mfa_of(org, Role.PORTAL)
    sign_in(client, "pam")
    assert gate_of(client.get("/portal/")) == "/security/"

    client.get("/security/authenticator/")
    device = TOTPDevice.objects.get(user=pam, confirmed=False)
    client.post("/security/authenticator/", {"name": "Phone", "code": code_of(device)})

    assert client.get("/portal/").status_code == 200


def test_a_portal_user_with_a_second_factor_must_use_it(client, pam, clock):
    authenticator(pam)
    sign_in(client, "pam")
    assert gate_of(client.get("/portal/")) == "/security/verify/"


def test_enrolment_changes_need_a_fresh_confirmation(client, cora, clock):
    device = authenticator(cora)
    sign_in(client, "cora")
    client.post("/security/verify/", {"code": code_of(device)})
    clock.shift(timedelta(minutes=10))

    assert gate_of(client.get("/security/authenticator/")) == "/security/confirm/"
    refused = client.post("/security/remove", {"device": device.persistent_id})
    assert gate_of(refused) == "/security/confirm/"
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert gate_of(client.post("/security/recovery-codes/new")) == "/security/confirm/"
    json_call = client.post(
        "/security/webauthn/registration/begin/", HTTP_ACCEPT="application/json"
    )
    assert json_call.status_code == 403
    assert json_call.json()["code"] == "reauthentication_required"

    wrong = client.post("/security/confirm/", {"password": "not it at all", "next": "/security/"})
    assert wrong.status_code == 200
    confirmed = client.post("/security/confirm/", {"password": PASSWORD, "next": "/security/"})
    assert confirmed["Location"] == "/security/"
    client.post("/security/remove", {"device": device.persistent_id})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEntry.objects.filter(action="mfa.device_removed", actor=cora).exists()


def test_a_second_factor_also_confirms(client, cora, clock):
    device = authenticator(cora)
    sign_in(client, "cora")
    client.post("/security/verify/", {"code": code_of(device)})
    clock.shift(timedelta(minutes=10))

    response = client.post("/security/confirm/", {"code": code_of(device), "next": "/security/"})

    assert response["Location"] == "/security/"
    assert client.post("/security/recovery-codes/new")["Location"] == "/security/recovery-codes/"


def test_a_role_change_in_the_back_office_needs_a_fresh_confirmation(client, ada, cora, clock):
    ada.is_staff = ada.is_superuser = True
    ada.save()
    device = authenticator(ada)
    sign_in(client, "ada")
    client.post("/security/verify/", {"code": code_of(device)})
    clock.shift(timedelta(minutes=10))
    url = f"/admin/core/user/{cora.pk}/change/"
    form = {
        "username": "cora",
        "first_name": cora.first_name,
        "last_name": cora.last_name,
        "email": cora.email,
        "role": Role.ADMIN,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    refused = client.post(url, form)

    assert refused.status_code == 200
    assert "confirm it is you" in refused.content.decode()
    cora.refresh_from_db()
    assert cora.role == Role.COORDINATOR

    client.post("/security/confirm/", {"password": PASSWORD})
    assert client.post(url, form).status_code == 302
    cora.refresh_from_db()
    assert cora.role == Role.ADMIN


def test_without_enforcement_an_admin_signs_in_with_a_password_alone(client, ada, settings):
    settings.MFA_ENFORCED = False
    sign_in(client, "ada")
    assert client.get("/audit/").status_code == 200


def test_the_sign_in_page_says_when_a_second_factor_is_optional(client, org, settings):
    settings.MFA_ENFORCED = False
    assert "Two-step sign-in is optional" in client.get("/login/").content.decode()
    settings.MFA_ENFORCED = True
    assert "Two-step sign-in is optional" not in client.get("/login/").content.decode()


def test_check_deploy_warns_when_second_factors_are_not_enforced(settings):
    settings.MFA_ENFORCED = False
    assert [w.id for w in mfa_enforced(None)] == ["refloop.mfa.W001"]
    settings.MFA_ENFORCED = True
    assert mfa_enforced(None) == []


def test_removing_someone_elses_authenticator_in_the_back_office_needs_a_fresh_confirmation(
    client, ada, cora, clock
):
    ada.is_staff = ada.is_superuser = True
    ada.save()
    own = authenticator(ada)
    lost_phone = authenticator(cora)
    sign_in(client, "ada")
    client.post("/security/verify/", {"code": code_of(own)})
    clock.shift(timedelta(minutes=10))
    url = f"/admin/otp_totp/totpdevice/{lost_phone.pk}/delete/"

    assert gate_of(client.post(url, {"post": "yes"})) == "/security/confirm/"
    assert TOTPDevice.objects.filter(pk=lost_phone.pk).exists()

    client.post("/security/confirm/", {"password": PASSWORD})
    client.post(url, {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=lost_phone.pk).exists()


def test_wrong_second_factors_count_against_the_sign_in_throttle(client, cora, clock, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    device = authenticator(cora)
    sign_in(client, "cora")
    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
    for _ in range(3):
        client.post("/security/verify/", {"code": wrong})
    # Long enough for the device's own back-off to lift, well inside the throttle's window.
    clock.shift(timedelta(minutes=5))

    refused = client.post("/security/verify/", {"code": code_of(device)})

    assert "Too many failed sign-ins for this username" in refused.content.decode()
    assert gate_of(client.get("/referrals/")) == "/security/verify/"
    clock.shift(timedelta(minutes=11))
    assert (
        gate_of(client.post("/security/verify/", {"code": code_of(device)})) != "/security/verify/"
    )
