"""The detail page reads a referral in a fixed number of SQL statements, however long its
history: timeline events, portal messages, documents, contact attempts, appointments and
the people named on them."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refloop.core.roles import Role
from refloop.demo import factories as f
from refloop.portal import services as portal
from refloop.referrals import services, transitions
from refloop.referrals.models import Referral, State
from tests import samples

PDF = samples.pdf()


@pytest.fixture
def clinic(org):
    return f.LocationFactory(name="North Clinic")


def _with_history(cora, pam, spine, provider_a, clinic, count: int) -> Referral:
    """A scheduled referral with `count` notes and portal messages each way, and about a
    fifth as many assignments (each to another coordinator), documents, contact attempts,
    duplicates merged into it (each with a document) and rescheduled appointments."""
    coordinators = [
        f.UserFactory(role=Role.COORDINATOR, departments=[spine]) for _ in range(count // 5 + 1)
    ]
    patient = f.patient_data()
    referral = f.make_referral(
        acting_user=cora, department=spine, referring_provider=provider_a, patient=patient
    )
    for n in range(count):
        services.add_note(referral, acting_user=cora, text=f"Note {n}")
        portal.post_message(referral.pk, acting_user=pam, body=f"Question {n}")
        portal.post_message(referral.pk, acting_user=cora, body=f"Answer {n}")
    for n, coordinator in enumerate(coordinators):
        services.assign_referral(referral.pk, acting_user=cora, assignee=coordinator)
        services.add_attachment(
            referral,
            acting_user=cora,
            upload=SimpleUploadedFile(f"{n}.pdf", PDF),
            filename=f"{n}.pdf",
        )
        services.record_contact_attempt(referral, acting_user=cora, channel="phone", outcome="busy")
        duplicate = f.make_referral(
            acting_user=cora, department=spine, referring_provider=provider_a, patient=patient
        )
        services.add_attachment(
            duplicate,
            acting_user=cora,
            upload=SimpleUploadedFile(f"duplicate-{n}.pdf", PDF),
            filename=f"duplicate-{n}.pdf",
        )
        services.merge_duplicate(duplicate, into=referral, acting_user=cora)
    f.advance(referral, State.SCHEDULED, acting_user=cora)
    for day in range(count // 5 + 1):
        transitions.reschedule_appointment(
            referral.pk,
            acting_user=cora,
            appointment=transitions.AppointmentInput(
                starts_at=dt.datetime(2030, 1, 1 + day, 9, 0), location_id=clinic.pk
            ),
        )
    # A new question from the practice, so both pages mark the thread read as they show it.
    portal.post_message(referral.pk, acting_user=pam, body="Any news?")
    return Referral.objects.get(pk=referral.pk)


def test_the_detail_page_costs_the_same_statements_for_a_short_and_a_long_history(
    client, cora, pam, spine, provider_a, clinic, django_assert_num_queries
):
    short = _with_history(cora, pam, spine, provider_a, clinic, 1)
    long = _with_history(cora, pam, spine, provider_a, clinic, 20)
    assert long.events.count() > short.events.count() + 50
    assert long.appointments.count() >= short.appointments.count() + 4
    assert long.attachments.count() >= short.attachments.count() + 4
    assert long.contact_attempts.count() >= short.contact_attempts.count() + 4
    assert long.merged_referrals.count() >= short.merged_referrals.count() + 4
    client.force_login(cora)
    client.get(f"/referrals/{short.pk}/")  # the session's first request writes it
    portal.post_message(short.pk, acting_user=pam, body="Still there?")  # unread again
    with CaptureQueriesContext(connection) as short_page:
        assert client.get(f"/referrals/{short.pk}/").status_code == 200
    with django_assert_num_queries(len(short_page)):
        assert client.get(f"/referrals/{long.pk}/").status_code == 200


def test_the_api_detail_costs_the_same_statements_for_a_short_and_a_long_history(
    api, cora, pam, spine, provider_a, clinic, django_assert_num_queries
):
    """GET /api/v1/referrals/{id}: events, appointments, contact attempts and documents are
    read by a statement each, whatever their number."""
    short = _with_history(cora, pam, spine, provider_a, clinic, 1)
    long = _with_history(cora, pam, spine, provider_a, clinic, 20)
    assert long.events.count() > short.events.count() + 50
    client = api(cora)
    client.get(f"/api/v1/referrals/{short.pk}")  # the token's first use is written
    with CaptureQueriesContext(connection) as short_detail:
        answer = client.get(f"/api/v1/referrals/{short.pk}")
    assert answer.status_code == 200
    with django_assert_num_queries(len(short_detail)):
        answer = client.get(f"/api/v1/referrals/{long.pk}")
    assert answer.status_code == 200
    assert len(answer.json()["events"]) == long.events.count()
    assert len(answer.json()["contact_attempts"]) == long.contact_attempts.count()
