"""Sign-in, sign-out, the navigation each role gets, notifications and the logo."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from refloop.core.models import AuditEntry
from refloop.core.notifications import notify
from refloop.practice.models import Organization, validate_logo

PASSWORD = "correct horse battery staple"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def nav_labels(page) -> list[str]:
    html = page.content.decode()
    start = html.index('<ul class="nav-items">')
    return [
        label
        for label in ("Worklist", "New referral", "Outbound", "Outreach", "Audit log")
        if f"<span>{label}</span>" in html[start : html.index("</ul>", start)]
    ]


def test_signed_out_visitors_are_sent_to_sign_in(client, org):
    response = client.get("/referrals/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/referrals/")


def test_sign_in_and_sign_out_are_audited(client, cora):
    response = client.post("/login/", {"username": "cora", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="auth.login", actor=cora).exists()
    client.post("/logout/")
    assert AuditEntry.objects.filter(action="auth.logout", actor=cora).exists()


def test_a_failed_sign_in_is_audited_without_the_password(client, cora):
    client.post("/login/", {"username": "cora", "password": "guess-1234"})
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.detail == {"username": "cora"}
    assert "guess-1234" not in str(entry.detail)


def test_repeated_failures_lock_the_username_even_with_the_right_password(client, cora, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/login/", {"username": "cora", "password": "wrong"})
    response = client.post("/login/", {"username": "cora", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert not AuditEntry.objects.filter(action="auth.login").exists()


def test_another_username_is_not_locked_by_someone_elses_failures(client, cora, ada, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/login/", {"username": "cora", "password": "wrong"})
    response = client.post("/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302


def test_sign_out_needs_a_post(client, cora):
    client.force_login(cora)
    assert client.get("/logout/").status_code == 405


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("ada", ["Worklist", "New referral", "Outbound", "Outreach", "Audit log"]),
        ("cora", ["Worklist", "New referral", "Outbound"]),
        ("cliff", ["Worklist", "Outbound"]),
        ("lia", ["Worklist", "Outreach"]),
        ("andy", []),
    ],
)
def test_navigation_shows_each_role_only_what_it_may_use(client, request, user, expected):
    client.force_login(request.getfixturevalue(user))
    page = client.get("/password/")
    assert page.status_code == 200
    assert nav_labels(page) == expected


def test_an_analyst_starts_on_the_analytics_dashboard_not_the_worklist(client, andy):
    client.force_login(andy)
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/analytics/"
    assert client.get("/referrals/").status_code == 403


def test_portal_users_are_refused_the_workspace(client, pam):
    client.force_login(pam)
    response = client.get("/referrals/")
    assert response.status_code == 403
    assert "referral portal" in response.content.decode()


def test_password_change_keeps_the_user_signed_in(client, cora):
    client.force_login(cora)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
        follow=True,
    )
    assert "Your password was changed." in response.content.decode()
    cora.refresh_from_db()
    assert cora.check_password("a much longer passphrase 42")


def test_password_change_errors_show_beside_the_field(client, cora):
    client.force_login(cora)
    response = client.post(
        "/password/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    html = response.content.decode()
    assert 'id="id_old_password_error"' in html
    assert 'aria-invalid="true"' in html


def test_opening_a_notification_marks_it_read_and_opens_the_referral(client, cora, referral):
    notify(cora, kind="referral.assigned", text="assigned", referral=referral)
    notice = cora.notifications.get()
    client.force_login(cora)
    response = client.post(f"/notifications/{notice.pk}/open")
    assert response["Location"] == f"/referrals/{referral.pk}/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_nobody_can_open_someone_elses_notification(client, cora, ada, referral):
    notify(cora, kind="referral.assigned", text="assigned", referral=referral)
    client.force_login(ada)
    assert client.post(f"/notifications/{cora.notifications.get().pk}/open").status_code == 404
    assert cora.notifications.get().read_at is None


def test_the_bell_panel_lists_only_the_users_unread_notices(client, cora, ada, referral):
    notify(cora, kind="referral.assigned", text="for cora", referral=referral)
    notify(ada, kind="referral.assigned", text="for ada", referral=referral)
    client.force_login(cora)
    panel = client.get("/notifications/", headers={"HX-Request": "true"}).content.decode()
    assert "for cora" in panel and "for ada" not in panel
    client.post("/notifications/read-all")
    panel = client.get("/notifications/", headers={"HX-Request": "true"}).content.decode()
    assert "No unread notifications." in panel


def test_the_logo_is_served_when_set_and_absent_otherwise(client, org, settings, tmp_path):
    assert client.get("/branding/logo").status_code == 404
    organization = Organization.current()
    organization.logo.save("logo.png", SimpleUploadedFile("logo.png", PNG))
    response = client.get("/branding/logo")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG


def test_a_logo_that_is_not_an_image_is_refused():
    with pytest.raises(ValidationError, match="PNG or JPEG"):
        validate_logo(SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>"))


def test_the_sign_in_page_points_referrers_without_an_account_to_the_public_pages(client, org):
    html = client.get("/login/").content.decode()
    assert 'href="/refer/"' in html and 'href="/refer/form/"' in html


def test_the_desk_bar_holds_eight_pages_and_the_admin_finds_outbound_under_more(ada, cora):
    from refloop.workspace.shell import BAR_PAGES, navigation_for

    admin = navigation_for(ada, "/referrals/")
    assert len([i for i in admin if not i["more"]]) <= BAR_PAGES
    assert [i["more"] for i in admin if i["label"] == "Outbound"] == [True]
    assert [i["more"] for i in admin if i["label"] in ("Settings", "Feedback")] == [False, False]
    coordinator = navigation_for(cora, "/referrals/")
    assert [i["more"] for i in coordinator if i["label"] == "Outbound"] == [False]
