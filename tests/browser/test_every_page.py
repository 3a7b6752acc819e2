"""axe-core on every staff page (the workspace, document intake, portal invitations and
messages, the public pages), found from the URL patterns so a new page cannot be missed.

Each GET route is opened as the admin (who may see every page) with a referral
in each direction; whatever answers a full HTML page is checked in Chromium.
Routes that are not pages (POST-only actions, file downloads, htmx fragments)
are recognised by their answer, and the test also checks that the pages the
issue names were among those checked.

Every test here runs twice: on a desk screen (1440 x 900) and on a phone (390 x 844),
where target sizes and reflow fail first.
"""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from refloop.advocacy import urls as advocacy_urls
from refloop.demo import factories as f
from refloop.intake import urls as intake_urls
from refloop.intake.pipeline import process_document
from refloop.intake.services import ingest
from refloop.messaging import outbox_views
from refloop.messaging import settings_views as message_settings
from refloop.messaging.models import Message
from refloop.outreach import urls as outreach_urls
from refloop.portal import invites as portal_invites
from refloop.portal import staff as portal_staff
from refloop.practice.models import Location
from refloop.public import urls as public_urls
from refloop.referrals import services
from refloop.workspace import urls as workspace_urls
from tests import samples
from tests.browser import conftest
from tests.browser.conftest import TARGET_SIZE, sign_in_as
from tests.intake.helpers import referral_pdf

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = {"desk": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def context(request, browser, live_server):
    """The browser context of tests/browser/conftest.py, at each viewport in turn."""
    ctx = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORTS[request.param], reduced_motion="reduce"
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


PDF = samples.pdf()
# The feedback pages' lists and settings (advocacy).
ADVOCACY_PAGES = {
    "advocacy_settings",
    "advocacy_reward_settings",
    "advocacy_surveys",
    "advocacy_cases",
    "advocacy_case_new",
    "advocates",
    "advocacy_feedback_testimonials",
    "advocacy_numbers",
}
EXPECTED_PAGES = {
    "worklist",
    "referral_detail",
    "referral_print",
    "intake",
    "outbound",
    "outbound_new",
    "audit",
    "password_change",
    "notifications",
    "intake_documents",
    "intake_document",
    "intake_candidate",
    "portal_invites",
    "referral_messages",
    "how_to_refer",
    "public_form",
    "message_settings",
    "message_template",
    "outbox",
    "outbox_message",
    # Sign-in security; its second step (mfa_verify) and the recovery codes shown once
    # (mfa_recovery_codes) need a device or fresh codes: tests/browser/test_mfa.py checks them.
    "mfa_security",
    "mfa_totp",
    "reauthenticate",
    "settings_home",
    "home",  # as the admin: the practice at a glance
    "settings_practice",
    "settings_location_new",
    "settings_location",
    "settings_sla",
    "settings_departments",
    "settings_department",
    "settings_users",
    "settings_user_new",
    "settings_user",
    "outreach_home",
    "outreach_log",
    "outreach_plan",
    *ADVOCACY_PAGES,
}


OUTREACH_PAGES = {"outreach_home", "outreach_log", "outreach_plan"}


# Each app's routes name their own objects: `pk` is a referral in the workspace and the
# portal's staff pages, a document or a candidate in document intake.
def id_key(pattern: URLPattern, name: str) -> str:
    if name != "pk" or not pattern.name.startswith("intake_"):
        return name
    return "candidate_pk" if pattern.name == "intake_candidate" else "document_pk"


def advocacy_patterns() -> list[URLPattern]:
    found: list[URLPattern] = []
    for entry in advocacy_urls.urlpatterns:
        found.extend(entry.url_patterns if isinstance(entry, URLResolver) else [entry])
    return found


def routes() -> list[URLPattern]:
    patterns = [
        *workspace_urls.urlpatterns,
        *intake_urls.urlpatterns,
        *portal_staff.urlpatterns,
        *[p for p in portal_invites.urlpatterns if p.name.startswith("portal_invites")],
        *public_urls.urlpatterns,
        *message_settings.urlpatterns,
        *outbox_views.urlpatterns,
        # The liaison's home, phone log and planning; the ledger's, events' and tasks' pages
        # have browser tests of their own.
        *[p for p in outreach_urls.urlpatterns if p.name in OUTREACH_PAGES],
        # The feedback pages' lists and settings; a case, an advocate, a testimonial and the
        # patient's pages under /s/ have browser tests of their own (tests/browser/test_feedback_*).
        *[p for p in advocacy_patterns() if p.name in ADVOCACY_PAGES],
    ]
    return [p for p in patterns if isinstance(p, URLPattern)]


@pytest.fixture
def ids(ada, cora, spine, provider_a, practice_b):
    inbound = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    attachment = services.add_attachment(
        inbound, acting_user=cora, upload=ContentFile(PDF), filename="letter.pdf"
    )
    outbound = services.create_outbound_referral(
        acting_user=cora,
        patient=inbound.patient,
        receiving_practice=practice_b,
        reason="Needs a sleep study",
    )
    document = process_document(
        ingest(content=referral_pdf(), filename="fax.pdf", source="upload", uploaded_by=cora).pk
    )
    message = Message.objects.create(
        referral=inbound,
        rule="referrer.acknowledgment",
        audience="referrer",
        recipient=f"provider:{provider_a.pk}",
        recipient_label=str(provider_a),
        channel="fax",
        body="We received your referral.",
        dedupe_key="browser-test|failed",
        due_at=inbound.received_at,
        created_at=inbound.received_at,
        status="failed",
        attempts=3,
        reason="The fax line was busy.",
    )
    return {
        "message_pk": message.pk,
        "document_pk": document.pk,
        "candidate_pk": document.candidates.get().pk,
        "number": 1,
        # A password-reset link that no longer works: its page says so.
        "uidb64": "MQ",
        "token": "expired-token",
        # A friend's form through a link nobody was given: the ordinary form.
        "code": "a-code-nobody-was-given",
        "pk": inbound.pk,
        "referral_id": inbound.pk,
        "attachment_id": attachment.pk,
        "attachment_pk": attachment.pk,
        "outbound_pk": outbound.pk,
        "to": "in_review",
        "rule_key": "patient.scheduled",
        "channel": "email",
        "department_id": spine.pk,
        "user_id": cora.pk,
        "location_id": Location.objects.create(name="Main clinic").pk,
    }


def assert_accessible(page) -> None:
    conftest.assert_accessible(page, also=TARGET_SIZE)


def url_for(pattern: URLPattern, ids: dict) -> str | None:
    route = str(pattern.pattern)
    if "<" not in route:
        return "/" + route
    kwargs = {}
    for name in pattern.pattern.converters:
        key = id_key(pattern, name)
        if key not in ids:
            return None
        kwargs[name] = ids[key]
    return reverse(pattern.name, kwargs=kwargs)


def test_every_workspace_page_passes_axe(context, live_server, ada, ids):
    client = Client()
    client.force_login(ada)
    pages, unfilled = {}, []
    for pattern in routes():
        url = url_for(pattern, ids)
        if url is None:
            unfilled.append(str(pattern.pattern))
            continue
        response = client.get(url)
        is_page = (
            response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and b"<html" in response.content[:400]
        )
        if is_page:
            pages[pattern.name] = url
    assert not unfilled, f"teach this test the URL parameters of: {unfilled}"
    assert EXPECTED_PAGES <= set(pages), f"not checked: {EXPECTED_PAGES - set(pages)}"

    sign_in_as(context, live_server, ada)
    page = context.new_page()
    # The outbound referral's detail page has other buttons than the inbound one.
    urls = [*sorted(pages.values()), f"/referrals/{ids['outbound_pk']}/"]
    failures = []
    for url in urls:
        page.goto(url)
        try:
            assert_accessible(page)
        except AssertionError as failure:
            failures.append(str(failure))  # every page's findings at once, not the first only
    assert not failures, "\n".join(failures)


def test_the_sign_in_page_passes_axe(page, org):
    page.goto("/login/")
    assert_accessible(page)


def test_the_error_pages_pass_axe(context, live_server, ada):
    # Signed out: the 404 in the bare shell.
    page = context.new_page()
    assert page.goto("/no-such-page/").status == 404
    assert_accessible(page)
    # Staff: the 404 with their navigation.
    sign_in_as(context, live_server, ada)
    assert page.goto("/no-such-page/").status == 404
    assert_accessible(page)


def test_the_portal_refusal_and_404_pass_axe(context, live_server, pam):
    sign_in_as(context, live_server, pam)
    page = context.new_page()
    assert page.goto("/referrals/").status == 403
    assert_accessible(page)
    assert page.goto("/no-such-page/").status == 404
    assert_accessible(page)
