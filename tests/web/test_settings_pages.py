"""Settings: each change an admin makes takes effect and is audited; other roles are
refused; the boundaries (self-demotion, duplicate usernames, bad time zones) say what to fix.
Django's admin is for support staff (superusers) only."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from refloop.core.models import AuditEntry
from refloop.core.reauth import SESSION_KEY
from refloop.demo import factories as f
from refloop.practice.models import Department, Location, Organization
from refloop.referrals import clocks
from refloop.referrals.models import Referral, State
from tests import samples

User = get_user_model()


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)  # a fresh sign-in counts as a recent confirmation
    return client


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


def stale(client: Client) -> None:
    """The admin signed in long enough ago that a security change asks to confirm again."""
    session = client.session
    session[SESSION_KEY] = (timezone.now() - dt.timedelta(hours=1)).timestamp()
    session.save()


SETTINGS_PAGES = [
    ("settings_home", []),
    ("settings_practice", []),
    ("settings_sla", []),
    ("settings_departments", []),
    ("settings_users", []),
    ("settings_user_new", []),
    ("message_settings", []),
]


@pytest.mark.parametrize("name,args", SETTINGS_PAGES)
def test_an_admin_opens_every_settings_page(admin_client, name, args):
    response = admin_client.get(reverse(name, args=args))
    assert response.status_code == 200
    assert b"Settings" in response.content


@pytest.mark.parametrize("who", ["cora", "cliff", "lia", "andy"])
@pytest.mark.parametrize("name", [n for n, _ in SETTINGS_PAGES])
def test_other_roles_are_refused_every_settings_page(request, client, who, name):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("who", ["cora", "cliff", "lia", "andy"])
def test_other_roles_cannot_change_settings_by_posting(request, client, who, cora):
    client.force_login(request.getfixturevalue(who))
    before = Organization.current().name
    assert client.post(reverse("settings_practice"), {"name": "Taken over"}).status_code == 403
    assert (
        client.post(reverse("settings_user_active", args=[cora.pk]), {"active": "0"}).status_code
        == 403
    )
    assert Organization.current().name == before
    cora.refresh_from_db()
    assert cora.is_active


def test_the_navigation_has_one_settings_item_for_admins_only(admin_client, client, cora):
    page = admin_client.get(reverse("settings_home")).content.decode()
    assert page.count(f'href="{reverse("settings_home")}"') >= 1
    assert "Message settings</span>" not in page
    client.force_login(cora)
    assert reverse("settings_home") not in client.get(reverse("notifications")).content.decode()


# ---- the practice ----------------------------------------------------------------


def practice_form(**changes):
    org = Organization.current()
    return {
        "name": org.name,
        "time_zone": org.time_zone,
        "phone": org.phone,
        "fax": org.fax,
        **changes,
    }


def test_the_practice_name_and_time_zone_are_saved_and_audited(admin_client, ada):
    response = admin_client.post(
        reverse("settings_practice"),
        practice_form(name="Lakeside Orthopedics", time_zone="America/Denver", phone="555-0100"),
    )
    assert response.status_code == 302
    org = Organization.current()
    assert (org.name, org.time_zone, org.phone) == (
        "Lakeside Orthopedics",
        "America/Denver",
        "555-0100",
    )
    entry = last_audit("settings.practice_changed")
    assert entry.actor == ada
    assert entry.detail["time_zone"][1] == "America/Denver"
    assert entry.detail["name"][1] == "Lakeside Orthopedics"
    # The shell shows the new name at once.
    assert "Lakeside Orthopedics" in admin_client.get(reverse("settings_home")).content.decode()


def test_an_unknown_time_zone_is_refused_with_what_to_type(admin_client):
    before = Organization.current().time_zone
    response = admin_client.post(
        reverse("settings_practice"), practice_form(time_zone="Mars/Olympus")
    )
    assert response.status_code == 422
    assert "is not a known time zone (e.g. America/Chicago)" in response.content.decode()
    assert Organization.current().time_zone == before
    assert not AuditEntry.objects.filter(action="settings.practice_changed").exists()


def test_saving_without_changes_records_nothing(admin_client):
    assert admin_client.post(reverse("settings_practice"), practice_form()).status_code == 302
    assert not AuditEntry.objects.filter(action="settings.practice_changed").exists()


def test_a_logo_is_uploaded_served_and_removed(admin_client):
    client = Client()
    upload = SimpleUploadedFile("logo.png", samples.png(), content_type="image/png")
    response = admin_client.post(reverse("settings_practice"), {**practice_form(), "logo": upload})
    assert response.status_code == 302
    assert last_audit("settings.practice_changed").detail == {"logo": "replaced"}
    served = client.get(reverse("logo"))  # signed out: the sign-in page shows it too
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"

    admin_client.post(reverse("settings_practice"), {**practice_form(), "remove_logo": "on"})
    assert not Organization.current().logo
    assert last_audit("settings.practice_changed").detail == {"logo": "removed"}
    assert client.get(reverse("logo")).status_code == 404


def test_a_logo_that_is_not_an_image_is_refused(admin_client):
    upload = SimpleUploadedFile(
        "logo.png", b"<html><script>x</script></html>", content_type="image/png"
    )
    response = admin_client.post(reverse("settings_practice"), {**practice_form(), "logo": upload})
    assert response.status_code == 422
    assert "The logo was refused." in response.content.decode()
    assert not Organization.current().logo


# ---- SLA targets -----------------------------------------------------------------


def sla_form(**changes):
    org = Organization.current()
    fields = (
        "sla_stat_hours",
        "sla_urgent_hours",
        "sla_routine_hours",
        "report_within_hours",
        "max_contact_attempts",
    )
    return {**{name: getattr(org, name) for name in fields}, **changes}


def test_a_new_first_contact_target_applies_to_referrals_received_from_then_on(
    admin_client, cora, spine, provider_a
):
    response = admin_client.post(reverse("settings_sla"), sla_form(sla_routine_hours=24))
    assert response.status_code == 302
    assert last_audit("settings.sla_changed").detail == {"sla_routine_hours": [48, 24]}
    referral = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    referral.refresh_from_db()
    if referral.urgency == "routine":
        assert referral.first_contact_due_at - referral.received_at == dt.timedelta(hours=24)
    assert Organization.current().first_contact_sla("routine") == dt.timedelta(hours=24)


def test_the_report_target_is_read_by_the_clocks(admin_client, referral):
    seen_at = timezone.now() - dt.timedelta(hours=100)
    Referral.objects.filter(pk=referral.pk).update(state=State.SEEN, seen_at=seen_at)
    referral.refresh_from_db()
    now = timezone.now()
    assert not clocks.clock(referral, now, kind=clocks.REPORT).overdue  # 168 h by default

    assert (
        admin_client.post(reverse("settings_sla"), sla_form(report_within_hours=72)).status_code
        == 302
    )
    assert last_audit("settings.sla_changed").detail == {"report_within_hours": [168, 72]}
    found = clocks.clock(referral, now, kind=clocks.REPORT)
    assert found.overdue
    assert found.target == dt.timedelta(hours=72)
    overdue = Referral.objects.filter(clocks.clock_q(clocks.REPORT, "overdue", now=now))
    assert list(overdue) == [referral]


def test_a_target_of_zero_hours_is_refused(admin_client):
    response = admin_client.post(reverse("settings_sla"), sla_form(sla_stat_hours=0))
    assert response.status_code == 422
    assert Organization.current().sla_stat_hours == 4
    assert not AuditEntry.objects.filter(action="settings.sla_changed").exists()


# ---- departments -----------------------------------------------------------------


def test_a_department_is_added_with_members_and_audited(admin_client, cora, cliff):
    response = admin_client.post(
        reverse("settings_departments"),
        {
            "name": "Sports Medicine",
            "code": "sports",
            "description": "Sprains and tears",
            "point_of_contact": cora.pk,
            "members": [cora.pk, cliff.pk],
        },
    )
    assert response.status_code == 302
    department = Department.objects.get(code="sports")
    assert department.point_of_contact == cora
    assert set(department.staff.all()) == {cora, cliff}
    entry = last_audit("settings.department_created")
    assert entry.detail["members"] == sorted([cora.pk, cliff.pk])
    page = admin_client.get(reverse("settings_departments")).content.decode()
    assert "Sports Medicine" in page


def test_a_department_name_already_used_is_refused(admin_client, spine):
    response = admin_client.post(
        reverse("settings_departments"), {"name": "spine", "code": "spine2"}
    )
    assert response.status_code == 422
    assert "There is already a department named spine." in response.content.decode()
    assert Department.objects.count() == 1


def test_a_department_is_renamed_and_its_members_changed(admin_client, spine, cliff, hana):
    response = admin_client.post(
        reverse("settings_department", args=[spine.pk]),
        {"name": "Spine Center", "description": "", "members": [hana.pk]},
    )
    assert response.status_code == 302
    spine.refresh_from_db()
    assert spine.name == "Spine Center"
    assert list(spine.staff.all()) == [hana]
    detail = last_audit("settings.department_changed").detail
    assert detail["name"] == ["Spine", "Spine Center"]
    assert detail["members"] == [[cliff.pk], [hana.pk]]


# ---- users and roles -------------------------------------------------------------


def new_user_form(**changes):
    return {
        "username": "nora",
        "first_name": "Nora",
        "last_name": "Vance",
        "email": "nora@example.org",
        "role": "coordinator",
        **changes,
    }


def test_a_new_user_gets_a_one_time_link_to_choose_a_password(admin_client, ada, spine, settings):
    client = Client()
    settings.BASE_URL = "https://refer.example.org"
    response = admin_client.post(
        reverse("settings_user_new"), new_user_form(departments=[spine.pk])
    )
    nora = User.objects.get(username="nora")
    assert response.status_code == 302
    assert response["Location"] == reverse("settings_user", args=[nora.pk])
    assert not nora.has_usable_password()
    assert list(nora.departments.all()) == [spine]
    entry = last_audit("user.created")
    assert entry.actor == ada
    assert entry.detail == {"username": "nora", "role": "coordinator", "departments": [spine.pk]}

    (email,) = mail.outbox
    assert email.to == ["nora@example.org"]
    link = re.search(r"https://refer\.example\.org(/password-reset/\S+)", email.body).group(1)
    # The link lets Nora choose her password, once.
    confirm = client.get(link, follow=True)
    assert confirm.status_code == 200
    form_url = confirm.redirect_chain[-1][0]
    done = client.post(
        form_url,
        {"new_password1": "a long new password 9", "new_password2": "a long new password 9"},
    )
    assert done.status_code == 302
    nora.refresh_from_db()
    assert nora.check_password("a long new password 9")
    again = Client().get(link, follow=True)  # the link worked once
    assert again.context["validlink"] is False


def test_a_username_already_taken_is_refused_clearly(admin_client, cora):
    response = admin_client.post(reverse("settings_user_new"), new_user_form(username="CORA"))
    assert response.status_code == 422
    assert "The username CORA is already taken; choose another." in response.content.decode()
    assert "Nora" in response.content.decode()  # what was typed is kept
    assert not User.objects.filter(email="nora@example.org").exists()
    assert not mail.outbox


def test_a_portal_role_cannot_be_given_here(admin_client):
    response = admin_client.post(reverse("settings_user_new"), new_user_form(role="portal"))
    assert response.status_code == 422
    assert not User.objects.filter(username="nora").exists()


def test_the_users_page_lists_role_departments_second_factor_and_sign_in(admin_client, cliff, pam):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=cliff, name="phone", confirmed=True)
    cliff.last_login = timezone.now()
    cliff.save(update_fields=["last_login"])
    page = admin_client.get(reverse("settings_users")).content.decode()
    row = re.search(
        r'<tr>\s*<th scope="row"><a href="{}">.*?</tr>'.format(
            reverse("settings_user", args=[cliff.pk])
        ),
        page,
        re.S,
    ).group(0)
    assert "Clinician" in row
    assert "Spine" in row
    assert '<span class="pill ok">Yes</span>' in row
    assert "Never" not in row
    assert "pam" not in page  # portal users are invited, not managed here


def test_a_role_change_takes_effect_and_is_audited(admin_client, client, cora):
    response = admin_client.post(
        reverse("settings_user", args=[cora.pk]),
        {
            "first_name": cora.first_name,
            "last_name": cora.last_name,
            "email": cora.email,
            "role": "analyst",
        },
    )
    assert response.status_code == 302
    cora.refresh_from_db()
    assert cora.role == "analyst"
    assert last_audit("user.role_changed").detail["role"] == ["coordinator", "analyst"]
    client.force_login(cora)
    assert client.get(reverse("worklist")).status_code == 403  # analysts have no worklist


def test_an_admin_cannot_take_away_their_own_admin_role(admin_client, ada):
    response = admin_client.post(
        reverse("settings_user", args=[ada.pk]),
        {"first_name": "Ada", "last_name": "L", "email": ada.email, "role": "coordinator"},
    )
    assert response.status_code == 422
    assert "You cannot take away your own admin role" in response.content.decode()
    ada.refresh_from_db()
    assert ada.role == "admin"
    assert not AuditEntry.objects.filter(action="user.role_changed").exists()


def test_an_admin_cannot_deactivate_themselves(admin_client, ada):
    response = admin_client.post(
        reverse("settings_user_active", args=[ada.pk]), {"active": "0"}, follow=True
    )
    assert "You cannot deactivate your own account" in response.content.decode()
    ada.refresh_from_db()
    assert ada.is_active


def test_a_deactivated_user_is_signed_out_and_kept(admin_client, cora):
    client = Client()
    client.force_login(cora)
    response = admin_client.post(reverse("settings_user_active", args=[cora.pk]), {"active": "0"})
    assert response.status_code == 302
    cora.refresh_from_db()
    assert not cora.is_active  # deactivated, never deleted
    assert last_audit("user.deactivated").object_id == str(cora.pk)
    assert client.get(reverse("worklist")).status_code == 302  # back to sign in
    admin_client.post(reverse("settings_user_active", args=[cora.pk]), {"active": "1"})
    cora.refresh_from_db()
    assert cora.is_active
    assert last_audit("user.reactivated").object_id == str(cora.pk)


def test_user_changes_need_a_recent_confirmation(admin_client, cora):
    stale(admin_client)
    response = admin_client.post(
        reverse("settings_user", args=[cora.pk]),
        {"first_name": "C", "last_name": "D", "email": cora.email, "role": "admin"},
    )
    assert response.status_code == 422
    assert "confirm it is you" in response.content.decode()
    refused = admin_client.post(reverse("settings_user_active", args=[cora.pk]), {"active": "0"})
    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("reauthenticate"))
    cora.refresh_from_db()
    assert cora.role == "coordinator" and cora.is_active


def test_the_second_factor_policy_is_saved_and_audited(admin_client):
    response = admin_client.post(
        reverse("settings_mfa_policy"), {"roles": ["clinician", "coordinator"]}
    )
    assert response.status_code == 302
    assert Organization.current().mfa_required_roles == ["clinician", "coordinator"]
    assert last_audit("settings.mfa_policy_changed").detail == {
        "mfa_required_roles": [[], ["clinician", "coordinator"]]
    }


def test_a_new_password_link_can_be_sent(admin_client, cora):
    response = admin_client.post(reverse("settings_user_link", args=[cora.pk]))
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == [cora.email]
    assert last_audit("user.password_link_sent").object_id == str(cora.pk)


def test_a_users_lost_second_factors_are_removed_and_audited(admin_client, ada, cora):
    """A coordinator lost their phone and their recovery codes: an admin removes every
    factor; the coordinator enrols again. An admin's own go through their security page."""
    TOTPDevice.objects.create(user=cora, name="Phone", confirmed=True)
    StaticDevice.objects.create(user=cora, name="Recovery codes", confirmed=True)
    page = admin_client.get(reverse("settings_user", args=[cora.pk])).content.decode()
    assert reverse("settings_user_second_factors", args=[cora.pk]) in page

    response = admin_client.post(reverse("settings_user_second_factors", args=[cora.pk]))

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cora).exists()
    assert not StaticDevice.objects.filter(user=cora).exists()
    entry = last_audit("mfa.devices_reset")
    assert (entry.object_id, entry.actor_id, entry.detail) == (str(cora.pk), ada.pk, {"removed": 1})
    refused = admin_client.post(reverse("settings_user_second_factors", args=[ada.pk]), follow=True)
    assert "managed on your sign-in security page" in refused.content.decode()
    assert AuditEntry.objects.filter(action="mfa.devices_reset").count() == 1


def test_removing_second_factors_needs_a_recent_confirmation(admin_client, cora):
    TOTPDevice.objects.create(user=cora, name="Phone", confirmed=True)
    stale(admin_client)
    refused = admin_client.post(reverse("settings_user_second_factors", args=[cora.pk]))
    assert refused["Location"].startswith(reverse("reauthenticate"))
    assert TOTPDevice.objects.filter(user=cora).exists()


def test_portal_users_are_not_found_here(admin_client, pam):
    assert admin_client.get(reverse("settings_user", args=[pam.pk])).status_code == 404


# ---- the back office -------------------------------------------------------------


def test_a_practice_admin_who_is_not_support_staff_is_kept_out_of_the_back_office(
    admin_client, ada
):
    ada.is_staff = True  # even with Django's staff flag
    ada.save(update_fields=["is_staff"])
    index = admin_client.get("/admin/")
    assert index.status_code in (302, 403)
    assert admin_client.get("/admin/login/").status_code == 403
    assert admin_client.get(reverse("admin:core_apitoken_changelist")).status_code in (302, 403)
    menu = admin_client.get(reverse("settings_home")).content.decode()
    assert 'href="/admin/"' not in menu


def test_support_staff_open_the_back_office(admin_client, ada):
    ada.is_superuser = True
    ada.save(update_fields=["is_superuser"])
    assert admin_client.get("/admin/").status_code == 200
    assert 'href="/admin/"' in admin_client.get(reverse("settings_home")).content.decode()


def test_a_deactivated_point_of_contact_is_flagged_on_the_departments_page(
    admin_client, spine, cora
):
    spine.point_of_contact = cora
    spine.save(update_fields=["point_of_contact"])
    admin_client.post(reverse("settings_user_active", args=[cora.pk]), {"active": "0"})
    page = admin_client.get(reverse("settings_departments")).content.decode()
    assert "(deactivated: choose someone else)" in page


def department_form(department, **changes):
    return {"name": department.name, "description": department.description, **changes}


def test_a_departments_intake_criteria_are_saved_and_audited(admin_client, spine):
    response = admin_client.post(
        reverse("settings_department", args=[spine.pk]),
        department_form(
            spine,
            accepted_conditions="M54, M51 ,",
            excluded_keywords="pregnant",
            min_age="18",
            required_documents=["referral_letter", "imaging"],
        ),
    )
    assert response.status_code == 302
    spine.refresh_from_db()
    assert spine.accepted_conditions == ["M54", "M51"]
    assert spine.excluded_keywords == ["pregnant"]
    assert spine.min_age == 18
    assert spine.required_documents == ["referral_letter", "imaging"]
    detail = last_audit("settings.department_changed").detail
    assert detail["min_age"] == [None, 18]
    assert detail["required_documents"] == [[], ["referral_letter", "imaging"]]
    page = admin_client.get(reverse("settings_department", args=[spine.pk])).content.decode()
    assert 'value="M54, M51"' in page


def test_an_age_range_upside_down_is_refused(admin_client, spine):
    response = admin_client.post(
        reverse("settings_department", args=[spine.pk]),
        department_form(spine, min_age="65", max_age="18"),
    )
    assert response.status_code == 422
    assert "The oldest age must not be below the youngest." in response.content.decode()
    spine.refresh_from_db()
    assert spine.min_age is None


def test_a_location_is_added_and_changed_and_audited(admin_client):
    form = {"name": "North Clinic", "address": "1 Main St", "city": "Springfield", "state": "il"}
    response = admin_client.post(reverse("settings_location_new"), form)
    assert response.status_code == 302
    location = Location.objects.get(name="North Clinic")
    assert location.state == "IL"
    assert last_audit("settings.location_created").detail["city"] == ["", "Springfield"]
    assert "North Clinic" in admin_client.get(reverse("settings_practice")).content.decode()

    response = admin_client.post(
        reverse("settings_location", args=[location.pk]), {**form, "phone": "555-0101"}
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.phone == "555-0101"
    assert last_audit("settings.location_changed").detail == {"phone": ["", "555-0101"]}


def test_a_location_with_a_bad_state_is_refused(admin_client):
    response = admin_client.post(reverse("settings_location_new"), {"name": "X", "state": "1L"})
    assert response.status_code == 422
    assert "Use the two-letter state code" in response.content.decode()
    assert not Location.objects.exists()
