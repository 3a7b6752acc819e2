"""The staff outbox pages: the list with failures first, one message, cancel and send again,
the letter download, and the messages card on a referral's detail page."""

import datetime as dt
import sys
import types

import pytest
from django.test import Client

from refloop.core.models import AuditEntry
from refloop.messaging.models import Audience, Channel, DeliveryAttempt, Status
from refloop.messaging.rules import RULES

from .test_messages_api import NOW, make_message

PATIENT_NAMES = ("Zephyrine", "Quillfeather")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def failed(referral):
    return make_message(
        referral,
        channel=Channel.FAX,
        status=Status.FAILED,
        attempts=3,
        reason="The fax line was busy.",
    )


@pytest.fixture
def due(referral):
    return make_message(
        referral,
        rule="patient.scheduled",
        audience=Audience.PATIENT,
        recipient=f"patient:{referral.patient_id}",
        recipient_label="the patient",
        channel=Channel.SMS,
        due_at=NOW + dt.timedelta(days=2),
        body="Hi Zephyrine, confirm: {{ link.confirm }}",
        address="+15550100",
    )


@pytest.mark.django_db
def test_the_outbox_opens_on_failed_messages_when_there_are_any(cora, failed, due):
    page = signed_in(cora).get("/messages/")
    assert page.status_code == 200
    text = html(page)
    tabs = text.split('id="status-tabs"', 1)[1].split("</nav>", 1)[0]
    current = tabs.split('aria-current="page">', 1)[1].split("</a>", 1)[0]
    assert "Failed" in current and ">1<" in current
    assert "The fax line was busy." in text
    assert f"/messages/{failed.pk}/" in text
    assert f"/messages/{due.pk}/" not in text  # the due one is on its own tab


@pytest.mark.django_db
def test_the_outbox_shows_everything_without_failures(cora, due):
    text = html(signed_in(cora).get("/messages/"))
    assert f"/messages/{due.pk}/" in text
    assert RULES["patient.scheduled"].title in text
    assert f"Patient of {due.referral.number}" in text


@pytest.mark.django_db
def test_no_patient_name_or_address_on_the_outbox(cora, failed, due):
    for query in ("", "?status=all", "?status=due"):
        text = html(signed_in(cora).get("/messages/" + query))
        for name in PATIENT_NAMES:
            assert name not in text
        assert "+15550100" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("status=all&channel=sms", {"due"}),
        ("status=all&channel=fax", {"failed"}),
        ("status=all&rule=patient.scheduled", {"due"}),
        ("status=all&due_from=2026-11-18", {"due"}),
        ("status=all&due_to=2026-11-16", {"failed"}),
        ("status=due", {"due"}),
    ],
)
def test_the_page_filters_narrow_the_list(cora, failed, due, query, shown):
    text = html(signed_in(cora).get(f"/messages/?{query}"))
    messages = {"failed": failed, "due": due}
    assert {k for k, m in messages.items() if f"/messages/{m.pk}/" in text} == shown


@pytest.mark.django_db
def test_the_outbox_lists_are_audited(cora, failed):
    signed_in(cora).get("/messages/")
    assert AuditEntry.objects.filter(action="message.listed", object_id=str(failed.pk)).exists()


@pytest.mark.django_db
def test_a_message_shows_its_body_with_link_placeholders_and_its_deliveries(cora, due):
    DeliveryAttempt.objects.create(message=due, at=NOW, outcome="retry", detail="Timed out")
    page = signed_in(cora).get(f"/messages/{due.pk}/")
    text = html(page)
    assert "confirm: [confirm link]" in text and "{{" not in text
    assert "Timed out" in text
    assert "Cancel</button>" in text and "Send again" not in text
    assert AuditEntry.objects.filter(action="message.read", object_id=str(due.pk)).exists()
    # A patient's number only as a hint; a partner's fax in full.
    assert "a number ending 0100" in text and "+15550100" not in text


@pytest.mark.django_db
def test_a_message_to_a_referrer_shows_the_address_it_went_to(cora, failed):
    failed.address = "+12175550188"
    failed.save()
    text = html(signed_in(cora).get(f"/messages/{failed.pk}/"))
    assert '<dd id="message-address">+12175550188</dd>' in text


@pytest.mark.django_db
def test_cancel_cancels_a_due_message(cora, due):
    client = signed_in(cora)
    answer = client.post(f"/messages/{due.pk}/cancel/")
    assert answer.status_code == 302
    due.refresh_from_db()
    assert due.status == Status.CANCELLED and "cora" in due.reason
    assert AuditEntry.objects.filter(action="message.cancelled").exists()


@pytest.mark.django_db
def test_send_again_requeues_a_failed_message(cora, failed):
    text = html(signed_in(cora).get(f"/messages/{failed.pk}/"))
    assert "Send again" in text and "Cancel</button>" not in text
    answer = signed_in(cora).post(f"/messages/{failed.pk}/retry/")
    assert answer.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Status.DUE and failed.reason == ""


@pytest.mark.django_db
def test_the_wrong_action_for_the_status_is_refused_with_a_clear_message(cora, failed, due):
    client = signed_in(cora)
    refused = client.post(f"/messages/{failed.pk}/cancel/")
    assert refused.status_code == 409
    assert "Only a due message can be cancelled" in html(refused)
    refused = client.post(f"/messages/{due.pk}/retry/")
    assert refused.status_code == 409
    assert "Only a failed message can be sent again." in html(refused)
    failed.refresh_from_db()
    due.refresh_from_db()
    assert (failed.status, due.status) == (Status.FAILED, Status.DUE)


@pytest.mark.django_db
def test_a_clinician_may_read_but_not_cancel(cliff, due):
    assert "Cancel</button>" not in html(signed_in(cliff).get(f"/messages/{due.pk}/"))
    assert signed_in(cliff).post(f"/messages/{due.pk}/cancel/").status_code == 403
    due.refresh_from_db()
    assert due.status == Status.DUE


@pytest.mark.django_db
def test_a_clinician_of_another_department_does_not_find_the_message(hana, due):
    assert signed_in(hana).get(f"/messages/{due.pk}/").status_code == 404
    assert signed_in(hana).post(f"/messages/{due.pk}/cancel/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["lia", "andy", "pam"])
def test_liaisons_analysts_and_portal_users_have_no_outbox(who, due, request):
    client = signed_in(request.getfixturevalue(who))
    assert client.get("/messages/").status_code == 403
    assert client.get(f"/messages/{due.pk}/").status_code == 403
    assert client.post(f"/messages/{due.pk}/cancel/").status_code == 403
    due.refresh_from_db()
    assert due.status == Status.DUE


@pytest.mark.django_db
def test_signed_out_goes_to_sign_in(due):
    answer = Client().get("/messages/")
    assert answer.status_code == 302 and "/login/" in answer["Location"]


@pytest.mark.django_db
def test_the_navigation_offers_messages_to_coordinators_not_liaisons(cora, lia, org):
    assert 'href="/messages/"' in html(signed_in(cora).get("/messages/"))
    assert 'href="/messages/"' not in html(signed_in(lia).get("/"))


@pytest.fixture
def letter(referral, tmp_path, monkeypatch):
    message = make_message(
        referral, channel=Channel.LETTER, status=Status.SENT, sent_at=NOW, attempts=1
    )
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    module = types.ModuleType("refloop.messaging.transports.letter")
    module.letter_path = lambda pk: pdf if pk == message.pk else None
    monkeypatch.setitem(sys.modules, "refloop.messaging.transports.letter", module)
    return message


@pytest.mark.django_db
def test_a_sent_letter_can_be_downloaded(cora, letter):
    text = html(signed_in(cora).get(f"/messages/{letter.pk}/"))
    assert "Download letter (PDF)" in text
    answer = signed_in(cora).get(f"/messages/{letter.pk}/letter/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="message.letter_read").exists()


@pytest.mark.django_db
def test_no_letter_link_for_other_messages(cora, due):
    assert "Download letter" not in html(signed_in(cora).get(f"/messages/{due.pk}/"))
    assert signed_in(cora).get(f"/messages/{due.pk}/letter/").status_code == 404


@pytest.mark.django_db
def test_the_referral_detail_page_shows_its_messages(cora, referral, failed, due):
    text = html(signed_in(cora).get(f"/referrals/{referral.pk}/"))
    assert 'id="referral-outbox"' in text
    assert f"/messages/{failed.pk}/" in text and f"/messages/{due.pk}/" in text
    assert "The fax line was busy." in text
    assert "1 failed" in text


@pytest.mark.django_db
def test_the_referral_detail_page_has_no_messages_card_without_messages(cora, referral):
    assert 'id="referral-outbox"' not in html(signed_in(cora).get(f"/referrals/{referral.pk}/"))
