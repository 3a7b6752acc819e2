"""Invitations to the portal: single use, expiring, only the POST from the confirm page uses
one, the token is never stored, and only admins and coordinators invite."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from refloop.core.models import AuditEntry, User
from refloop.core.roles import Role
from refloop.portal import services
from refloop.portal.models import PortalInvite, token_digest

PASSWORD = "a long portal password 42"


def invite(client, email="nina@prairie.example", practice=None):
    return client.post("/portal-invites/", {"email": email, "practice": practice.pk})


def link_from_outbox() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://\S+/portal/invite/\S+/", body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def accept_form(**overrides) -> dict:
    return {
        "first_name": "Nina",
        "last_name": "Ortiz",
        "username": "nina",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **overrides,
    }


@pytest.fixture
def staff(cora):
    client = Client()
    client.force_login(cora)
    return client


@pytest.fixture
def invited(staff, practice_a):
    answer = invite(staff, practice=practice_a)
    assert answer.status_code == 302
    return link_from_outbox()


def test_coordinator_invites_by_email_and_only_the_digest_is_stored(invited, practice_a, cora):
    token = invited.rstrip("/").rsplit("/", 1)[1]
    stored = PortalInvite.objects.get()
    assert stored.digest == token_digest(token)
    assert (stored.email, stored.practice, stored.invited_by) == (
        "nina@prairie.example",
        practice_a,
        cora,
    )
    assert token not in str(PortalInvite.objects.values().get())
    assert mail.outbox[0].to == ["nina@prairie.example"]
    assert stored.expires_at - stored.created_at == timedelta(days=7)
    assert AuditEntry.objects.filter(action="portal.invite_sent").count() == 1


def test_opening_the_link_shows_the_confirm_page_and_uses_nothing(invited, practice_a):
    client = Client()
    answer = client.get(path_of(invited), follow=True)
    assert answer.status_code == 200
    assert answer.redirect_chain[-1][0] == "/portal/invite/"
    page = answer.content.decode()
    assert practice_a.name in page and "nina@prairie.example" in page
    client.get(path_of(invited), follow=True)
    assert PortalInvite.objects.get().used_at is None
    assert not User.objects.filter(role=Role.PORTAL).exists()


def test_the_confirm_page_creates_a_portal_user_of_the_practice_and_signs_in(invited, practice_a):
    client = Client()
    client.get(path_of(invited))
    answer = client.post("/portal/invite/", accept_form())
    assert answer.status_code == 302 and answer["Location"] == "/portal/"
    user = User.objects.get(username="nina")
    assert (user.role, user.partner_practice, user.email) == (
        Role.PORTAL,
        practice_a,
        "nina@prairie.example",
    )
    assert user.check_password(PASSWORD)
    assert PortalInvite.objects.get().user == user
    assert client.get("/portal/").status_code == 200


def test_an_invite_works_once(invited):
    first, second = Client(), Client()
    first.get(path_of(invited))
    second.get(path_of(invited))
    assert first.post("/portal/invite/", accept_form()).status_code == 302
    answer = second.post("/portal/invite/", accept_form(username="nina2"))
    assert answer.status_code == 410
    assert "already used" in answer.content.decode()
    assert not User.objects.filter(username="nina2").exists()


def test_an_expired_invite_offers_to_ask_for_a_new_one(invited):
    client = Client()
    client.get(path_of(invited))
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        answer = client.get("/portal/invite/")
        assert answer.status_code == 410
        assert "expired" in answer.content.decode()
        assert "new invitation" in answer.content.decode()
        client.get(path_of(invited))
        assert client.post("/portal/invite/", accept_form()).status_code == 410
    assert not User.objects.filter(username="nina").exists()


def test_an_unknown_link_is_refused_plainly(org):
    client = Client()
    client.get("/portal/invite/not-a-real-token/")
    answer = client.get("/portal/invite/")
    assert answer.status_code == 404
    assert "not valid" in answer.content.decode()


def test_the_confirm_form_keeps_what_was_typed_and_names_each_field(invited, pam):
    client = Client()
    client.get(path_of(invited))
    answer = client.post(
        "/portal/invite/",
        accept_form(username="pam", password="short", password_again="other", first_name=""),
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert 'value="Ortiz"' in page
    assert "id_first_name_error" in page
    assert "id_password_again_error" in page
    answer = client.post("/portal/invite/", accept_form(username="pam"))
    assert answer.status_code == 422
    assert "username is taken" in answer.content.decode()
    answer = client.post("/portal/invite/", accept_form(password="short", password_again="short"))
    assert answer.status_code == 422 and "id_password_error" in answer.content.decode()
    assert PortalInvite.objects.get().used_at is None


def test_a_new_invite_replaces_the_open_one(staff, practice_a):
    invite(staff, practice=practice_a)
    old_link = link_from_outbox()
    invite(staff, practice=practice_a)
    client = Client()
    client.get(path_of(old_link))
    assert client.get("/portal/invite/").status_code == 410
    client.get(path_of(link_from_outbox()))
    assert client.get("/portal/invite/").status_code == 200


def test_a_withdrawn_invite_no_longer_works(staff, invited):
    pk = PortalInvite.objects.get().pk
    assert staff.post(f"/portal-invites/{pk}/withdraw").status_code == 302
    client = Client()
    client.get(path_of(invited))
    answer = client.get("/portal/invite/")
    assert answer.status_code == 410 and "withdrawn" in answer.content.decode()


def test_admins_and_coordinators_invite_others_are_refused(ada, lia, cliff, pam, practice_a):
    for user, status in ((ada, 200), (lia, 403), (cliff, 403), (pam, 403)):
        client = Client()
        client.force_login(user)
        assert client.get("/portal-invites/").status_code == status, user
        answer = invite(client, email=f"x-{user.username}@example.org", practice=practice_a)
        assert answer.status_code == (302 if status == 200 else 403), user
    assert PortalInvite.objects.count() == 1


def test_the_invite_page_lists_invites_and_names_a_bad_email(staff, invited, practice_a):
    page = staff.get("/portal-invites/").content.decode()
    assert "nina@prairie.example" in page and "Open until" in page
    answer = staff.post("/portal-invites/", {"email": "front desk", "practice": practice_a.pk})
    assert answer.status_code == 422
    assert "id_email_error" in answer.content.decode()
    assert 'value="front desk"' in answer.content.decode()


def test_inviting_an_address_that_has_an_account_is_refused(staff, pam, practice_a):
    answer = invite(staff, email=pam.email, practice=practice_a)
    assert answer.status_code == 422
    assert "already has an account" in answer.content.decode()


def test_when_the_email_fails_the_inviter_gets_the_link(staff, practice_a, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(services, "send_mail", refuse)
    answer = invite(staff, practice=practice_a)
    assert answer.status_code == 200
    assert "/portal/invite/" in answer.content.decode()
    assert "could not be sent" in answer.content.decode()


def test_a_signed_in_user_is_told_to_sign_out_first(invited, pete):
    client = Client()
    client.force_login(pete)
    client.get(path_of(invited))
    answer = client.get("/portal/invite/")
    assert "already signed in" in answer.content.decode()
    assert client.post("/portal/invite/", accept_form()).status_code == 200
    assert PortalInvite.objects.get().used_at is None


def test_the_token_reaches_no_log(invited, caplog):
    token = invited.rstrip("/").rsplit("/", 1)[1]
    client = Client()
    with caplog.at_level("DEBUG"):
        client.get(path_of(invited))
        client.get("/portal/invite/")
        client.post("/portal/invite/", accept_form(password="x", password_again="y"))
        client.post("/portal/invite/", accept_form())
        client.get(path_of(invited))
        client.get("/portal/invite/")  # used: 410, logged by Django with the path
    assert caplog.records
    assert all(token not in r.getMessage() for r in caplog.records)
