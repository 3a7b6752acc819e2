"""Patients' magic links: the token leaves the URL at once, opening acts on nothing, the
POST acts once, and expired or used links say so and offer a fresh one."""

import datetime as dt
import logging

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from refloop.core.models import AuditEntry, Notification
from refloop.messaging import magic
from refloop.messaging.models import Channel, MagicLink, Message, Status
from refloop.messaging.patient_views import LINK_COOKIE
from refloop.referrals import transitions
from refloop.referrals.models import Attachment, AttachmentKind, ReferralEvent, State

PHONE = "(555) 010-4477"
LAST_NAME = "Quillfeather"  # the referral fixture's patient


@pytest.fixture
def scheduled(referral, cora, org):
    org.phone = PHONE
    org.save(update_fields=["phone"])
    transitions.accept_referral(referral, acting_user=cora)
    # Beyond MAGIC_LINK_DAYS, so an instructions link can expire before the visit.
    starts_at = timezone.now() + dt.timedelta(days=30)
    transitions.schedule_referral(
        referral, acting_user=cora, appointment=transitions.AppointmentInput(starts_at=starts_at)
    )
    referral.refresh_from_db()
    return referral


@pytest.fixture
def appointment(scheduled):
    return scheduled.appointments.get()


@pytest.fixture
def original(scheduled):
    """The reminder that carried the link."""
    return Message.objects.create(
        referral=scheduled,
        rule="appointment.reminder",
        audience="patient",
        recipient=f"patient:{scheduled.patient_id}",
        recipient_label="Zephyrine",
        channel=Channel.SMS,
        address="+15550100000",
        subject="",
        body="Your appointment is soon. Confirm: {{ link.confirm }}",
        dedupe_key="test-reminder",
        due_at=timezone.now(),
        status=Status.SENT,
        created_at=timezone.now(),
    )


def mint(purpose, scheduled, appointment, original=None, **extra):
    return magic.mint(
        purpose,
        referral=scheduled,
        appointment=appointment,
        message=original,
        now=timezone.now(),
        **extra,
    )


def open_link(client, token):
    """What the patient's browser does with the link: follow the redirect to the page."""
    response = client.get(f"/p/{token}/")
    assert response.status_code == 303
    assert response["Location"] == "/p/"
    return client.get("/p/")


def page_text(response) -> str:
    return response.content.decode()


def test_opening_the_link_moves_the_token_into_a_cookie(client, scheduled, appointment):
    token = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment)

    response = client.get(f"/p/{token}/")

    assert response.status_code == 303
    assert token not in response["Location"]
    cookie = response.cookies[LINK_COOKIE]
    assert cookie.value == token
    assert cookie["httponly"]
    assert cookie["path"] == "/p/"
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 15 * 60
    assert not cookie["secure"]  # the test client speaks plain HTTP


def test_viewing_the_confirm_page_changes_nothing(client, scheduled, appointment):
    """A mail scanner opening the link must not confirm the appointment."""
    token = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment)
    events_before = ReferralEvent.objects.count()

    response = open_link(client, token)

    assert response.status_code == 200
    text = page_text(response)
    assert "Confirm your appointment" in text
    assert "Yes, I'll be there" in text
    assert "Zephyrine" in text
    assert LAST_NAME not in text
    assert scheduled.department.name in text
    assert MagicLink.objects.get().used_at is None
    assert ReferralEvent.objects.count() == events_before
    assert AuditEntry.objects.filter(action="magic_link.viewed", referral_id=scheduled.pk).exists()


def test_confirming_acts_once(client, scheduled, appointment):
    token = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment)
    open_link(client, token)

    first = client.post("/p/")

    assert first.status_code == 200
    assert "Thank you, see you on" in page_text(first)
    assert LAST_NAME not in page_text(first)
    assert first.cookies[LINK_COOKIE].value == ""  # the cookie is cleared
    confirmed = ReferralEvent.objects.filter(kind="referral.appointment_confirmed")
    assert [e.data for e in confirmed] == [{"appointment_id": appointment.pk, "by": "patient"}]
    assert MagicLink.objects.get().used_at is not None
    assert AuditEntry.objects.filter(action="appointment.confirmed_by_patient").count() == 1

    client.cookies[LINK_COOKIE] = token  # a second click from another tab
    second = client.post("/p/")

    assert "This link was already used: your appointment is already confirmed." in page_text(second)
    assert confirmed.count() == 1


def test_expired_link_says_so_and_offers_a_new_one(client, scheduled, appointment, original):
    token = mint(MagicLink.Purpose.VIEW_INSTRUCTIONS, scheduled, appointment, original)
    link = MagicLink.objects.get()

    with time_machine.travel(link.expires_at + dt.timedelta(minutes=1)):
        response = open_link(client, token)

    text = page_text(response)
    assert "This link has expired." in text
    assert "Send me a new link" in text
    assert LAST_NAME not in text


def test_renewing_twice_queues_one_fresh_copy(client, scheduled, appointment, original):
    token = mint(MagicLink.Purpose.VIEW_INSTRUCTIONS, scheduled, appointment, original)
    link = MagicLink.objects.get()

    with time_machine.travel(link.expires_at + dt.timedelta(minutes=1)):
        open_link(client, token)
        first = client.post("/p/renew/")
        second = client.post("/p/renew/")

    for response in (first, second):
        text = page_text(response)
        assert "We sent a new link to the phone number we have on file." in text
        assert original.address not in text
        assert LAST_NAME not in text
    copy = Message.objects.get(dedupe_key=f"renew:{link.pk}")
    assert copy.status == Status.DUE
    assert (copy.recipient, copy.channel, copy.address, copy.body, copy.rule) == (
        original.recipient,
        original.channel,
        original.address,
        original.body,
        original.rule,
    )
    assert Message.objects.count() == 2


def test_used_link_for_a_past_appointment_says_call(client, scheduled, appointment, original):
    token = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment, original)
    MagicLink.objects.update(used_at=timezone.now())

    with time_machine.travel(appointment.starts_at + dt.timedelta(hours=2)):
        response = open_link(client, token)
        renewed = client.post("/p/renew/")

    text = page_text(response)
    assert "This link was already used: your appointment is already confirmed." in text
    assert "Send me a new link" not in text
    assert "Please call" in text and PHONE in text
    assert "Please call" in page_text(renewed)
    assert not Message.objects.filter(dedupe_key__startswith="renew:").exists()


def test_used_confirm_link_says_confirmed_and_offers_no_new_link(
    client, scheduled, appointment, original
):
    """The appointment is still ahead, so a link could be renewed; but it is confirmed,
    and a new link would only ask the patient to confirm it again."""
    token = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment, original)
    open_link(client, token)
    client.post("/p/")

    client.cookies[LINK_COOKIE] = token
    response = client.get("/p/")
    renewed = client.post("/p/renew/")

    text = page_text(response)
    assert "your appointment is already confirmed" in text
    assert "Send me a new link" not in text
    assert scheduled.department.name in text  # which appointment, so the patient can check
    assert "already confirmed" in page_text(renewed)
    assert not Message.objects.filter(dedupe_key__startswith="renew:").exists()


def test_an_earlier_reminders_link_after_confirming_says_already_confirmed(
    client, scheduled, appointment, original
):
    earlier = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment, original)
    later = mint(MagicLink.Purpose.CONFIRM_APPOINTMENT, scheduled, appointment, original)
    open_link(client, later)
    client.post("/p/")  # confirmed with the later reminder's link

    page = open_link(client, earlier)
    client.cookies[LINK_COOKIE] = earlier
    again = client.post("/p/")

    for response in (page, again):
        text = page_text(response)
        assert "Your appointment is already confirmed." in text
        assert "Yes, I'll be there" not in text
        assert "Send me a new link" not in text
    confirmed = ReferralEvent.objects.filter(kind="referral.appointment_confirmed")
    assert confirmed.count() == 1


def test_unknown_token_is_not_valid(client, scheduled):
    response = open_link(client, "not-a-real-token")

    assert response.status_code == 404
    assert "This link is not valid." in page_text(response)
    assert "Traceback" not in page_text(response)


def test_no_cookie_is_not_valid(client, db):
    response = client.get("/p/")

    assert response.status_code == 404
    assert "This link is not valid." in page_text(response)


def test_cancelling_records_the_event_and_tells_staff(client, scheduled, appointment, ada):
    token = mint(MagicLink.Purpose.CANCEL_APPOINTMENT, scheduled, appointment)
    page = open_link(client, token)
    text = page_text(page)
    assert "Cancel your appointment?" in text
    assert f'Prefer a new time? Call <a href="tel:{PHONE}">{PHONE}</a>' in text
    assert LAST_NAME not in text

    response = client.post("/p/")

    assert "We have your cancellation" in page_text(response)
    assert (
        ReferralEvent.objects.filter(kind="referral.appointment_cancelled_by_patient").count() == 1
    )
    # No assignee and no point of contact for Spine: the admins answer for it.
    notice = Notification.objects.get(referral=scheduled)
    assert notice.user == ada
    assert notice.text == (
        f"The patient cancelled the appointment for referral {scheduled.number} using their link."
    )
    scheduled.refresh_from_db()
    assert scheduled.state == State.SCHEDULED  # staff decide


def test_instructions_page_is_a_plain_page(client, scheduled, appointment):
    token = mint(MagicLink.Purpose.VIEW_INSTRUCTIONS, scheduled, appointment)

    response = open_link(client, token)
    again = client.get("/p/")

    assert "What to bring" in page_text(response)
    assert "What to bring" in page_text(again)
    assert LAST_NAME not in page_text(response)
    assert MagicLink.objects.get().used_at is None
    assert AuditEntry.objects.filter(action="magic_link.viewed").count() == 2


def test_document_link_downloads_the_document(client, scheduled, cora):
    attachment = Attachment.objects.create(
        referral=scheduled,
        file=ContentFile(b"%PDF-1.4\n%test\n", name="Quillfeather-mri.pdf"),
        original_name="Quillfeather-mri.pdf",
        content_type="application/pdf",
        size=15,
        sha256="0" * 64,
        kind=AttachmentKind.IMAGING,
        uploaded_by=cora,
        uploaded_at=timezone.now(),
    )
    token = magic.mint(
        MagicLink.Purpose.VIEW_DOCUMENT,
        referral=scheduled,
        attachment=attachment,
        now=timezone.now(),
    )

    page = open_link(client, token)
    assert "Download" in page_text(page)
    assert LAST_NAME not in page_text(page)

    download = client.post("/p/")

    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert LAST_NAME not in download["Content-Disposition"]
    assert AuditEntry.objects.filter(action="document.downloaded_by_patient").count() == 1


def test_server_log_never_shows_a_link_token(caplog):
    token = "s3cr3t-T0ken_value"
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.server").warning(
            '"%s" %s %s', f"GET /p/{token}/ HTTP/1.1", "404", "179"
        )
        logging.getLogger("django.server").warning(
            '"%s" %s %s', f"GET /portal/invite/{token}/ HTTP/1.1", "404", "179"
        )
        logging.getLogger("django.request").warning("%s: %s", "Not Found", f"/p/{token}/")

    assert token not in caplog.text
    assert "GET /p/[token]/ HTTP/1.1" in caplog.text
    assert "/portal/invite/[token]/" in caplog.text
    assert "Not Found: /p/[token]/" in caplog.text
