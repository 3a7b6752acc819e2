"""Automatic logoff: the idle timeout, the absolute limit, polling that does not count as
activity, the warning's own endpoints, and sign-out everywhere on a password change."""

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import URLResolver, get_resolver

import refloop
from refloop.core.models import AuditEntry
from refloop.core.sessions import SECONDS_LEFT_HEADER, passive

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new long passphrase 42"
SIGN_IN = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
IDLE_SENTENCE = "You were signed out after 15 minutes without activity."
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/referrals/?state=received"}


@pytest.fixture
def clock():
    with time_machine.travel(SIGN_IN, tick=False) as traveller:
        yield traveller


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def at(clock, **delta) -> None:
    clock.move_to(SIGN_IN + dt.timedelta(**delta))


def is_signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


# ---- idle timeout ------------------------------------------------------------------


def test_a_request_just_under_the_idle_limit_is_served(clock, cora):
    client = signed_in(cora)
    at(clock, minutes=14, seconds=59)
    assert client.get("/referrals/").status_code == 200


def test_a_request_at_the_idle_limit_lands_on_sign_in_with_a_plain_sentence(clock, cora):
    client = signed_in(cora)
    at(clock, minutes=15)
    response = client.get("/referrals/?state=received")
    assert is_signed_out(response)
    assert response["Location"] == "/login/?next=/referrals/%3Fstate%3Dreceived"
    page = client.get(response["Location"]).content.decode()
    assert IDLE_SENTENCE in page
    assert not Session.objects.filter(session_key=client.session.session_key).exists()
    expired = AuditEntry.objects.get(action="auth.session_expired")
    assert expired.actor == cora and expired.detail == {"reason": "idle"}


def test_every_request_restarts_the_idle_clock(clock, cora):
    client = signed_in(cora)
    at(clock, minutes=10)
    assert client.get("/referrals/").status_code == 200
    at(clock, minutes=24, seconds=59)
    assert client.get("/referrals/").status_code == 200
    at(clock, minutes=39, seconds=59)
    assert is_signed_out(client.get("/referrals/"))


def test_the_idle_limit_is_a_setting(clock, cora, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client = signed_in(cora)
    at(clock, minutes=5)
    response = client.get("/referrals/", follow=True)
    assert "You were signed out after 5 minutes without activity." in response.content.decode()


def test_an_htmx_request_after_the_idle_limit_sends_the_whole_page_to_sign_in(clock, cora):
    client = signed_in(cora)
    at(clock, minutes=16)
    response = client.get("/referrals/", headers=HTMX)
    # Not a redirect htmx would follow and swap the sign-in form into a fragment.
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=/referrals/%3Fstate%3Dreceived"
    assert IDLE_SENTENCE in client.get("/login/").content.decode()


def test_a_portal_user_is_signed_out_after_the_idle_limit_too(clock, pam):
    client = signed_in(pam)
    at(clock, minutes=14)
    assert client.get("/portal/").status_code == 200
    at(clock, minutes=29)
    response = client.get("/portal/", follow=True)
    assert IDLE_SENTENCE in response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/login/")


def test_the_admin_site_signs_out_after_the_idle_limit_too(clock, ada):
    ada.is_staff = ada.is_superuser = True
    ada.save(update_fields=["is_staff", "is_superuser"])
    client = signed_in(ada)
    assert client.get("/admin/").status_code == 200
    at(clock, minutes=15)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


# ---- polling is not activity --------------------------------------------------------


def test_polling_the_intake_progress_does_not_keep_the_session_alive(clock, cora):
    client = signed_in(cora)
    for minute in range(1, 15):
        at(clock, minutes=minute)
        assert client.get("/intake/documents/progress", headers=HTMX).status_code == 200
    at(clock, minutes=15)
    poll = client.get("/intake/documents/progress", headers=HTMX)
    assert poll.status_code == 204 and poll["HX-Redirect"].startswith("/login/")
    assert is_signed_out(client.get("/referrals/"))


def polled_url_names() -> set[str]:
    """The URL names that some template polls with hx-trigger="every …"."""
    names = set()
    for template in Path(refloop.__file__).parent.rglob("templates/**/*.html"):
        for tag in re.findall(r"<[^>]*hx-trigger=\"every [^>]*>", template.read_text()):
            names.update(re.findall(r"hx-get=\"\{% url '([\w:]+)'", tag))
    return names


def views_by_name(patterns=None) -> dict:
    found = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found.update(views_by_name(pattern.url_patterns))
        elif pattern.name:
            found[pattern.name] = pattern.callback
    return found


def test_every_polled_view_is_passive():
    polled = polled_url_names()
    assert {"intake_progress", "history_run_progress"} <= polled
    views = views_by_name()
    for name in polled:
        assert getattr(views[name], "session_passive", False), name


# ---- absolute limit -----------------------------------------------------------------


def test_a_busy_session_still_ends_at_the_absolute_limit(clock, cora, settings):
    settings.SESSION_MAX_HOURS = 1
    client = signed_in(cora)
    for minutes in (10, 20, 30, 40, 50):
        at(clock, minutes=minutes)
        assert client.get("/referrals/").status_code == 200
    at(clock, minutes=59, seconds=59)
    assert client.get("/referrals/").status_code == 200
    at(clock, minutes=60)
    response = client.get("/referrals/", follow=True)
    assert "a sign-in lasts at most 1 hour" in response.content.decode()
    expired = AuditEntry.objects.get(action="auth.session_expired")
    assert expired.detail == {"reason": "absolute"}


def test_the_absolute_limit_defaults_to_twelve_hours(clock, cora):
    client = signed_in(cora)
    for minutes in range(14, 12 * 60, 14):
        at(clock, minutes=minutes)
        assert client.get("/referrals/").status_code == 200
    at(clock, hours=12)
    assert is_signed_out(client.get("/referrals/"))


# ---- the warning's endpoints ----------------------------------------------------------


def test_the_page_knows_how_long_is_left_and_asking_does_not_count(clock, cora):
    client = signed_in(cora)
    page = client.get("/referrals/")
    assert 'data-seconds-left="900"' in page.content.decode()
    assert page[SECONDS_LEFT_HEADER] == "900"
    at(clock, minutes=14)
    assert client.get("/session/").json() == {"seconds_left": 60}
    at(clock, minutes=14, seconds=30)
    assert client.get("/session/").json() == {"seconds_left": 30}
    at(clock, minutes=15)
    assert client.get("/session/").json() == {"seconds_left": 0}
    assert is_signed_out(client.get("/referrals/"))


def test_stay_signed_in_restarts_the_idle_clock(clock, cora):
    client = signed_in(cora)
    at(clock, minutes=14)
    stay = client.post("/session/stay", headers={"HX-Request": "true"})
    assert stay.status_code == 204 and stay[SECONDS_LEFT_HEADER] == "900"
    at(clock, minutes=28)
    assert client.get("/referrals/").status_code == 200


def test_the_warning_script_is_on_signed_in_pages_only(clock, cora):
    client = Client()
    assert "session.js" not in client.get("/login/").content.decode()
    client = signed_in(cora)
    html = client.get("/referrals/").content.decode()
    assert 'id="session-notice"' in html and "workspace/session.js" in html
    assert "<script>" not in html  # no inline script: the notice works under a strict CSP


def test_passive_marks_the_view():
    @passive
    def view(request):
        return None

    assert view.session_passive is True


# ---- sign-out everywhere --------------------------------------------------------------


def test_changing_the_password_signs_out_every_other_session(cora):
    here, elsewhere = signed_in(cora), signed_in(cora)
    assert elsewhere.get("/referrals/").status_code == 200
    changed = here.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert here.get("/referrals/").status_code == 200  # the session that changed it stays
    assert is_signed_out(elsewhere.get("/referrals/"))


def test_a_password_reset_signs_out_every_session(client, cora):
    elsewhere = signed_in(cora)
    client.post("/password-reset/", {"email": cora.email})
    link = re.search(
        re.escape(settings.BASE_URL) + r"(/password-reset/\S+/\S+/)", mail.outbox[0].body
    ).group(1)
    form = client.get(link)["Location"]
    client.post(form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert is_signed_out(elsewhere.get("/referrals/"))


def test_deactivating_a_user_ends_their_sessions(cora):
    client = signed_in(cora)
    assert client.get("/referrals/").status_code == 200
    cora.is_active = False
    cora.save(update_fields=["is_active"])
    assert is_signed_out(client.get("/referrals/"))
