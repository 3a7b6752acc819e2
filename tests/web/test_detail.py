"""The referral detail page: what each role sees, every action form, stale pages, documents, print."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refloop.core.models import AuditEntry
from refloop.core.roles import Role
from refloop.demo import factories as f
from refloop.referrals import reports, services, transitions
from refloop.referrals.models import Appointment, Attachment, ContactAttempt, Referral, State
from tests import samples

PDF = samples.pdf()
PNG = samples.png()
HTMX = {"HX-Request": "true"}
CHICAGO = ZoneInfo("America/Chicago")


def signed_in(client, user):
    client.force_login(user)
    return client


def url(referral, tail=""):
    return f"/referrals/{referral.pk}/{tail}"


def html_of(response) -> str:
    return response.content.decode()


def fresh(referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


def move(client, referral, to, data=None, *, version=None, headers=None):
    body = {"expected_version": fresh(referral).version if version is None else version}
    body.update(data or {})
    return client.post(url(referral, f"move/{to}"), body, headers=headers or {})


def outbound_referral(cora, practice):
    return services.create_outbound_referral(
        acting_user=cora,
        patient=f.patient_data(),
        receiving_practice=practice,
        reason="Hand surgery consult for trigger finger",
    )


@pytest.fixture
def clinic(org):
    return f.LocationFactory(name="North Clinic")


# ---- who sees what ---------------------------------------------------------------


def test_coordinator_sees_the_referral_with_the_patient_hidden(client, cora, referral):
    page = html_of(signed_in(client, cora).get(url(referral)))
    assert referral.number in page
    assert "Patient hidden" in page
    assert "Show patient" in page
    assert referral.patient.last_name not in page
    assert referral.reason in page
    assert "M54.16" in page
    assert AuditEntry.objects.filter(action="referral.read", actor=cora).count() == 1
    assert not AuditEntry.objects.filter(action="patient.read").exists()


def test_buttons_are_exactly_the_moves_allowed_now_for_a_coordinator(client, cora, referral):
    page = html_of(signed_in(client, cora).get(url(referral)))
    for to in ("in_review", "pending_info", "accepted", "declined", "cancelled"):
        assert f'href="/referrals/{referral.pk}/move/{to}"' in page
    for to in ("scheduled", "seen", "loop_closed", "contacting", "no_show"):
        assert f"/move/{to}" not in page
    for label in (
        "Start review",
        "Request information",
        ">Accept<",
        ">Decline<",
        "Cancel referral",
    ):
        assert label in page


def test_a_scheduled_referral_offers_seen_no_show_cancel_and_reschedule(client, cora, referral):
    f.advance(referral, State.SCHEDULED, acting_user=cora)
    page = html_of(signed_in(client, cora).get(url(referral)))
    moves = {to for to in State.values if f'/move/{to}"' in page}
    assert moves == {"seen", "no_show", "cancelled"}
    assert ">Mark seen<" in page and ">Record no-show<" in page and ">Reschedule<" in page


def write_report(referral, user):
    reports.write_progress_report(
        referral.pk, acting_user=user, findings="Lumbar radiculopathy.", plan="PT for six weeks."
    )


def test_close_the_loop_is_offered_only_once_a_progress_report_is_written(
    client, api, cliff, referral, cora
):
    f.advance(referral, State.SEEN, acting_user=cora)
    close = f'href="/referrals/{referral.pk}/move/loop_closed"'
    page = html_of(signed_in(client, cliff).get(url(referral)))
    assert close not in page
    assert 'id="report-form"' in page
    assert (
        "loop_closed"
        not in api(cliff).get(f"/api/v1/referrals/{referral.pk}").json()["allowed_next"]
    )
    refused = api(cliff).post(
        f"/api/v1/referrals/{referral.pk}/transitions",
        {"to": "loop_closed", "report_summary": "PT."},
    )
    assert refused.status_code == 409
    assert "Write the progress report first" in refused.json()["detail"]

    write_report(referral, cliff)
    page = html_of(client.get(url(referral)))
    assert close in page
    assert 'id="report-form"' not in page and 'id="progress-report"' in page
    assert (
        "loop_closed" in api(cliff).get(f"/api/v1/referrals/{referral.pk}").json()["allowed_next"]
    )


def test_the_close_the_loop_form_starts_from_the_progress_report(client, cliff, cora, referral):
    f.advance(referral, State.SEEN, acting_user=cora)
    write_report(referral, cliff)
    form = html_of(signed_in(client, cliff).get(url(referral, "move/loop_closed")))
    assert "Findings: Lumbar radiculopathy." in form and "Plan: PT for six weeks." in form


def test_the_progress_report_form_comes_before_the_rest_of_the_clinicians_work(
    client, cliff, cora, referral
):
    f.advance(referral, State.SEEN, acting_user=cora)
    page = html_of(signed_in(client, cliff).get(url(referral)))
    assert page.index('id="report-form"') < page.index('id="clinical-title"')
    # The primary action in the page's actions, for a narrow screen where the form is lower.
    actions = page[page.index('aria-label="Actions"') : page.index('id="report-form"')]
    assert 'href="#after-visit"' in actions and "Write the progress report" in actions


def test_the_assignee_is_named_by_full_name_in_the_header_and_the_timeline(
    client, cora, cliff, referral
):
    cliff.first_name, cliff.last_name = "Clifford", "Okafor"
    cliff.save()
    services.assign_referral(referral, acting_user=cora, assignee=cliff)
    page = html_of(signed_in(client, cora).get(url(referral)))
    header = page[page.index('class="detail-head"') : page.index('aria-label="Actions"')]
    assert "Clifford Okafor" in header
    timeline = page[page.index('id="timeline"') :]
    assert "Clifford Okafor" in timeline
    assert ">cliff<" not in timeline


def test_a_user_without_a_full_name_is_named_by_username(client, cora, cliff, referral):
    cliff.first_name = cliff.last_name = ""
    cliff.save()
    services.assign_referral(referral, acting_user=cora, assignee=cliff)
    page = html_of(signed_in(client, cora).get(url(referral)))
    timeline = page[page.index('id="timeline"') :]
    assert "Assigned" in timeline and "cliff" in timeline


def test_a_closed_referral_offers_no_moves_but_keeps_notes(client, cora, referral):
    f.advance(referral, State.DECLINED, acting_user=cora)
    page = html_of(signed_in(client, cora).get(url(referral)))
    assert "/move/" not in page
    assert "nothing more moves it" in page
    assert f"/referrals/{referral.pk}/notes" in page
    assert f"/referrals/{referral.pk}/assign" not in page


def test_clinician_of_the_department_gets_decision_buttons_only(client, cliff, referral):
    page = html_of(signed_in(client, cliff).get(url(referral)))
    assert "/move/accepted" in page and "/move/declined" in page
    assert "/move/cancelled" not in page
    assert "/assign" not in page
    assert "/contact-attempts" not in page
    assert f"/referrals/{referral.pk}/notes" in page


def test_clinician_cannot_make_a_move_their_role_does_not_include(client, cliff, referral):
    response = move(signed_in(client, cliff), referral, "cancelled", {"reason": "patient_request"})
    assert response.status_code == 403
    assert fresh(referral).state == State.RECEIVED


def test_clinician_of_another_department_gets_404_and_the_attempt_is_audited(
    client, hana, referral
):
    response = signed_in(client, hana).get(url(referral))
    assert response.status_code == 404
    assert referral.reason not in html_of(response)
    denied = AuditEntry.objects.get(action="referral.read_denied", actor=hana)
    assert denied.referral_id == referral.pk


def test_clinician_of_another_department_cannot_move_it_either(client, hana, referral):
    response = move(signed_in(client, hana), referral, "accepted")
    assert response.status_code == 404
    assert fresh(referral).state == State.RECEIVED
    assert AuditEntry.objects.filter(action="referral.read_denied", actor=hana).exists()


def test_liaison_sees_a_summary_without_patient_or_clinical_detail(client, cora, lia, referral):
    services.add_note(referral, acting_user=cora, text="Patient prefers mornings")
    response = signed_in(client, lia).get(url(referral))
    page = html_of(response)
    assert response.status_code == 200
    assert referral.number in page
    assert referral.referring_provider.last_name in page
    for hidden in (
        referral.reason,
        "M54.16",
        "Patient prefers mornings",
        "Show patient",
        referral.patient.last_name,
        "Documents",
        "/move/",
    ):
        assert hidden not in page
    assert AuditEntry.objects.filter(action="referral.read_summary", actor=lia).exists()
    assert not AuditEntry.objects.filter(action="referral.read", actor=lia).exists()


def test_liaison_may_not_show_the_patient_open_documents_or_make_moves(client, cora, lia, referral):
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=SimpleUploadedFile("a.pdf", PDF), filename="a.pdf"
    )
    client = signed_in(client, lia)
    assert client.post(url(referral, "patient")).status_code == 403
    assert client.get(url(referral, f"attachments/{attachment.pk}")).status_code == 403
    assert move(client, referral, "accepted").status_code == 403
    assert (
        client.post(url(referral, "notes"), {"text": "x", "expected_version": 1}).status_code == 403
    )
    assert fresh(referral).state == State.RECEIVED
    assert not AuditEntry.objects.filter(actor=lia, action="patient.read").exists()


@pytest.mark.parametrize("who", ["pam", "andy"])
def test_portal_users_and_analysts_are_refused(client, request, referral, who):
    user = request.getfixturevalue(who)
    response = signed_in(client, user).get(url(referral))
    assert response.status_code == 403
    assert referral.reason not in html_of(response)


def test_an_overdue_first_contact_is_flagged(client, cora, spine):
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    referral = f.make_referral(acting_user=cora, department=spine, now=received)
    assert "First contact overdue" in html_of(signed_in(client, cora).get(url(referral)))


def test_signed_out_visitors_are_sent_to_sign_in(client, referral):
    response = client.get(url(referral))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_unknown_referral_is_404_and_audited(client, cora, org):
    response = signed_in(client, cora).get("/referrals/999999/")
    assert response.status_code == 404
    assert AuditEntry.objects.filter(action="referral.read_denied", referral_id=999999).exists()


# ---- the patient "show" -----------------------------------------------------------


def test_showing_the_patient_is_a_post_and_is_audited(client, cora, referral):
    client = signed_in(client, cora)
    assert client.get(url(referral, "patient")).status_code == 405
    response = client.post(url(referral, "patient"), headers=HTMX)
    block = html_of(response)
    patient = referral.patient
    assert response.status_code == 200
    assert f"{patient.first_name} {patient.last_name}" in block
    assert patient.date_of_birth.strftime("%b") in block
    assert patient.phone in block
    assert "<html" not in block
    entry = AuditEntry.objects.get(action="patient.read", actor=cora)
    assert (entry.patient_id, entry.referral_id) == (patient.pk, referral.pk)
    assert patient.last_name not in str(entry.detail)


def test_showing_the_patient_works_without_javascript(client, cora, referral):
    response = signed_in(client, cora).post(url(referral, "patient"))
    page = html_of(response)
    assert response.status_code == 200
    assert "<html" in page and referral.patient.last_name in page
    assert "Patient hidden" not in page


def test_clinician_of_another_department_cannot_show_the_patient(client, hana, referral):
    response = signed_in(client, hana).post(url(referral, "patient"))
    assert response.status_code == 404
    assert referral.patient.last_name not in html_of(response)
    assert not AuditEntry.objects.filter(action="patient.read").exists()


# ---- every transition form ------------------------------------------------------


INBOUND_MOVES = [
    (State.RECEIVED, "in_review", {"note": "Looks complete"}),
    (State.RECEIVED, "pending_info", {"missing_info": "MRI report"}),
    (State.RECEIVED, "accepted", {"note": ""}),
    (
        State.IN_REVIEW,
        "declined",
        {"reason": "outside_scope", "suggested_alternative": "Pain management clinic"},
    ),
    (State.PENDING_INFO, "in_review", {}),
    (State.ACCEPTED, "contacting", {"note": "Calling today"}),
    (State.CONTACTING, "unreachable", {"reason": "invalid_contact_details"}),
    (State.SCHEDULED, "no_show", {}),
    (State.NO_SHOW, "contacting", {}),
    (State.SCHEDULED, "seen", {"visit_value": "180.00"}),
    (State.SEEN, "loop_closed", {"report_summary": "PT for six weeks."}),
    (State.SCHEDULED, "cancelled", {"reason": "other", "reason_detail": "Moved away"}),
]


@pytest.mark.parametrize(("start", "to", "data"), INBOUND_MOVES)
def test_each_inbound_move_form_posts_through_the_transition(
    client, cora, spine, referral, start, to, data
):
    f.advance(referral, start, acting_user=cora)
    if to == "accepted":
        data = {**data, "department": spine.pk}
    if to == "loop_closed":
        write_report(referral, cora)
    response = move(signed_in(client, cora), referral, to, data)
    assert response.status_code == 302, html_of(response)
    assert response["Location"] == url(referral)
    assert fresh(referral).state == to
    assert referral.events.filter(kind=f"referral.{to}").exists()


def test_declining_keeps_the_reason_and_suggested_alternative(client, cora, referral):
    data = {"reason": "outside_scope", "suggested_alternative": "Pain management clinic"}
    move(signed_in(client, cora), referral, "declined", data)
    declined = fresh(referral)
    assert (declined.end_reason, declined.suggested_alternative) == (
        "outside_scope",
        "Pain management clinic",
    )


def test_scheduling_books_in_the_practice_time_zone_with_clinician_and_location(
    client, cora, cliff, clinic, referral
):
    f.advance(referral, State.ACCEPTED, acting_user=cora)
    data = {"date": "2030-03-04", "time": "09:30", "clinician": cliff.pk, "location": clinic.pk}
    response = move(signed_in(client, cora), referral, "scheduled", data)
    assert response.status_code == 302
    appointment = Appointment.objects.get(referral=referral)
    assert appointment.starts_at == dt.datetime(2030, 3, 4, 9, 30, tzinfo=CHICAGO)
    assert (appointment.clinician, appointment.location) == (cliff, clinic)
    page = html_of(client.get(url(referral)))
    assert "Mar 4, 2030, 9:30 AM CST" in page


def test_marking_seen_records_the_visit_value(client, cora, referral):
    f.advance(referral, State.SCHEDULED, acting_user=cora)
    move(signed_in(client, cora), referral, "seen", {"visit_value": "180.50"})
    assert str(Appointment.objects.get(referral=referral).visit_value) == "180.50"


OUTBOUND_MOVES = [
    (["sent"], "accepted", {}),
    (["sent"], "declined", {"reason": "no_capacity"}),
    (["sent", "accepted"], "scheduled", {"date": "2030-05-06", "time": "14:00"}),
    (
        ["sent", "accepted", "scheduled"],
        "completed",
        {"report_summary": "Injection given; follow up in 3 months."},
    ),
    ([], "cancelled", {"reason": "patient_request"}),
]


@pytest.mark.parametrize(("path", "to", "data"), OUTBOUND_MOVES)
def test_each_outbound_move_form_posts_through_the_outbound_lifecycle(
    client, cora, practice_b, path, to, data
):
    referral = outbound_referral(cora, practice_b)
    client = signed_in(client, cora)
    assert move(client, referral, "sent").status_code == 302
    if not path:
        referral = outbound_referral(cora, practice_b)
    for step in path[1:]:
        fields = f.fields_for(step, at=dt.datetime.now(dt.UTC))
        transitions.transition(referral.pk, to=step, acting_user=cora, fields=fields)
    response = move(client, referral, to, data)
    assert response.status_code == 302, html_of(response)
    assert fresh(referral).state == to


def test_an_outbound_draft_offers_send_and_cancel_only(client, cora, practice_b):
    referral = outbound_referral(cora, practice_b)
    page = html_of(signed_in(client, cora).get(url(referral)))
    assert {to for to in State.values if f'/move/{to}"' in page} == {"sent", "cancelled"}
    assert "Referred to" in page and practice_b.name in page
    assert "/contact-attempts" not in page


def test_htmx_success_answers_with_a_client_redirect(client, cora, referral):
    response = move(signed_in(client, cora), referral, "in_review", headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == url(referral)
    assert "Referral" in html_of(client.get(url(referral)))


def test_a_move_the_lifecycle_does_not_allow_now_is_refused_with_its_reason(client, cora, referral):
    client = signed_in(client, cora)
    opened = client.get(url(referral, "move/seen"), headers=HTMX)
    assert opened.status_code == 409
    assert "“Mark seen” is no longer possible" in html_of(opened)
    assert 'name="expected_version"' not in html_of(opened)
    response = move(client, referral, "seen")
    assert response.status_code == 409
    assert "it cannot move to seen" in html_of(response)
    assert fresh(referral).state == State.RECEIVED


def test_an_unknown_move_is_404(client, cora, referral):
    assert signed_in(client, cora).get(url(referral, "move/completed")).status_code == 404


def test_a_move_form_loads_into_the_dialog_with_htmx(client, cora, referral):
    response = signed_in(client, cora).get(url(referral, "move/declined"), headers=HTMX)
    page = html_of(response)
    assert response.status_code == 200
    assert '<h2 id="action-dialog-title">Decline</h2>' in page
    assert f'hx-post="/referrals/{referral.pk}/move/declined"' in page
    assert "<html" not in page


def test_the_move_form_works_as_a_page_without_javascript(client, cora, referral):
    response = signed_in(client, cora).get(url(referral, "move/declined"))
    page = html_of(response)
    assert response.status_code == 200
    assert "<h1>Decline</h1>" in page
    assert f'name="expected_version" value="{referral.version}"' in page


# ---- bad input and stale pages ------------------------------------------------------


def test_field_errors_sit_beside_the_field_and_keep_what_was_typed(client, cora, referral):
    data = {"reason": "other", "suggested_alternative": "Try the hand clinic"}
    response = move(signed_in(client, cora), referral, "declined", data)
    page = html_of(response)
    assert response.status_code == 422
    assert 'id="move-declined_reason_detail_error"' in page
    assert "Say what the other reason is." in page
    assert "Try the hand clinic" in page
    assert '<option value="other" selected>' in page
    assert fresh(referral).state == State.RECEIVED


def test_a_missing_appointment_time_is_shown_beside_the_time_field(client, cora, referral):
    f.advance(referral, State.ACCEPTED, acting_user=cora)
    response = move(signed_in(client, cora), referral, "scheduled", {"date": "2030-03-04"})
    page = html_of(response)
    assert response.status_code == 422
    assert 'id="move-scheduled_time_error"' in page
    assert 'value="2030-03-04"' in page


def test_a_service_refusal_lands_beside_the_field_it_names(client, cora, referral):
    f.advance(referral, State.CONTACTING, acting_user=cora)
    response = move(
        signed_in(client, cora), referral, "unreachable", {"reason": "max_attempts_reached"}
    )
    page = html_of(response)
    assert response.status_code == 422
    assert 'id="move-unreachable_reason_error"' in page
    assert "contact attempts are on record" in page
    assert fresh(referral).state == State.CONTACTING


def test_htmx_errors_come_back_as_the_form_alone(client, cora, referral):
    response = move(signed_in(client, cora), referral, "pending_info", headers=HTMX)
    page = html_of(response)
    assert response.status_code == 422
    assert page.lstrip().startswith("<form")
    assert 'id="move-pending_info_missing_info_error"' in page


def test_a_stale_page_gets_this_referral_changed_and_nothing_is_overwritten(
    client, cora, ada, referral
):
    opened_version = referral.version
    transitions.transition(referral.pk, to="in_review", acting_user=ada, fields={})
    data = {"reason": "outside_scope", "suggested_alternative": "Pain management clinic"}
    response = move(signed_in(client, cora), referral, "declined", data, version=opened_version)
    page = html_of(response)
    assert response.status_code == 409
    assert "This referral changed since you opened it (now: In review)" in page
    assert "Reload to see the latest." in page
    assert f'href="{url(referral)}"' in page
    assert "Pain management clinic" in page
    assert fresh(referral).state == State.IN_REVIEW
    assert not referral.events.filter(kind="referral.declined").exists()


def test_a_double_submitted_move_applies_once(client, cora, spine, referral):
    client = signed_in(client, cora)
    version = referral.version
    first = move(client, referral, "accepted", {"department": spine.pk}, version=version)
    second = move(client, referral, "accepted", {"department": spine.pk}, version=version)
    assert (first.status_code, second.status_code) == (302, 409)
    assert referral.events.filter(kind="referral.accepted").count() == 1


def test_a_form_without_its_version_is_refused_and_changes_nothing(client, cora, referral):
    response = signed_in(client, cora).post(url(referral, "move/in_review"), {})
    assert response.status_code == 422
    assert "reload the page" in html_of(response)
    assert fresh(referral).state == State.RECEIVED


# ---- assignment, contact attempts, rescheduling, notes -------------------------------


def test_assigning_and_unassigning(client, cora, cliff, referral):
    client = signed_in(client, cora)
    response = client.post(
        url(referral, "assign"), {"assignee": cliff.pk, "expected_version": referral.version}
    )
    assert response.status_code == 302
    assert fresh(referral).assignee == cliff
    assert ">Reassign<" in html_of(client.get(url(referral)))
    client.post(
        url(referral, "assign"), {"assignee": "", "expected_version": fresh(referral).version}
    )
    assert fresh(referral).assignee is None


def test_only_staff_who_work_referrals_can_be_assigned(client, cora, lia, referral):
    response = signed_in(client, cora).post(
        url(referral, "assign"), {"assignee": lia.pk, "expected_version": referral.version}
    )
    assert response.status_code == 422
    assert 'id="assign_assignee_error"' in html_of(response)
    assert fresh(referral).assignee is None


def test_recording_a_contact_attempt(client, cora, referral):
    f.advance(referral, State.CONTACTING, acting_user=cora)
    data = {"channel": "phone", "outcome": "left_voicemail", "note": "Left callback number"}
    response = signed_in(client, cora).post(
        url(referral, "contact-attempts"), {**data, "expected_version": fresh(referral).version}
    )
    assert response.status_code == 302
    attempt = ContactAttempt.objects.get(referral=referral)
    assert (attempt.channel, attempt.outcome, attempt.note) == (
        "phone",
        "left_voicemail",
        data["note"],
    )
    page = html_of(client.get(url(referral)))
    assert "Left voicemail" in page


def test_a_contact_attempt_without_outcome_is_refused_beside_the_field(client, cora, referral):
    response = signed_in(client, cora).post(
        url(referral, "contact-attempts"),
        {"channel": "phone", "note": "Rang twice", "expected_version": referral.version},
    )
    page = html_of(response)
    assert response.status_code == 422
    assert 'id="contact_attempt_outcome_error"' in page
    assert "Rang twice" in page
    assert not ContactAttempt.objects.exists()


def test_a_double_submitted_contact_attempt_is_recorded_once(client, cora, referral):
    client = signed_in(client, cora)
    data = {"channel": "phone", "outcome": "no_answer", "expected_version": referral.version}
    assert client.post(url(referral, "contact-attempts"), data).status_code == 302
    assert client.post(url(referral, "contact-attempts"), data).status_code == 409
    assert ContactAttempt.objects.filter(referral=referral).count() == 1


def test_rescheduling_moves_the_appointment_and_keeps_the_referral_scheduled(
    client, cora, referral
):
    f.advance(referral, State.SCHEDULED, acting_user=cora)
    response = signed_in(client, cora).post(
        url(referral, "reschedule"),
        {"date": "2031-01-10", "time": "08:15", "expected_version": fresh(referral).version},
    )
    assert response.status_code == 302
    assert fresh(referral).state == State.SCHEDULED
    outcomes = list(Appointment.objects.filter(referral=referral).values_list("outcome", flat=True))
    assert outcomes.count("rescheduled") == 1 and outcomes.count("") == 1
    assert Appointment.objects.get(referral=referral, outcome="").starts_at == dt.datetime(
        2031, 1, 10, 8, 15, tzinfo=CHICAGO
    )


def test_adding_a_note_puts_it_on_the_timeline_with_its_author(client, cora, referral):
    client = signed_in(client, cora)
    response = client.post(
        url(referral, "notes"),
        {"text": "Spoke with the referrer", "expected_version": referral.version},
    )
    assert response.status_code == 302
    page = html_of(client.get(url(referral)))
    assert "Spoke with the referrer" in page
    assert cora.get_full_name() in page


def test_an_empty_note_is_refused_beside_the_field(client, cora, referral):
    response = signed_in(client, cora).post(
        url(referral, "notes"), {"text": "  ", "expected_version": referral.version}
    )
    assert response.status_code == 422
    assert 'id="note_text_error"' in html_of(response)


def test_a_double_submitted_note_is_added_once(client, cora, referral):
    client = signed_in(client, cora)
    data = {"text": "Fax received", "expected_version": referral.version}
    client.post(url(referral, "notes"), data)
    second = client.post(url(referral, "notes"), data)
    assert second.status_code == 409
    assert "Fax received" in html_of(second)
    assert referral.events.filter(kind="referral.note_added").count() == 1


# ---- documents ------------------------------------------------------------------------


def upload(client, referral, name, content, kind="referral_letter"):
    return client.post(
        url(referral, "attachments/new"),
        {
            "file": SimpleUploadedFile(name, content),
            "kind": kind,
            "expected_version": fresh(referral).version,
        },
    )


def test_uploading_a_pdf_shows_it_inline_on_the_page(client, cora, referral):
    client = signed_in(client, cora)
    assert upload(client, referral, "letter.pdf", PDF).status_code == 302
    attachment = Attachment.objects.get(referral=referral)
    page = html_of(client.get(url(referral)))
    src = url(referral, f"attachments/{attachment.pk}")
    assert f'<iframe data-src="{src}" title="Referral letter, uploaded' in page


def test_an_image_is_shown_as_an_image_with_alt_text(client, cora, referral):
    client = signed_in(client, cora)
    upload(client, referral, "xray.png", PNG, kind="imaging")
    page = html_of(client.get(url(referral)))
    assert '<img data-src="' in page and 'alt="Imaging, uploaded' in page


def test_a_file_that_is_not_a_document_is_refused_beside_the_field(client, cora, referral):
    response = upload(signed_in(client, cora), referral, "notes.pdf", b"just text, not a pdf")
    page = html_of(response)
    assert response.status_code == 422
    assert 'id="attachment_upload_file_error"' in page
    assert "judged by its content" in page
    assert not Attachment.objects.exists()


def test_an_oversize_file_is_refused_beside_the_field(client, cora, referral, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    response = upload(signed_in(client, cora), referral, "big.pdf", PDF + b"0" * 2048)
    assert response.status_code == 422
    assert "documents may be at most" in html_of(response)
    assert not Attachment.objects.exists()


def test_a_document_is_served_inline_sandboxed_uncached_and_audited(client, cora, referral):
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=SimpleUploadedFile("Doe.pdf", PDF), filename="Doe.pdf"
    )
    response = signed_in(client, cora).get(url(referral, f"attachments/{attachment.pk}"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert f"{referral.number}-{attachment.pk}.pdf" in response["Content-Disposition"]
    assert "Doe" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert AuditEntry.objects.filter(action="attachment.read", actor=cora).exists()


def test_a_document_of_a_referral_the_clinician_may_not_see_is_404_and_audited(
    client, cora, hana, referral
):
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=SimpleUploadedFile("a.pdf", PDF), filename="a.pdf"
    )
    response = signed_in(client, hana).get(url(referral, f"attachments/{attachment.pk}"))
    assert response.status_code == 404
    assert AuditEntry.objects.filter(action="attachment.read_denied", actor=hana).exists()


# ---- timeline, print, queries -----------------------------------------------------------


def test_the_timeline_shows_events_in_words_with_actor_time_and_data(client, cora, spine):
    received = dt.datetime(2026, 6, 30, 15, 0, tzinfo=dt.UTC)
    referral = f.make_referral(acting_user=cora, department=spine, now=received)
    at = received + dt.timedelta(days=1)
    transitions.transition(
        referral.pk,
        to="declined",
        acting_user=cora,
        fields={"reason": "no_capacity", "suggested_alternative": "City Spine Center"},
        now=at,
    )
    page = html_of(signed_in(client, cora).get(url(referral)))
    timeline = page[page.index('id="timeline"') :]
    assert "Declined" in timeline and "Received" in timeline
    assert "Jul 1, 2026, 10:00 AM CDT" in timeline
    assert "No capacity" in timeline and "City Spine Center" in timeline
    assert cora.get_full_name() in timeline
    assert timeline.index("Declined") < timeline.index("Received")


def test_the_department_fit_of_each_code_is_shown(client, cora, spine, cliff):
    referral = f.make_referral(acting_user=cora, department=spine, icd10_codes=["M54.16", "S62.0"])
    page = html_of(signed_in(client, cliff).get(url(referral)))
    assert "fits Spine" in page
    assert "not among Spine's conditions" in page


def test_print_summary_is_one_printable_page_with_an_audited_patient_read(client, cora, referral):
    response = signed_in(client, cora).get(url(referral, "print"))
    page = html_of(response)
    assert response.status_code == 200
    assert referral.patient.last_name in page
    assert referral.reason in page
    assert "Status history" in page
    assert 'class="container print-sheet"' in page
    read = AuditEntry.objects.get(action="patient.read", actor=cora)
    assert read.detail == {"purpose": "print"}


def test_liaison_print_has_no_patient_or_clinical_detail(client, lia, referral):
    page = html_of(signed_in(client, lia).get(url(referral, "print")))
    assert referral.patient.last_name not in page
    assert referral.reason not in page
    assert not AuditEntry.objects.filter(action="patient.read").exists()


def test_print_of_a_referral_the_clinician_may_not_see_is_404(client, hana, referral):
    assert signed_in(client, hana).get(url(referral, "print")).status_code == 404


def _queries_for_page(client, referral) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(referral)).status_code == 200
    return len(queries)


def _with_history(cora, clinic, count: int) -> Referral:
    referral = f.make_referral(acting_user=cora)
    for n in range(count):
        services.add_note(referral, acting_user=cora, text=f"Note {n}")
    for n in range(count // 10 + 1):
        services.add_attachment(
            referral,
            acting_user=cora,
            upload=SimpleUploadedFile(f"{n}.pdf", PDF),
            filename=f"{n}.pdf",
        )
        services.record_contact_attempt(referral, acting_user=cora, channel="phone", outcome="busy")
    f.advance(referral, State.SCHEDULED, acting_user=cora)
    transitions.reschedule_appointment(
        referral.pk,
        acting_user=cora,
        appointment=transitions.AppointmentInput(
            starts_at=dt.datetime(2030, 1, 1, 9, 0), location_id=clinic.pk
        ),
    )
    return referral


def test_the_query_count_does_not_grow_with_the_timeline_or_documents(client, cora, clinic):
    client = signed_in(client, cora)
    small = _with_history(cora, clinic, 2)
    large = _with_history(cora, clinic, 30)
    assert large.events.count() > small.events.count() + 25
    assert _queries_for_page(client, small) == _queries_for_page(client, large)


def test_a_user_who_cannot_be_assigned_is_not_offered(client, cora, lia, pam, referral):
    page = html_of(signed_in(client, cora).get(url(referral, "assign"), headers=HTMX))
    start = page.index('id="assign_assignee"')
    options = page[start : page.index("</select>", start)]
    assert f'value="{cora.pk}"' in options
    assert f'value="{lia.pk}"' not in options and f'value="{pam.pk}"' not in options
    assert Role.LIAISON not in options
