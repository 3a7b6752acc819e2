"""Which address a request comes from: the peer, or behind a trusted reverse proxy the
client it forwarded for; and every user of the address (audit log, sign-in throttle,
public form limit) gets the same answer."""

from ipaddress import ip_network

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from refloop import settings as refloop_settings
from refloop.core.addresses import client_address_from
from refloop.core.models import AuditEntry
from refloop.referrals.models import Referral
from tests.public_pages.test_public_form import FORM, form_data

PROXY = "10.0.0.5"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [ip_network(PROXY), ip_network("172.16.0.0/12")]
    return settings


def via(peer: str, forwarded_for: str | None = None) -> Client:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return Client(REMOTE_ADDR=peer, **headers)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # From a trusted proxy: the right-most address that is not a trusted proxy.
        (PROXY, "203.0.113.7", "203.0.113.7"),
        (PROXY, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left one is the client's say
        (PROXY, "203.0.113.7, 172.20.1.1", "203.0.113.7"),  # two proxies in a row (CIDR)
        (PROXY, "172.20.1.1", "172.20.1.1"),  # only proxies: the farthest one
        (PROXY, None, PROXY),
        (PROXY, "", PROXY),
        (PROXY, "203.0.113.7, not-an-address", PROXY),  # garbage a proxy wrote: stop there
        (PROXY, "[2001:db8::7]:51234", "2001:db8::7"),
        (PROXY, "203.0.113.7:51234", "203.0.113.7"),
        (PROXY, "::ffff:203.0.113.7", "203.0.113.7"),
        # From anyone else the header is ignored, however it is spelled.
        ("203.0.113.9", "10.0.0.5, 1.2.3.4", "203.0.113.9"),
        ("203.0.113.9", None, "203.0.113.9"),
        ("2001:db8::9", "1.2.3.4", "2001:db8::9"),
    ],
)
def test_the_client_address_trusts_forwarded_for_only_from_a_trusted_proxy(
    behind_proxy, peer, forwarded_for, client
):
    meta = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_address_from(meta) == client


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address_from({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4"}) == PROXY


def test_the_trusted_proxies_setting_reads_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("REFLOOP_TRUSTED_PROXIES", " 10.0.0.5, 192.168.0.0/16 ,::1")
    assert refloop_settings.env_networks("TRUSTED_PROXIES") == [
        ip_network("10.0.0.5/32"),
        ip_network("192.168.0.0/16"),
        ip_network("::1/128"),
    ]
    monkeypatch.setenv("REFLOOP_TRUSTED_PROXIES", "10.0.0.5, proxy.internal")
    with pytest.raises(ImproperlyConfigured, match="'proxy.internal' is neither"):
        refloop_settings.env_networks("TRUSTED_PROXIES")
    monkeypatch.delenv("REFLOOP_TRUSTED_PROXIES")
    assert refloop_settings.env_networks("TRUSTED_PROXIES") == []


def test_the_audit_log_records_the_client_behind_a_trusted_proxy(behind_proxy, cora):
    via(PROXY, "203.0.113.7").post("/login/", {"username": "cora", "password": PASSWORD})
    assert AuditEntry.objects.get(action="auth.login").ip_address == "203.0.113.7"


def test_a_forwarded_for_header_from_an_untrusted_peer_is_not_believed(behind_proxy, cora):
    via("198.51.100.20", "203.0.113.7").post("/login/", {"username": "cora", "password": "x"})
    assert AuditEntry.objects.get(action="auth.login_failed").ip_address == "198.51.100.20"


def test_the_sign_in_throttle_tells_clients_behind_one_proxy_apart(behind_proxy, cora):
    behind_proxy.LOGIN_FAILURE_LIMIT = 3
    attacker = via(PROXY, "203.0.113.66")
    for _ in range(3):
        attacker.post("/login/", {"username": "cora", "password": "wrong"})
    attacker.post("/login/", {"username": "cora", "password": PASSWORD})
    assert SESSION_KEY not in attacker.session
    colleague = via(PROXY, "198.51.100.7")
    colleague.post("/login/", {"username": "cora", "password": PASSWORD})
    assert SESSION_KEY in colleague.session


def test_the_public_form_limit_counts_each_client_behind_the_proxy(behind_proxy, spine):
    behind_proxy.PUBLIC_FORM_RATE_LIMIT = 2
    flooder = via(PROXY, "203.0.113.66")
    for _ in range(2):
        assert flooder.post(FORM, form_data(flooder, reason="")).status_code == 422
    assert flooder.post(FORM, form_data(flooder)).status_code == 429
    neighbour = via(PROXY, "198.51.100.7")
    assert neighbour.post(FORM, form_data(neighbour)).status_code == 302
    assert Referral.objects.count() == 1


def test_a_spoofed_forwarded_for_does_not_escape_the_public_form_limit(behind_proxy, spine):
    behind_proxy.PUBLIC_FORM_RATE_LIMIT = 2
    for n in range(2):
        spoofer = via("198.51.100.20", f"203.0.113.{n}")
        assert spoofer.post(FORM, form_data(spoofer, reason="")).status_code == 422
    spoofer = via("198.51.100.20", "203.0.113.99")
    assert spoofer.post(FORM, form_data(spoofer)).status_code == 429
