"""A new referral's fact is written by the intake from the values in hand, in one statement,
and is the row `facts.rebuild` writes for it, patient-level columns included."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refloop.analytics import facts
from refloop.analytics.models import ReferralFact
from refloop.demo import factories as f
from refloop.portal.services import submit_referral
from refloop.referrals import transitions
from refloop.referrals.models import Referral, ReferralChannel, Urgency
from refloop.referrals.services import create_inbound_referral
from tests import samples
from tests.test_api_referrals import new_referral_body

TABLE = ReferralFact._meta.db_table


@pytest.fixture(autouse=True)
def _nothing_left_pending():
    """Referrals an earlier test marked stale in a transaction that never committed wait for
    the next commit on this connection (refloop.analytics.facts.mark_stale): their rebuild
    is not the intake's."""
    facts._pending().clear()


def _fact_writes(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if TABLE in q["sql"]]


def _patients_facts(referral_id: int) -> dict[int, dict]:
    """Every fact row of the referral's patient (the patient-level columns live on the
    patient's first), by referral."""
    key = ReferralFact.objects.get(pk=referral_id).patient_key
    return {
        row["referral_id"]: row for row in ReferralFact.objects.filter(patient_key=key).values()
    }


def _post(client, body: dict, capture) -> tuple[int, list[str]]:
    """POST an intake, with its after-commit work run as it would be; the new referral's id
    and the statements that touched the fact table."""
    with CaptureQueriesContext(connection) as captured, capture(execute=True):
        answer = client.post("/api/v1/referrals", body)
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"], _fact_writes(captured)


def _assert_rebuild_agrees(referral_id: int) -> None:
    written = _patients_facts(referral_id)
    assert facts.rebuild([referral_id]) == 1
    assert _patients_facts(referral_id) == written


def _patient(**overrides) -> dict:
    data = f.patient_data(**overrides)
    data["date_of_birth"] = data["date_of_birth"].isoformat()
    return data


@pytest.mark.parametrize("channel", [c.value for c in ReferralChannel])
@pytest.mark.parametrize("urgency", [u.value for u in Urgency])
def test_a_new_referrals_fact_is_one_insert_and_what_the_rebuild_writes(
    api, cora, provider_a, spine, channel, urgency, django_capture_on_commit_callbacks
):
    body = new_referral_body(provider_a, spine, channel=channel, urgency=urgency)
    referral_id, writes = _post(api(cora), body, django_capture_on_commit_callbacks)
    assert len(writes) == 1 and writes[0].startswith(f"INSERT INTO {TABLE}")
    fact = ReferralFact.objects.get(pk=referral_id)
    assert (fact.channel, fact.urgency, fact.state) == (channel, urgency, "received")
    assert fact.first_of_patient and fact.patient_value == 0
    assert fact.provider_npi == provider_a.npi
    _assert_rebuild_agrees(referral_id)


@pytest.mark.parametrize(
    "body",
    [
        # routed: no department given, the codes choose it; a coordinator by round-robin
        {"department_id": None},
        # no provider, no practice: a self-referral
        {"source_type": "self", "referring_provider_id": None},
        {"source_type": "other", "source_other": "Radio", "referring_provider_id": None},
        # a practice without a provider, an assignee chosen by the sender
        {"referring_provider_id": None, "referring_practice_id": "practice", "assignee_id": "cora"},
        # received late on the last day of a month, local time: the fact's month is local
        {"received_at": "2026-02-28T21:00:00-06:00"},
    ],
    ids=["routed", "self", "other", "practice_and_assignee", "local_month"],
)
def test_the_in_hand_fact_agrees_with_the_rebuild_whatever_the_request_names(
    api, cora, provider_a, spine, body, django_capture_on_commit_callbacks
):
    f.UserFactory(username="kim", role="coordinator", departments=[spine])
    named = {"practice": provider_a.practice_id, "cora": cora.pk}
    body = {key: named.get(value, value) for key, value in body.items()}
    sent = {k: v for k, v in new_referral_body(provider_a, spine, **body).items() if v is not None}
    referral_id, writes = _post(api(cora), sent, django_capture_on_commit_callbacks)
    assert len(writes) == 1
    _assert_rebuild_agrees(referral_id)


@pytest.mark.parametrize("documents", [0, 1])
def test_a_portal_referral_gets_the_same_fact_with_or_without_documents(
    pam, provider_a, spine, fake_clamd, documents, django_capture_on_commit_callbacks
):
    # Its documents are attached in the creating transaction, after the fact was written:
    # their events queue the rebuild, which writes the fact again.
    uploads = [SimpleUploadedFile("letter.pdf", samples.pdf())] * documents
    with CaptureQueriesContext(connection) as captured:
        with django_capture_on_commit_callbacks(execute=True):
            referral, created = submit_referral(
                acting_user=pam,
                patient=f.patient_data(),
                referring_provider=provider_a,
                reason="Neck pain",
                department=spine,
                documents=uploads,
            )
    assert created
    rebuilt = any(sql.startswith("DELETE FROM") for sql in _fact_writes(captured))
    assert rebuilt == bool(documents)
    _assert_rebuild_agrees(referral.pk)


def test_a_patients_later_referrals_are_not_their_first_and_leave_the_firsts_value(
    api, cora, provider_a, provider_b, spine, django_capture_on_commit_callbacks
):
    client = api(cora)
    patient = _patient()
    first_id, _ = _post(
        client,
        new_referral_body(provider_b, spine, patient=patient),
        django_capture_on_commit_callbacks,
    )
    with django_capture_on_commit_callbacks(execute=True):
        f.advance(Referral.objects.get(pk=first_id), "scheduled", acting_user=cora)
        transitions.transition(
            first_id, to="seen", acting_user=cora, fields={"visit_value": "180.00"}
        )
    assert ReferralFact.objects.get(pk=first_id).patient_value == 180

    # Another practice's referral of the same patient (same name and birth date, a new
    # patient row): not a duplicate, and not the patient's first.
    second_id, writes = _post(
        client,
        new_referral_body(provider_a, spine, patient=patient),
        django_capture_on_commit_callbacks,
    )
    assert len(writes) == 1
    second = ReferralFact.objects.get(pk=second_id)
    assert not second.first_of_patient and second.patient_value is None
    assert ReferralFact.objects.get(pk=first_id).patient_value == 180
    _assert_rebuild_agrees(second_id)

    # The same practice again within 30 days: a possible duplicate of the second.
    third_id, writes = _post(
        client,
        new_referral_body(provider_a, spine, patient=patient),
        django_capture_on_commit_callbacks,
    )
    assert Referral.objects.get(pk=third_id).possible_duplicate_of_id == second_id
    assert len(writes) == 1
    _assert_rebuild_agrees(third_id)


def test_a_referral_backdated_before_the_patients_first_is_left_to_the_rebuild(
    api, cora, provider_a, spine, django_capture_on_commit_callbacks
):
    client = api(cora)
    patient = _patient()
    first_id, _ = _post(
        client,
        new_referral_body(provider_a, spine, patient=patient),
        django_capture_on_commit_callbacks,
    )
    with django_capture_on_commit_callbacks(execute=True):
        f.advance(Referral.objects.get(pk=first_id), "scheduled", acting_user=cora)
        transitions.transition(
            first_id, to="seen", acting_user=cora, fields={"visit_value": "95.50"}
        )

    earlier = (timezone.now() - dt.timedelta(days=200)).isoformat()
    body = new_referral_body(provider_a, spine, patient=patient, received_at=earlier)
    backdated_id, writes = _post(client, body, django_capture_on_commit_callbacks)
    # Nothing written in hand (the statement's condition held it back); the rebuild ran.
    assert any(sql.startswith("DELETE FROM") for sql in writes)
    rows = _patients_facts(backdated_id)
    assert rows[backdated_id]["first_of_patient"] and rows[backdated_id]["patient_value"] == 95.5
    assert not rows[first_id]["first_of_patient"] and rows[first_id]["patient_value"] is None
    _assert_rebuild_agrees(backdated_id)


def test_a_referral_received_with_the_patients_first_at_the_same_instant_comes_second(
    cora, provider_a, spine, django_capture_on_commit_callbacks
):
    at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    patient = f.patient_data()
    ids = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            referral = f.make_referral(
                acting_user=cora,
                department=spine,
                referring_provider=provider_a,
                patient=dict(patient),
                received_at=at,
            )
        ids.append(referral.pk)
    rows = _patients_facts(ids[1])
    assert rows[ids[0]]["first_of_patient"] and not rows[ids[1]]["first_of_patient"]
    _assert_rebuild_agrees(ids[1])


def test_a_change_later_in_the_creating_transaction_is_rebuilt_after_commit(
    cora, provider_a, spine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        referral, _ = create_inbound_referral(
            acting_user=cora,
            patient=f.patient_data(),
            source_type="provider",
            channel="fax",
            referring_provider=provider_a,
            department=spine,
            reason="Low back pain",
        )
        transitions.transition(referral.pk, to="accepted", acting_user=cora, fields={})
    fact = ReferralFact.objects.get(pk=referral.pk)
    assert fact.state == "accepted"
    assert fact.version == Referral.objects.get(pk=referral.pk).version
    _assert_rebuild_agrees(referral.pk)
