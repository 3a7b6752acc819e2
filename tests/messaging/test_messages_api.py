"""The messages API: the outbox as staff with clinical access see it, filtered and paged."""

import datetime as dt
import itertools

import pytest
from django.test import Client

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging.models import Audience, Channel, DeliveryAttempt, Message, Status
from refloop.messaging.rules import RULES

URL = "/api/v1/messages"
NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
_keys = itertools.count()


def make_message(referral=None, **fields) -> Message:
    values = {
        "referral": referral,
        "rule": "referrer.acknowledgment",
        "audience": Audience.REFERRER,
        "recipient": "provider:1",
        "recipient_label": "Dr. Reed",
        "channel": Channel.EMAIL,
        "address": "reed@example.org",
        "subject": "Referral received",
        "body": "We received your referral.",
        "dedupe_key": f"test|{next(_keys)}",
        "due_at": NOW,
        "created_at": NOW,
        **fields,
    }
    return Message.objects.create(**values)


@pytest.fixture
def outbox(referral, cora):
    """A referral's messages in every status, and a staff notice for cora."""
    return {
        "due": make_message(referral, due_at=NOW + dt.timedelta(days=1)),
        "sent": make_message(
            referral,
            rule="patient.scheduled",
            audience=Audience.PATIENT,
            recipient=f"patient:{referral.patient_id}",
            recipient_label="the patient",
            channel=Channel.SMS,
            status=Status.SENT,
            sent_at=NOW,
            attempts=1,
            body="Confirm here: {{ link.confirm }} or cancel: {{ link.cancel }}",
        ),
        "failed": make_message(
            referral,
            channel=Channel.FAX,
            status=Status.FAILED,
            attempts=3,
            reason="The fax line was busy.",
            due_at=NOW - dt.timedelta(days=1),
        ),
        "staff": make_message(
            referral,
            rule="staff.sla_breach",
            audience=Audience.STAFF,
            recipient=f"user:{cora.pk}",
            recipient_label="cora",
            channel=Channel.IN_APP,
        ),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.django_db
def test_coordinator_lists_the_referrals_messages_with_links_as_placeholders(api, cora, outbox):
    DeliveryAttempt.objects.create(message=outbox["sent"], at=NOW, outcome="sent", detail="ok")
    body = api(cora).get(URL).json()
    assert body["total"] == 4 and body["limit"] == 50 and body["offset"] == 0
    sent = next(item for item in body["items"] if item["id"] == outbox["sent"].pk)
    assert sent["body"] == "Confirm here: [confirm link] or cancel: [cancel link]"
    assert "{{" not in sent["body"]
    assert sent["rule_title"] == RULES["patient.scheduled"].title
    assert sent["referral_number"] == outbox["sent"].referral.number
    assert sent["deliveries"] == [{"at": "2026-11-16T15:00:00Z", "outcome": "sent", "detail": "ok"}]
    assert set(sent) >= {
        "id", "referral_id", "referral_number", "rule", "rule_title", "audience", "recipient",
        "recipient_label", "channel", "status", "due_at", "sent_at", "attempts", "reason",
        "subject", "body", "deliveries",
    }  # fmt: skip


@pytest.mark.django_db
def test_every_listed_message_is_audited_with_its_patient(api, cora, outbox, referral):
    api(cora).get(URL)
    listed = AuditEntry.objects.filter(action="message.listed", actor=cora)
    assert listed.count() == 4
    assert set(listed.values_list("patient_id", flat=True)) == {referral.patient_id}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "failed"}, {"failed"}),
        ({"channel": "sms"}, {"sent"}),
        ({"channel": "in_app"}, {"staff"}),
        ({"due_after": "2026-11-17T00:00:00Z"}, {"due"}),
        ({"due_before": "2026-11-16T00:00:00Z"}, {"failed"}),
        ({"recipient": "provider:1"}, {"due", "failed"}),
    ],
)
def test_each_filter_narrows_the_list(api, cora, outbox, params, expected):
    assert ids(api(cora).get(URL, **params)) == {outbox[k].pk for k in expected}


@pytest.mark.django_db
def test_referral_filter_keeps_that_referrals_messages(api, cora, outbox, spine, provider_a):
    other = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    theirs = make_message(other)
    assert ids(api(cora).get(URL, referral=other.pk)) == {theirs.pk}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "lost"),
        ("channel", "pigeon"),
        ("due_before", "next tuesday"),
        ("due_after", "2026-13-40"),
        ("referral", "R-1"),
    ],
)
def test_an_invalid_filter_is_422_naming_it(api, cora, param, value):
    answer = api(cora).get(URL, **{param: value})
    assert answer.status_code == 422
    assert answer.json()["field"] == param
    assert value not in answer.json()["detail"]


@pytest.mark.django_db
def test_paging_with_limit_and_offset(api, cora, outbox):
    first = api(cora).get(URL, limit=3).json()
    second = api(cora).get(URL, limit=3, offset=3).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert first["total"] == second["total"] == 4
    # Latest due first.
    assert first["items"][0]["id"] == outbox["due"].pk


@pytest.mark.django_db
def test_staff_notices_are_for_their_addressee_and_admins(api, ada, cora, cliff, outbox):
    staff = outbox["staff"].pk
    assert staff in ids(api(cora).get(URL))
    assert staff in ids(api(ada).get(URL))
    assert staff not in ids(api(cliff).get(URL))
    assert api(cliff).get(f"{URL}/{staff}").status_code == 404


@pytest.mark.django_db
def test_clinician_sees_only_messages_of_referrals_in_their_department(api, cliff, hana, outbox):
    assert outbox["due"].pk in ids(api(cliff).get(URL))
    assert ids(api(hana).get(URL)) == set()
    assert api(hana).get(f"{URL}/{outbox['due'].pk}").status_code == 404
    assert AuditEntry.objects.filter(action="message.read_denied", actor=hana).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["lia", "andy", "pam"])
def test_liaisons_analysts_and_portal_users_are_refused(api, who, outbox, request):
    user = request.getfixturevalue(who)
    assert api(user).get(URL).status_code == 403
    assert api(user).get(f"{URL}/{outbox['due'].pk}").status_code == 403
    assert not AuditEntry.objects.filter(action="message.listed").exists()


@pytest.mark.django_db
def test_one_message_is_read_and_audited(api, cora, outbox):
    message = outbox["failed"]
    answer = api(cora).get(f"{URL}/{message.pk}")
    assert answer.status_code == 200
    assert answer.json()["status"] == "failed"
    assert answer.json()["reason"] == "The fax line was busy."
    assert AuditEntry.objects.filter(
        action="message.read", object_id=str(message.pk), actor=cora
    ).exists()
    assert api(cora).get(f"{URL}/999999").status_code == 404


@pytest.mark.django_db
def test_without_a_token_is_401(outbox):
    assert Client().get(URL).status_code == 401


@pytest.mark.django_db
def test_the_openapi_document_lists_the_message_endpoints(db):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    listing = paths[URL]["get"]
    assert listing["operationId"] == "list_messages"
    assert {"200", "401", "403", "422"} <= set(listing["responses"])
    detail = paths[URL + "/{message_id}"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(detail["responses"])
