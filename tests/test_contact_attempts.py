"""Contact attempts: the first starts the first-contact clock; unsuccessful ones count to a maximum."""

import datetime as dt

import pytest
from django.utils import timezone

from refloop.core.errors import Conflict, InvalidInput
from refloop.demo import factories as f
from refloop.referrals import services, transitions
from refloop.referrals.models import State


def attempt(referral, user, outcome="no_answer", **kw):
    return services.record_contact_attempt(
        referral, acting_user=user, channel="phone", outcome=outcome, **kw
    )


def test_first_attempt_sets_first_contact_time(referral, cora):
    at = referral.received_at + dt.timedelta(hours=3)
    attempt(referral, cora, at=at, now=at + dt.timedelta(minutes=5))
    attempt(referral, cora, now=at + dt.timedelta(hours=5))
    referral.refresh_from_db()
    assert referral.first_contact_at == at


def test_attempts_can_be_recorded_in_any_open_state(referral, cora):
    for state in (State.RECEIVED, State.IN_REVIEW):
        referral = (
            f.advance(referral, state, acting_user=cora) if state != referral.state else referral
        )
        attempt(referral, cora, outcome="reached")
    assert referral.contact_attempts.count() == 2


def test_no_attempts_on_a_closed_referral(referral, cora):
    referral = f.advance(referral, State.DECLINED, acting_user=cora)
    with pytest.raises(Conflict, match="final"):
        attempt(referral, cora)


def test_attempt_time_cannot_be_in_the_future_or_before_receipt(referral, cora):
    with pytest.raises(InvalidInput, match="future"):
        attempt(referral, cora, at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(InvalidInput, match="before the referral was received"):
        attempt(referral, cora, at=referral.received_at - dt.timedelta(hours=1))


def test_unknown_outcome_is_refused_naming_the_field(referral, cora):
    with pytest.raises(InvalidInput) as refused:
        attempt(referral, cora, outcome="gave_up")
    assert refused.value.field == "outcome"


def test_reaching_the_maximum_of_unsuccessful_attempts_makes_the_referral_unreachable(
    referral, cora, org
):
    referral = f.advance(referral, State.CONTACTING, acting_user=cora)
    attempt(referral, cora, outcome="no_answer")
    attempt(referral, cora, outcome="reached")  # reached but did not book: not counted
    attempt(referral, cora, outcome="left_voicemail")
    referral.refresh_from_db()
    assert referral.state == State.CONTACTING
    attempt(referral, cora, outcome="busy")
    referral.refresh_from_db()
    assert referral.state == State.UNREACHABLE
    assert referral.end_reason == "max_attempts_reached"
    assert referral.events.latest("pk").kind == "referral.unreachable"


def test_the_maximum_is_configurable(referral, cora, org):
    org.max_contact_attempts = 1
    org.save()
    referral = f.advance(referral, State.CONTACTING, acting_user=cora)
    attempt(referral, cora)
    referral.refresh_from_db()
    assert referral.state == State.UNREACHABLE


def test_attempts_before_outreach_began_do_not_count(referral, cora):
    attempt(referral, cora, outcome="no_answer")  # while received: e.g. checking details
    attempt(referral, cora, outcome="no_answer")
    referral = f.advance(referral, State.CONTACTING, acting_user=cora)
    attempt(referral, cora, outcome="no_answer")
    referral.refresh_from_db()
    assert referral.state == State.CONTACTING


def test_no_show_starts_a_new_round_of_attempts(referral, cora):
    referral = f.advance(referral, State.CONTACTING, acting_user=cora)
    attempt(referral, cora)
    attempt(referral, cora)
    transitions.schedule_referral(
        referral,
        acting_user=cora,
        appointment=transitions.AppointmentInput(starts_at=timezone.now() + dt.timedelta(days=3)),
    )
    referral = transitions.record_no_show(referral, acting_user=cora)
    attempt(referral, cora)
    attempt(referral, cora)
    referral.refresh_from_db()
    assert referral.state == State.NO_SHOW
    attempt(referral, cora)
    referral.refresh_from_db()
    assert referral.state == State.UNREACHABLE


def test_max_attempts_reason_needs_the_attempts_on_record(referral, cora):
    referral = f.advance(referral, State.CONTACTING, acting_user=cora)
    attempt(referral, cora)
    with pytest.raises(InvalidInput, match="Only 1 of 3 contact attempts"):
        transitions.mark_unreachable(referral, acting_user=cora, reason="max_attempts_reached")
    marked = transitions.mark_unreachable(
        referral, acting_user=cora, reason="invalid_contact_details"
    )
    assert marked.state == State.UNREACHABLE
