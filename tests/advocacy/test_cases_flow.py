"""Service recovery: a low score opens a case that is acknowledged, resolved and closed on its
timeline; the clocks at their boundaries; the sweep that escalates a late case, once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from refloop.advocacy import case_clocks, cases
from refloop.advocacy.models import (
    AdvocacyEvent,
    AdvocacySettings,
    Audience,
    Case,
    CaseOutcome,
    CaseSource,
    CaseState,
    ReviewInvitation,
    Trigger,
)
from refloop.advocacy.reactions import handlers_for
from refloop.advocacy.surveys import create_survey, submit_response
from refloop.advocacy.tasks import sweep_case_clocks
from refloop.core import reactions as runner
from refloop.core.errors import Conflict, InvalidInput, NotAllowed
from refloop.core.models import AuditEntry
from refloop.messaging.models import Message
from refloop.referrals.models import Referral

CHICAGO = ZoneInfo("America/Chicago")
# A Friday evening in the practice's time zone.
FRIDAY_EVENING = dt.datetime(2026, 11, 6, 18, 30, tzinfo=CHICAGO)
NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


def react_to_everything() -> int:
    """What the worker does: each advocacy event's reactions, once each."""
    ran = 0
    for event in AdvocacyEvent.objects.order_by("pk"):
        for path in handlers_for(event.kind):
            ran += runner.run_once(event, path)
    return ran


def answered(referral, *, recommend, comment="", audience=Audience.PATIENT, key="seen"):
    survey, _ = create_survey(
        audience=audience,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"{key}:{referral.pk}",
        now=NOW,
        patient=referral.patient,
        referral=referral,
        department=referral.department,
    )
    submit_response(survey=survey, recommend=recommend, answers={}, comment=comment, now=NOW)
    return survey


def test_a_low_score_opens_a_case_that_is_acknowledged_resolved_and_closed(referral, cliff, cora):
    Referral.objects.filter(pk=referral.pk).update(assignee=cliff)
    survey = answered(referral, recommend=4, comment="I waited two hours past my time.")
    react_to_everything()
    survey.response.refresh_from_db()
    assert survey.response.complaint
    case = Case.objects.get(response=survey.response)
    assert (case.source, case.category, case.state) == (CaseSource.LOW_SCORE, "wait", "open")
    assert case.owner == cliff and case.patient == referral.patient
    assert case.number.startswith("C-") and len(case.number) == 11
    assert (
        case.acknowledge_by > case.opened_at
        and case.resolve_by == case.opened_at + dt.timedelta(days=7)
    )

    later = NOW + dt.timedelta(hours=2)
    cases.acknowledge(case, acting_user=cliff, now=later, note="Called her back")
    with pytest.raises(InvalidInput):
        cases.resolve(
            case, acting_user=cliff, outcome=CaseOutcome.RESOLVED, action_taken=" ", now=later
        )
    cases.resolve(
        case,
        acting_user=cliff,
        outcome=CaseOutcome.RESOLVED,
        action_taken="Apologised; moved her next visit to the first slot of the day.",
        now=later,
    )
    cases.close(case, acting_user=cora, now=later)
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.outcome == CaseOutcome.RESOLVED
    assert [e.kind for e in case.events.order_by("pk")] == [
        "case.opened",
        "case.acknowledged",
        "case.resolved",
        "case.closed",
    ]
    assert AuditEntry.objects.filter(object_type="case", object_id=str(case.pk)).count() >= 4
    # Running the reactions again opens no second case; the case never touched an invitation.
    react_to_everything()
    for path in handlers_for("survey.answered"):
        runner.handler(path)(AdvocacyEvent.objects.get(kind="survey.answered"))
    assert Case.objects.count() == 1
    assert not ReviewInvitation.objects.exists()


def test_a_complaining_comment_with_a_high_score_opens_a_comment_case(referral):
    survey = answered(referral, recommend=9, comment="Great doctor, but there was a billing error.")
    react_to_everything()
    case = Case.objects.get()
    assert (case.source, case.category, case.response) == ("comment", "billing", survey.response)


def test_praise_opens_no_case(referral):
    survey = answered(referral, recommend=10, comment="No complaints, great staff")
    react_to_everything()
    survey.response.refresh_from_db()
    assert not survey.response.complaint and not Case.objects.exists()


def test_the_low_score_setting_is_the_line(referral, provider_a, cora, spine):
    AdvocacySettings.objects.update_or_create(pk=1, defaults={"low_score": 6})
    answered(referral, recommend=7)
    react_to_everything()
    assert not Case.objects.exists()
    answered(referral, recommend=6, key="again")
    react_to_everything()
    case = Case.objects.get()
    assert (case.source, case.category) == (CaseSource.LOW_SCORE, "other")


def test_an_office_survey_opens_no_patient_case(referral):
    answered(referral, recommend=None, comment="Rude on the phone", audience=Audience.OFFICE)
    react_to_everything()
    assert not Case.objects.exists()


def test_moves_are_refused_in_the_wrong_state_or_to_the_wrong_people(referral, cora, lia):
    case = cases.open_case(
        acting_user=cora,
        source="phone",
        category="staff",
        summary="Rude on the phone",
        referral=referral,
        now=NOW,
    )
    assert case.owner is None  # no assignee, Spine has no point of contact
    with pytest.raises(Conflict, match="acknowledge it before resolving"):
        cases.resolve(case, acting_user=cora, outcome="resolved", action_taken="x", now=NOW)
    with pytest.raises(Conflict):
        cases.close(case, acting_user=cora, now=NOW)
    with pytest.raises(NotAllowed):
        cases.acknowledge(case, acting_user=lia, now=NOW)
    with pytest.raises(InvalidInput):
        cases.reassign(case, acting_user=cora, owner=lia, now=NOW)
    cases.acknowledge(case, acting_user=cora, now=NOW)
    case.refresh_from_db()
    assert case.owner == cora  # an unowned case is the acknowledger's
    with pytest.raises(Conflict, match="only an open case"):
        cases.acknowledge(case, acting_user=cora, now=NOW)
    cases.resolve(case, acting_user=cora, outcome="partly", action_taken="Apologised", now=NOW)
    with pytest.raises(InvalidInput):
        cases.reopen(case, acting_user=cora, reason="", now=NOW)
    cases.reopen(case, acting_user=cora, reason="She called again", now=NOW)
    case.refresh_from_db()
    assert (case.state, case.outcome, case.resolved_at) == ("acknowledged", "", None)


def test_the_owner_is_the_department_contact_when_the_referral_has_no_assignee(
    referral, spine, hana
):
    spine.point_of_contact = hana
    spine.save()
    case = cases.open_case(
        acting_user=None,
        source="low_score",
        category="other",
        summary="3/10",
        referral=referral,
        now=NOW,
    )
    assert case.owner == hana


# ---------------------------------------------------------------- clocks


def test_friday_evening_is_acknowledged_by_monday_evening(org):
    due = case_clocks.acknowledge_by(FRIDAY_EVENING)
    assert due == dt.datetime(2026, 11, 9, 18, 30, tzinfo=CHICAGO)
    assert case_clocks.resolve_by(FRIDAY_EVENING) == FRIDAY_EVENING + dt.timedelta(days=7)


def test_at_the_deadline_it_is_on_time_and_a_second_later_it_is_late(referral, cora):
    case = cases.open_case(
        acting_user=cora,
        source="phone",
        category="wait",
        summary="Long wait",
        referral=referral,
        now=FRIDAY_EVENING,
    )
    at = case.acknowledge_by
    on_time = case_clocks.running_clock(case, now=at)
    assert (on_time.name, on_time.late) == ("acknowledge", False)
    late = case_clocks.running_clock(case, now=at + dt.timedelta(seconds=1))
    assert late.late and late.words == "late 1 min"
    assert case_clocks.running_clock(case, now=at - dt.timedelta(hours=3)).words == "due in 3 h"
    assert not Case.objects.filter(case_clocks.overdue_filter(at)).exists()
    assert Case.objects.filter(case_clocks.overdue_filter(at + dt.timedelta(seconds=1))).exists()
    cases.acknowledge(case, acting_user=cora, now=at)
    case.refresh_from_db()
    resolve = case_clocks.running_clock(case, now=case.resolve_by)
    assert (resolve.name, resolve.late) == ("resolve", False)
    assert (
        case_clocks.running_clock(case, now=case.resolve_by + dt.timedelta(days=1)).words
        == "late 1 d"
    )


# ---------------------------------------------------------------- the sweep


def test_the_sweep_escalates_a_late_case_once_per_clock(referral, cliff, hana, ada, spine):
    spine.point_of_contact = hana
    spine.save()
    Referral.objects.filter(pk=referral.pk).update(assignee=cliff)
    referral.refresh_from_db()
    case = cases.open_case(
        acting_user=cliff,
        source="phone",
        category="wait",
        summary="Waited two hours",
        referral=referral,
        now=FRIDAY_EVENING,
    )
    assert sweep_case_clocks(now=case.acknowledge_by) == 0
    past = case.acknowledge_by + dt.timedelta(seconds=1)
    assert sweep_case_clocks(now=past) == 1
    react_to_everything()
    notices = Message.objects.filter(rule="staff.case_acknowledge_overdue")
    assert sorted(m.recipient for m in notices) == sorted([f"user:{cliff.pk}", f"user:{hana.pk}"])
    assert case.number in notices.first().body
    # A rerun, and the reactions again: nothing twice.
    assert sweep_case_clocks(now=past + dt.timedelta(hours=1)) == 0
    react_to_everything()
    assert Message.objects.filter(rule="staff.case_acknowledge_overdue").count() == 2
    # Seven days on, still not acknowledged: the resolve clock too, once.
    week = case.resolve_by + dt.timedelta(seconds=1)
    assert sweep_case_clocks(now=week) == 1
    assert sweep_case_clocks(now=week) == 0
    react_to_everything()
    assert Message.objects.filter(rule="staff.case_resolve_overdue").count() == 2
    assert AdvocacyEvent.objects.filter(case=case, kind__endswith="_overdue").count() == 2


def test_with_no_point_of_contact_the_admins_hear(referral, cora, ada):
    case = cases.open_case(
        acting_user=cora,
        source="phone",
        category="wait",
        summary="Waited",
        referral=referral,
        now=FRIDAY_EVENING,
    )
    assert sweep_case_clocks(now=case.acknowledge_by + dt.timedelta(seconds=1)) == 1
    react_to_everything()
    assert [m.recipient for m in Message.objects.filter(rule="staff.case_acknowledge_overdue")] == [
        f"user:{ada.pk}"
    ]


def test_an_acknowledged_case_is_not_escalated_for_acknowledgement(referral, cora):
    case = cases.open_case(
        acting_user=cora,
        source="phone",
        category="wait",
        summary="Waited",
        referral=referral,
        now=FRIDAY_EVENING,
    )
    cases.acknowledge(case, acting_user=cora, now=case.acknowledge_by)
    assert sweep_case_clocks(now=case.acknowledge_by + dt.timedelta(hours=1)) == 0


def test_the_sweep_runs_as_a_periodic_worker_job():
    from django.utils.module_loading import import_string

    from refloop.ops.worker import periodic_jobs

    job = next(j for j in periodic_jobs() if j.name == "advocacy_case_clocks")
    assert import_string(job.task_path).name == "case_sweep"


def test_a_note_and_a_reason_are_stored_encrypted_and_kept_out_of_the_audit_log(referral, cora):
    from django.db import connection

    case = cases.open_case(
        acting_user=cora,
        source="phone",
        category="staff",
        summary="Rude at the desk",
        referral=referral,
        now=NOW,
    )
    cases.acknowledge(case, acting_user=cora, now=NOW, note="Zqxnote called Mrs Quillfeather")
    cases.resolve(
        case, acting_user=cora, outcome=CaseOutcome.RESOLVED, action_taken="Apologised", now=NOW
    )
    cases.reopen(case, acting_user=cora, reason="Zqxreason she rang again", now=NOW)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM advocacy_advocacyevent")
        stored = " ".join(str(row[0]) for row in cursor.fetchall())
        cursor.execute("SELECT detail FROM core_auditentry")
        audited = " ".join(str(row[0]) for row in cursor.fetchall())
    assert "Zqx" not in stored and "Quillfeather" not in stored
    assert "Zqx" not in audited and "Quillfeather" not in audited
    assert '"outcome": "resolved"' in stored  # codes stay readable to SQL
    notes = [e.data.get("note") or e.data.get("reason") for e in case.events.all()]
    assert "Zqxnote called Mrs Quillfeather" in notes and "Zqxreason she rang again" in notes
