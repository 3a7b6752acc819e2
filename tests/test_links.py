"""Links that leave the server start with BASE_URL (REFLOOP_BASE_URL), never with the Host a
request happened to carry: magic links, portal invitations, password resets, the public
page's addresses. The demo sets BASE_URL from its --host and --port."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from refloop.core.links import absolute_url, base_url_is_public, is_loopback
from refloop.messaging import magic
from refloop.messaging.models import Channel, Message, Status
from refloop.ops.management.commands.demo import demo_base_url
from refloop.referrals import transitions

PUBLIC = "https://refer.example.org"


@pytest.fixture
def public(settings):
    settings.BASE_URL = PUBLIC
    # The request comes in on another name the server also answers to.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "intranet.local"]


def test_absolute_url_puts_a_path_on_base_url(settings):
    settings.BASE_URL = PUBLIC
    assert absolute_url("/portal/") == f"{PUBLIC}/portal/"
    settings.BASE_URL = PUBLIC + "/"
    assert absolute_url("/portal/") == f"{PUBLIC}/portal/"
    with pytest.raises(ValueError):
        absolute_url("portal/")


def test_a_magic_link_made_by_the_worker_starts_with_base_url(public, referral, cora):
    transitions.accept_referral(referral, acting_user=cora)
    message = Message.objects.create(
        referral=referral,
        rule="appointment.reminder",
        audience="patient",
        recipient=f"patient:{referral.patient_id}",
        recipient_label="Zephyrine",
        channel=Channel.SMS,
        address="+15550100000",
        subject="",
        body="Bring these: {{ link.instructions }}",
        dedupe_key="test-links",
        due_at=timezone.now(),
        status=Status.DUE,
        created_at=timezone.now(),
    )
    links = magic.links_for(message, now=timezone.now())
    assert links and all(link.startswith(f"{PUBLIC}/") for link in links.values())


def test_a_portal_invitation_links_to_base_url_not_the_requests_host(public, cora, practice_a):
    staff = Client(HTTP_HOST="intranet.local")
    staff.force_login(cora)
    answer = staff.post(
        "/portal-invites/", {"email": "nina@prairie.example", "practice": practice_a.pk}
    )
    assert answer.status_code == 302
    body = mail.outbox[-1].body
    assert re.search(rf"{re.escape(PUBLIC)}/portal/invite/\S+/", body), body
    assert "intranet.local" not in body


def test_a_password_reset_email_links_to_base_url_not_the_requests_host(public, pam):
    answer = Client(HTTP_HOST="intranet.local").post("/password-reset/", {"email": pam.email})
    assert answer.status_code == 302
    [email] = mail.outbox
    assert re.search(rf"{re.escape(PUBLIC)}/password-reset/\S+/\S+/", email.body), email.body
    assert "intranet.local" not in email.body


def test_the_public_page_and_embed_snippet_give_base_url_addresses(public, org, client):
    page = client.get("/refer/", HTTP_HOST="localhost").content.decode()
    assert f'href="{PUBLIC}/portal/"' in page
    embed = client.get("/refer/embed/", HTTP_HOST="localhost").content.decode()
    assert f"{PUBLIC}/refer/form/?embed=1" in embed
    assert "http://localhost/" not in page + embed


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # every address: this machine's loopback  # noqa: S104
        ("::", 9000, "http://[::1]:9000"),
        ("192.168.1.20", 8000, "http://192.168.1.20:8000"),
        ("localhost", 8001, "http://localhost:8001"),
    ],
)
def test_the_demo_links_to_the_port_it_serves_on(host, port, expected):
    assert demo_base_url(host, port, environ={}) == expected


def test_an_explicit_base_url_wins_over_the_demos_port():
    environ = {"REFLOOP_BASE_URL": "https://demo.example.org/"}
    assert demo_base_url("0.0.0.0", 9000, environ=environ) == "https://demo.example.org"  # noqa: S104


def test_the_demo_command_passes_its_base_url_to_the_server_and_worker(settings, monkeypatch):
    """The children read REFLOOP_BASE_URL from the environment the demo gives them."""
    from refloop.ops.management.commands import demo

    started: list[dict] = []

    class Child:
        def __init__(self, argv, env):
            started.append(env)

        def poll(self):
            return 0

    monkeypatch.setattr(demo.subprocess, "Popen", Child)
    monkeypatch.setattr(demo, "stop", lambda children: None)
    settings.BASE_URL = "http://127.0.0.1:8765"
    command = demo.Command()
    with pytest.raises(demo.CommandError):  # the fake children "exit" at once
        command.run_children("127.0.0.1", 8765)
    assert [env["REFLOOP_BASE_URL"] for env in started] == ["http://127.0.0.1:8765"] * 2


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("https://refer.example.org", False),
        ("http://192.168.1.20:8000", False),
    ],
)
def test_loopback_addresses_are_recognised(url, loopback):
    assert is_loopback(url) is loopback


def test_the_deploy_check_warns_of_a_loopback_base_url_in_production(settings):
    settings.DEBUG = False
    settings.BASE_URL = "http://127.0.0.1:8000"
    [warning] = base_url_is_public(None)
    assert warning.id == "refloop.links.W001"
    settings.BASE_URL = PUBLIC
    assert base_url_is_public(None) == []
    settings.DEBUG = True
    settings.BASE_URL = "http://127.0.0.1:8000"
    assert base_url_is_public(None) == []
