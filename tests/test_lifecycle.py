"""Every allowed and every forbidden transition, inbound and outbound, and what each one needs."""

import datetime as dt

import pytest
from django.utils import timezone

from refloop.core.errors import Conflict, InvalidInput
from refloop.demo import factories as f
from refloop.referrals import lifecycle, reports, transitions
from refloop.referrals.models import AppointmentOutcome, Direction, Referral, ReferralEvent, State
from refloop.referrals.services import create_outbound_referral

INBOUND_STATES = list(lifecycle.INBOUND)
OUTBOUND_STATES = list(lifecycle.OUTBOUND)
EVERY_STATE = list(State.values)


def write_report(referral: Referral, user) -> None:
    """The clinician's progress report, which the loop is closed with."""
    reports.write_progress_report(
        referral.pk, acting_user=user, findings="Lumbar radiculopathy.", plan="PT for six weeks."
    )


def inbound_cases():
    for current in INBOUND_STATES:
        for to in EVERY_STATE:
            yield pytest.param(current, to, to in lifecycle.INBOUND[current], id=f"{current}->{to}")


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "to", "allowed"), list(inbound_cases()))
def test_inbound_transition_allowed_exactly_as_the_state_table_says(
    referral, cora, current, to, allowed
):
    referral = f.advance(referral, current, acting_user=cora)
    assert referral.state == current
    if to == State.LOOP_CLOSED and allowed:
        write_report(referral, cora)
    now = timezone.now()
    events_before = ReferralEvent.objects.filter(referral=referral).count()
    move = lambda: transitions.transition(  # noqa: E731
        referral.pk, to=to, acting_user=cora, fields=f.fields_for(to, at=now), now=now
    )
    if allowed:
        moved = move()
        assert moved.state == to
        event = ReferralEvent.objects.filter(referral=referral).latest("pk")
        assert (event.kind, event.from_state, event.to_state) == (f"referral.{to}", current, to)
        assert event.actor == cora
    else:
        with pytest.raises(Conflict) as refused:
            move()
        assert f"This referral is {current}" in refused.value.message
        for allowed_state in lifecycle.INBOUND[current]:
            assert allowed_state in refused.value.message
        referral.refresh_from_db()
        assert referral.state == current
        assert ReferralEvent.objects.filter(referral=referral).count() == events_before


OUTBOUND_PATH = {
    State.DRAFT: [],
    State.SENT: [State.SENT],
    State.ACCEPTED: [State.SENT, State.ACCEPTED],
    State.DECLINED: [State.SENT, State.DECLINED],
    State.SCHEDULED: [State.SENT, State.ACCEPTED, State.SCHEDULED],
    State.COMPLETED: [State.SENT, State.ACCEPTED, State.SCHEDULED, State.COMPLETED],
    State.CANCELLED: [State.CANCELLED],
}


def outbound_cases():
    for current in OUTBOUND_STATES:
        for to in EVERY_STATE:
            yield pytest.param(
                current, to, to in lifecycle.OUTBOUND[current], id=f"{current}->{to}"
            )


@pytest.fixture
def outbound(cora, practice_b):
    return create_outbound_referral(
        acting_user=cora,
        patient=f.patient_data(),
        receiving_practice=practice_b,
        reason="Cardiology clearance before spinal fusion",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "to", "allowed"), list(outbound_cases()))
def test_outbound_transition_allowed_exactly_as_designed(outbound, cora, current, to, allowed):
    now = timezone.now()
    for step in OUTBOUND_PATH[current]:
        transitions.transition(
            outbound.pk, to=step, acting_user=cora, fields=f.fields_for(step, at=now)
        )
    move = lambda: transitions.transition(  # noqa: E731
        outbound.pk, to=to, acting_user=cora, fields=f.fields_for(to, at=now)
    )
    if allowed:
        assert move().state == to
    else:
        with pytest.raises(Conflict):
            move()
        outbound.refresh_from_db()
        assert outbound.state == current


def test_sending_an_outbound_referral_records_the_receivers_network_status(
    outbound, cora, practice_b
):
    practice_b.in_network = False
    practice_b.save()
    sent = transitions.send_outbound(outbound, acting_user=cora)
    assert sent.receiving_in_network is False
    practice_b.in_network = True  # later changes do not rewrite history
    practice_b.save()
    sent.refresh_from_db()
    assert sent.receiving_in_network is False
    assert sent.direction == Direction.OUTBOUND and sent.sent_at is not None


def test_terminal_state_refusal_says_it_is_final(referral, cora):
    declined = f.advance(referral, State.DECLINED, acting_user=cora)
    with pytest.raises(Conflict, match="declined, which is final"):
        transitions.start_review(declined, acting_user=cora)


@pytest.mark.parametrize(
    ("current", "to", "fields", "field"),
    [
        (State.RECEIVED, State.DECLINED, {}, "reason"),
        (State.IN_REVIEW, State.DECLINED, {"reason": "other"}, "reason_detail"),
        (State.RECEIVED, State.DECLINED, {"reason": "because"}, "reason"),
        (State.RECEIVED, State.CANCELLED, {}, "reason"),
        (State.CONTACTING, State.UNREACHABLE, {}, "reason"),
        (State.RECEIVED, State.PENDING_INFO, {"missing_info": "  "}, "missing_info"),
        (State.ACCEPTED, State.SCHEDULED, {}, "appointment"),
        (State.SEEN, State.LOOP_CLOSED, {}, "report_summary"),
        (State.SCHEDULED, State.SEEN, {"visit_value": "lots"}, "visit_value"),
    ],
)
def test_transition_refuses_missing_data_naming_the_field(
    referral, cora, current, to, fields, field
):
    referral = f.advance(referral, current, acting_user=cora)
    if to == State.LOOP_CLOSED:
        write_report(referral, cora)
    with pytest.raises(InvalidInput) as refused:
        transitions.transition(referral.pk, to=to, acting_user=cora, fields=fields)
    assert refused.value.field == field
    referral.refresh_from_db()
    assert referral.state == current


def test_the_loop_is_closed_only_once_a_progress_report_is_written(referral, cora):
    seen = f.advance(referral, State.SEEN, acting_user=cora)
    assert State.LOOP_CLOSED not in transitions.allowed_states(seen, cora)
    with pytest.raises(Conflict, match="Write the progress report first"):
        transitions.transition(
            seen.pk, to=State.LOOP_CLOSED, acting_user=cora, fields={"report_summary": "PT."}
        )
    with pytest.raises(Conflict, match="Write the progress report first"):
        transitions.close_loop(seen.pk, acting_user=cora, report_summary="PT.")
    seen.refresh_from_db()
    assert seen.state == State.SEEN

    write_report(seen, cora)
    assert State.LOOP_CLOSED in transitions.allowed_states(seen, cora)
    closed = transitions.transition(
        seen.pk, to=State.LOOP_CLOSED, acting_user=cora, fields={"report_summary": "PT."}
    )
    assert closed.state == State.LOOP_CLOSED


def test_closing_without_a_report_is_refused_as_a_conflict_before_any_missing_field(referral, cora):
    # 409, not 422: no field the caller could send makes the move possible; the report must
    # be written first. So the missing report_summary is not what the answer asks for.
    seen = f.advance(referral, State.SEEN, acting_user=cora)
    with pytest.raises(Conflict) as refused:
        transitions.transition(seen.pk, to=State.LOOP_CLOSED, acting_user=cora, fields={})
    assert refused.value.status == 409
    assert "report_summary" not in refused.value.message


def test_accepting_needs_a_department(cora, provider_a, org):
    referral = f.make_referral(acting_user=cora, department=None, referring_provider=provider_a)
    with pytest.raises(InvalidInput) as refused:
        transitions.accept_referral(referral, acting_user=cora)
    assert refused.value.field == "department_id"


def test_after_a_no_show_the_referral_can_go_back_to_contacting(referral, cora):
    referral = f.advance(referral, State.NO_SHOW, acting_user=cora)
    assert referral.appointments.get().outcome == AppointmentOutcome.NO_SHOW
    again = transitions.start_contacting(referral, acting_user=cora)
    assert again.state == State.CONTACTING


def test_after_a_no_show_a_new_appointment_can_be_booked_directly(referral, cora):
    referral = f.advance(referral, State.NO_SHOW, acting_user=cora)
    later = timezone.now() + dt.timedelta(days=10)
    rebooked = transitions.schedule_referral(
        referral, acting_user=cora, appointment=transitions.AppointmentInput(starts_at=later)
    )
    assert rebooked.state == State.SCHEDULED
    outcomes = list(rebooked.appointments.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [AppointmentOutcome.NO_SHOW, ""]
    last = ReferralEvent.objects.filter(referral=referral).latest("pk")
    assert last.kind == "referral.scheduled" and last.from_state == State.NO_SHOW


def test_rescheduling_keeps_the_referral_scheduled(referral, cora):
    referral = f.advance(referral, State.SCHEDULED, acting_user=cora)
    later = timezone.now() + dt.timedelta(days=21)
    moved = transitions.reschedule_appointment(
        referral, acting_user=cora, appointment=transitions.AppointmentInput(starts_at=later)
    )
    assert moved.state == State.SCHEDULED
    first, second = moved.appointments.order_by("pk")
    assert first.outcome == AppointmentOutcome.RESCHEDULED
    assert second.outcome == "" and second.starts_at == later
    assert moved.events.latest("pk").kind == "referral.rescheduled"


def test_rescheduling_refuses_a_referral_that_is_not_scheduled(referral, cora):
    referral = f.advance(referral, State.ACCEPTED, acting_user=cora)
    with pytest.raises(Conflict, match="only a scheduled referral"):
        transitions.reschedule_appointment(
            referral,
            acting_user=cora,
            appointment=transitions.AppointmentInput(starts_at=timezone.now()),
        )


def test_naive_appointment_times_are_read_in_the_practice_time_zone(referral, cora, org):
    referral = f.advance(referral, State.ACCEPTED, acting_user=cora)
    scheduled = transitions.schedule_referral(
        referral,
        acting_user=cora,
        appointment=transitions.AppointmentInput(starts_at=dt.datetime(2026, 7, 1, 9, 30)),
    )
    starts_at = scheduled.appointments.get().starts_at
    assert starts_at == dt.datetime(2026, 7, 1, 14, 30, tzinfo=dt.UTC)  # 9:30 CDT


def test_seen_records_attendance_and_visit_value(referral, cora):
    referral = f.advance(referral, State.SCHEDULED, acting_user=cora)
    seen = transitions.mark_seen(referral, acting_user=cora, visit_value="245.50")
    appointment = seen.appointments.get()
    assert appointment.outcome == AppointmentOutcome.ATTENDED
    assert str(appointment.visit_value) == "245.50"
    assert seen.seen_at is not None


def test_cancelling_a_scheduled_referral_cancels_its_appointment(referral, cora):
    referral = f.advance(referral, State.SCHEDULED, acting_user=cora)
    cancelled = transitions.cancel_referral(referral, acting_user=cora, reason="care_elsewhere")
    assert cancelled.appointments.get().outcome == AppointmentOutcome.CANCELLED
    assert cancelled.closed_at is not None and cancelled.end_reason == "care_elsewhere"


def test_declining_keeps_reason_and_suggested_alternative(referral, cora):
    declined = transitions.decline_referral(
        referral,
        acting_user=cora,
        reason="insurance_not_accepted",
        suggested_alternative="County orthopedic clinic accepts this plan",
    )
    assert declined.end_reason == "insurance_not_accepted"
    assert declined.suggested_alternative.startswith("County")
    event = declined.events.latest("pk")
    assert event.data["suggested_alternative"].startswith("County")


def test_stale_version_is_refused_with_a_reload_message(referral, cora):
    loaded_version = referral.version
    transitions.start_review(referral, acting_user=cora)
    with pytest.raises(Conflict, match="changed since you loaded it"):
        transitions.accept_referral(referral, acting_user=cora, expected_version=loaded_version)
    referral.refresh_from_db()
    assert referral.state == State.IN_REVIEW


def test_every_change_bumps_the_version(referral, cora):
    before = Referral.objects.get(pk=referral.pk).version
    transitions.start_review(referral, acting_user=cora)
    assert Referral.objects.get(pk=referral.pk).version == before + 1


def test_the_worklist_indexes_cover_exactly_the_open_inbound_states_in_lifecycle_order():
    from refloop.referrals import lifecycle
    from refloop.referrals.models import OPEN_INBOUND_STATES, Direction

    # The same states in the same order, or queries stop matching the partial indexes.
    assert list(OPEN_INBOUND_STATES) == lifecycle.open_states(Direction.INBOUND)
