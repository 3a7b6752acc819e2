"""Every answer refloop builds carries the Content-Security-Policy and is never cached.

The routes come from the URL resolver (pages, fragments, downloads, the API, the admin
site), so a new route is checked without anyone listing it. Whatever a route answers
(a page, a redirect, 403, 404, 405), the headers are the same: a refusal can hold patient
data too (a form sent back with its errors).
"""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from refloop.core.models import ApiToken
from refloop.demo import factories as f
from refloop.referrals import services
from tests import samples
from tests.headers import inline_elements_without_the_nonce, nonce, policy
from tests.messaging.helpers import appointment_link

pytestmark = pytest.mark.django_db

PDF = samples.pdf()
# Routes whose answer may be cached, and why: the practice's logo and the favicon's
# redirect to the static icon hold no patient data.
CACHEABLE = {"logo", "favicon"}
# Pages the issue names: they must be among the full pages checked.
PHI_PAGES = {"worklist", "referral_detail", "referral_print", "portal_home", "audit"}

ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def leaf_routes(patterns=None, prefix: str = "") -> list[tuple[str, str]]:
    """(route text, name) of every URL pattern, routes of included apps joined to their
    prefix; regular-expression routes keep their named groups."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(leaf_routes(pattern.url_patterns, route))
        else:
            assert isinstance(pattern, URLPattern)
            found.append((route, pattern.name or ""))
    return found


def url_of(route: str, ids: dict) -> str:
    """A concrete path for a route: each parameter filled from `ids` by its name, or with a
    placeholder that matches the converter (the route may then answer 404: it still must
    carry the headers)."""
    path = ROUTE_PARAMETER.sub(lambda m: str(ids.get(m["name"], "1")), route)
    path = REGEX_GROUP.sub(lambda m: str(ids.get(m["name"], "x")), path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


@pytest.fixture
def ids(cora, spine, provider_a, practice_a):
    inbound = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    attachment = services.add_attachment(
        inbound, acting_user=cora, upload=ContentFile(PDF), filename="letter.pdf"
    )
    return {
        "pk": inbound.pk,
        "referral_id": inbound.pk,
        "attachment_id": attachment.pk,
        "practice_id": practice_a.pk,
        "provider_id": provider_a.pk,
        "app_label": "core",
        "month": "2026-01",
        "table": "summary",
        "fmt": "csv",
        "to": "in_review",
        "rule_key": "patient.scheduled",
        "channel": "email",
    }


def test_every_route_sends_the_policy_and_no_store(ada, ids):
    _, token = ApiToken.issue(ada)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.force_login(ada)
    pages = set()
    for route, name in leaf_routes():
        url = url_of(route, ids)
        response = client.get(url)
        # Stored documents have their own policy ("sandbox"), checked below.
        assert policy(response), f"{url} has no Content-Security-Policy"
        if name not in CACHEABLE:
            assert "no-store" in response.get("Cache-Control", ""), f"{url} may be cached"
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            assert not inline_elements_without_the_nonce(response), url
            pages.add(name)
    assert PHI_PAGES - {"portal_home"} <= pages, PHI_PAGES - pages


def test_the_policy_refuses_inline_script_and_other_sites(ada, client):
    client.force_login(ada)
    found = policy(client.get("/referrals/"))
    assert found["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in found["script-src"]
    assert "'unsafe-eval'" not in found["script-src"]
    assert "'unsafe-inline'" not in found["style-src"]
    assert found["object-src"] == ["'none'"]
    assert found["frame-ancestors"] == ["'none'"]


def test_the_patient_block_and_the_print_page_are_never_cached(cora, client, referral):
    client.force_login(cora)
    answers = [
        client.post(f"/referrals/{referral.pk}/patient"),
        client.post(f"/referrals/{referral.pk}/patient", headers={"HX-Request": "true"}),
        client.get(f"/referrals/{referral.pk}/print"),
        client.get("/referrals/"),
    ]
    for response in answers:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "default-src" in policy(response)
    assert b"Quillfeather" in answers[0].content  # the block that was shown holds PHI


def test_the_portal_pages_are_never_cached(pam, client, referral):
    client.force_login(pam)
    for url in ("/portal/", f"/portal/referrals/{referral.pk}/", "/portal/referrals/new/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "default-src" in policy(response), url
        assert not inline_elements_without_the_nonce(response), url


def test_the_patients_magic_link_page_is_never_cached(client, referral, cora):
    token = appointment_link(referral, acting_user=cora)
    assert "no-store" in client.get(f"/p/{token}/")["Cache-Control"]
    page = client.get("/p/")
    assert page.status_code == 200
    assert b"Zephyrine" in page.content
    assert "no-store" in page["Cache-Control"]
    assert "default-src" in policy(page)


def test_api_answers_with_patient_data_are_never_cached(cora, referral):
    _, token = ApiToken.issue(cora)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(f"/api/v1/referrals/{referral.pk}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_an_inline_style_carries_the_nonce_of_the_header(ada, client, practice_a):
    client.force_login(ada)
    response = client.get(f"/analytics/scorecards/{practice_a.pk}/")
    assert response.status_code == 200
    allowed = nonce(response)
    assert allowed
    assert f"'nonce-{allowed}'" in policy(response)["style-src"]
    assert f'<style nonce="{allowed}">'.encode() in response.content
    # A new nonce for every answer.
    assert nonce(client.get(f"/analytics/scorecards/{practice_a.pk}/")) != allowed


def test_a_stored_document_keeps_its_sandbox_policy(cora, client, ids):
    client.force_login(cora)
    response = client.get(f"/referrals/{ids['pk']}/attachments/{ids['attachment_id']}")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "no-store"


def test_the_logo_may_be_cached(client, org):
    org.logo.save("logo.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 32))
    response = client.get("/branding/logo")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=3600"
