"""Free text outside the encrypted columns is encrypted too: the timeline's notes and
reasons inside its JSON data, the outbox's message subjects and bodies, and the portal's
secure messages. The pages and the API still show the plaintext; keys rotate over them."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from refloop.core.keys import generate_key, key_id, parse_keys
from refloop.messaging.models import Channel, Message
from refloop.portal import services as portal
from refloop.portal.models import PortalMessage
from refloop.referrals import services, transitions
from refloop.referrals.models import ReferralEvent
from tests.messaging.test_messages_api import make_message

NOTE = "Zqxcanary prefers mornings"
MISSING = "Vwpmarker MRI report"
REVIEW = "Kplwidget looks complete"
SUBJECT = "Progress report: Quillfeather"
BODY = "Findings: Zqxcanary L4-L5 herniation. Plan: physiotherapy."
THREAD = "Vwpmarker patient anxious about surgery"


def raw(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def annotated(referral, cora, cliff):
    """A referral whose timeline holds a note, a review note and what is missing."""
    services.add_note(referral, acting_user=cora, text=NOTE)
    transitions.start_review(referral, acting_user=cliff, note=REVIEW)
    transitions.request_info(referral, acting_user=cliff, missing_info=MISSING)
    return referral


@pytest.fixture
def report_fax(referral):
    return make_message(referral, channel=Channel.FAX, subject=SUBJECT, body=BODY)


@pytest.fixture
def thread(referral, pam, cora):
    services.assign_referral(referral, acting_user=cora, assignee=cora)
    return portal.post_message(referral.pk, acting_user=pam, body=THREAD)


def test_timeline_free_text_is_stored_encrypted_and_the_codes_stay_readable(annotated):
    stored = raw("SELECT data FROM referrals_referralevent").lower()
    for clear in ("zqxcanary", "vwpmarker", "kplwidget"):
        assert clear not in stored
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data FROM referrals_referralevent WHERE kind = %s", ["referral.note_added"]
        )
        (data,) = cursor.fetchone()
    text = (json.loads(data) if isinstance(data, str) else data)["text"]
    assert text.startswith("e1:")
    received = f'"channel": "{annotated.channel}"'
    assert received in raw("SELECT data FROM referrals_referralevent")
    note = ReferralEvent.objects.get(kind="referral.note_added")
    assert note.data == {"text": NOTE}
    assert ReferralEvent.objects.get(kind="referral.pending_info").data == {"missing_info": MISSING}


def test_the_timeline_page_and_the_notes_api_show_the_plaintext(annotated, cliff, api):
    page = signed_in(cliff).get(f"/referrals/{annotated.pk}/").content.decode()
    for shown in (NOTE, MISSING, REVIEW):
        assert shown in page
    notes = api(cliff).get(f"/api/v1/referrals/{annotated.pk}/notes").json()
    assert [n["text"] for n in notes] == [NOTE]


def test_outbox_subject_and_body_are_stored_encrypted_and_the_outbox_shows_them(report_fax, cora):
    stored = raw("SELECT subject, body FROM messaging_message").lower()
    assert "quillfeather" not in stored and "zqxcanary" not in stored
    assert stored.startswith("e1:")
    assert (Message.objects.get().subject, Message.objects.get().body) == (SUBJECT, BODY)
    page = signed_in(cora).get(f"/messages/{report_fax.pk}/").content.decode()
    assert "Zqxcanary L4-L5 herniation" in page


def test_portal_messages_are_stored_encrypted_and_the_thread_shows_them(thread, cora, referral):
    assert "vwpmarker" not in raw("SELECT body FROM portal_portalmessage").lower()
    assert PortalMessage.objects.get().body == THREAD
    page = signed_in(cora).get(f"/referrals/{referral.pk}/messages/").content.decode()
    assert THREAD in page


@pytest.mark.django_db(transaction=True)
def test_rotation_reencrypts_timeline_text_and_messages_as_the_tables_owner(
    settings, annotated, report_fax, thread
):
    old = settings.ENCRYPTION_KEYS[0]
    new = parse_keys(generate_key(), setting="test")[0]
    settings.ENCRYPTION_KEYS = [new, old]
    err = io.StringIO()
    call_command("keys", "rotate", "--batch", "2", stdout=io.StringIO(), stderr=err)
    settings.ENCRYPTION_KEYS = [new]  # the old key is gone: everything must read without it
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM referrals_referralevent")
        events = [json.loads(d) if isinstance(d, str) else d for (d,) in cursor.fetchall()]
    sealed = [v for data in events for k, v in data.items() if k in ("text", "note")]
    sealed += [data["missing_info"] for data in events if "missing_info" in data]
    assert len(sealed) == 3
    assert all(value.startswith(f"e1:{key_id(new)}:") for value in sealed)
    assert "referrals.ReferralEvent.data:" in err.getvalue()
    assert [n.data["text"] for n in ReferralEvent.objects.filter(kind="referral.note_added")] == [
        NOTE
    ]
    message = Message.objects.get()
    assert (message.subject, message.body) == (SUBJECT, BODY)
    assert PortalMessage.objects.get().body == THREAD
    assert raw("SELECT body FROM messaging_message").startswith(f"e1:{key_id(new)}:")
    assert raw("SELECT body FROM portal_portalmessage").startswith(f"e1:{key_id(new)}:")
    # The timeline is append-only again once the rotation is done.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_referralevent SET kind = 'x'")
