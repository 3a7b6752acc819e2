"""Forgotten passwords: a single-use emailed link, for staff and portal users alike."""

import re

from django.conf import settings
from django.core import mail

from refloop.core.models import AuditEntry

NEW_PASSWORD = "a brand new long passphrase 42"


def reset_link(body: str) -> str:
    return re.search(re.escape(settings.BASE_URL) + r"(/password-reset/\S+/\S+/)", body).group(1)


def test_a_portal_user_chooses_a_new_password_through_the_emailed_link(client, pam):
    response = client.post("/password-reset/", {"email": pam.email})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    [email] = mail.outbox
    assert email.to == [pam.email] and pam.username in email.body
    link = reset_link(email.body)
    # The token leaves the address bar at once: the form lives at a token-free address.
    form_page = client.get(link)
    assert form_page.status_code == 302 and "set-password" in form_page["Location"]
    done = client.post(
        form_page["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    assert client.login(username="pam", password=NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="auth.password_reset_requested", object_id=pam.pk)
    assert AuditEntry.objects.filter(action="auth.password_reset", actor=pam).exists()
    # Used once, the link is dead.
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in again


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, org):
    response = client.post("/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action="auth.password_reset_requested").exists()


def test_the_sign_in_page_offers_the_reset(client, org):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()
