"""Referring offices are asked the three office questions: after a sample of closed loops
and in the first week of each quarter, at most once per contact per quarter, in a message that
carries no patient data at all."""

import datetime as dt

import pytest

from refloop.advocacy import office
from refloop.advocacy.models import AdvocacySettings, Audience, Survey, Trigger
from refloop.demo import factories as f
from refloop.messaging.models import Message
from refloop.referrals import reactions as referral_reactions
from refloop.referrals.models import ReferralEvent, State

# Mid-quarter (Q4 2026): not the quarterly sweep's week.
CLOSED_AT = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
PATIENT = {"first_name": "Zephyrine", "last_name": "Quillfeather"}


def set_advocacy(**values) -> None:
    settings = AdvocacySettings.current()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()


@pytest.fixture
def staff_a(practice_a):
    return f.StaffContactFactory(practice=practice_a, name="Rosalind Ferreira", email="rf@a.test")


def closed_referral(cora, spine, provider, *, at=CLOSED_AT):
    referral = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider,
        patient=f.patient_data(**PATIENT),
        now=at - dt.timedelta(days=20),
    )
    return f.advance(referral, State.LOOP_CLOSED, acting_user=cora, now=at)


def loop_closed_event(referral) -> ReferralEvent:
    return ReferralEvent.objects.get(referral=referral, kind="referral.loop_closed")


def test_the_closed_loop_reaction_is_listed_for_the_referral_timeline():
    assert "refloop.advocacy.office.on_loop_closed" in referral_reactions.handlers_for(
        "referral.loop_closed"
    )


# ---- sampling -----------------------------------------------------------------------------


def test_sampling_at_0_and_100_percent_is_exact():
    assert not any(office.sampled(pk, 0) for pk in range(1, 500))
    assert all(office.sampled(pk, 100) for pk in range(1, 500))


def test_sampling_is_the_same_on_every_run_and_grows_with_the_share():
    first = [office.sampled(pk, 20) for pk in range(1, 500)]
    assert first == [office.sampled(pk, 20) for pk in range(1, 500)]
    assert True in first and False in first
    # A referral in the 20% sample is in every larger one.
    for pk in range(1, 500):
        if office.sampled(pk, 20):
            assert office.sampled(pk, 21) and office.sampled(pk, 50)


def test_a_closed_loop_outside_the_sample_asks_nobody(cora, spine, provider_a, staff_a):
    set_advocacy(office_survey_sample_percent=0)
    referral = closed_referral(cora, spine, provider_a)
    office.on_loop_closed(loop_closed_event(referral))
    assert not Survey.objects.exists()


def test_switched_off_after_loops_asks_nobody_even_at_100_percent(cora, spine, provider_a, staff_a):
    set_advocacy(office_survey_sample_percent=100, office_survey_after_loop=False)
    referral = closed_referral(cora, spine, provider_a)
    office.on_loop_closed(loop_closed_event(referral))
    assert not Survey.objects.exists()


# ---- after a closed loop ------------------------------------------------------------------


def test_a_sampled_closed_loop_asks_the_provider_and_each_staff_contact(
    cora, spine, provider_a, staff_a
):
    set_advocacy(office_survey_sample_percent=100)
    referral = closed_referral(cora, spine, provider_a)
    office.on_loop_closed(loop_closed_event(referral))

    surveys = Survey.objects.order_by("pk")
    assert [s.recipient for s in surveys] == [
        f"provider:{provider_a.pk}",
        f"staff_contact:{staff_a.pk}",
    ]
    for survey in surveys:
        assert survey.audience == Audience.OFFICE
        assert survey.trigger == Trigger.LOOP_CLOSED
        assert survey.referring_practice_id == provider_a.practice_id
        assert survey.referral_id == referral.pk
        assert survey.dedupe_key == f"office:{survey.recipient}:2026Q4"
        assert survey.message.rule == "referrer.office_survey"
        assert f"/s/{survey.code}/" in survey.message.body


def test_the_message_holds_no_patient_data(cora, spine, provider_a, staff_a):
    set_advocacy(office_survey_sample_percent=100)
    referral = closed_referral(cora, spine, provider_a)
    office.on_loop_closed(loop_closed_event(referral))

    patient = referral.patient
    messages = Message.objects.filter(rule="referrer.office_survey")
    assert messages.count() == 2
    for message in messages:
        text = f"{message.subject}\n{message.body}"
        for forbidden in (
            patient.first_name,
            patient.last_name,
            "Z. Q.",
            "Z.Q.",
            "ZQ",
            referral.number,
            patient.date_of_birth.isoformat(),
        ):
            assert forbidden not in text
        assert message.referral_id is None  # not filed with the patient's referral either


def test_a_contact_is_asked_once_a_quarter_across_closed_loops(cora, spine, provider_a, staff_a):
    set_advocacy(office_survey_sample_percent=100)
    first = closed_referral(cora, spine, provider_a)
    office.on_loop_closed(loop_closed_event(first))
    office.on_loop_closed(loop_closed_event(first))  # the reaction run again
    second = closed_referral(cora, spine, provider_a, at=CLOSED_AT + dt.timedelta(days=10))
    office.on_loop_closed(loop_closed_event(second))
    assert Survey.objects.count() == 2
    assert Message.objects.filter(rule="referrer.office_survey").count() == 2

    # Next quarter the same contacts are asked again.
    third = closed_referral(cora, spine, provider_a, at=dt.datetime(2027, 2, 10, 15, tzinfo=dt.UTC))
    office.on_loop_closed(loop_closed_event(third))
    assert sorted(Survey.objects.values_list("dedupe_key", flat=True)) == sorted(
        [
            f"office:provider:{provider_a.pk}:2026Q4",
            f"office:staff_contact:{staff_a.pk}:2026Q4",
            f"office:provider:{provider_a.pk}:2027Q1",
            f"office:staff_contact:{staff_a.pk}:2027Q1",
        ]
    )


# ---- each quarter -------------------------------------------------------------------------

# Chicago's first week of Q1 2027 is January 1 to 7.
WEEK_ONE = dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def active_office(cora, spine, provider_a, staff_a, practice_a):
    """Practice A referred in the last year (by provider_a); a colleague who never referred
    is not asked; practice B referred only 13 months ago."""
    f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        now=WEEK_ONE - dt.timedelta(days=40),
    )
    quiet_colleague = f.ProviderFactory(practice=practice_a)
    stale = f.ProviderFactory()
    f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=stale,
        now=WEEK_ONE - dt.timedelta(days=400),
    )
    return {"quiet": quiet_colleague, "stale": stale}


def test_the_quarterly_sweep_asks_active_practices_in_week_one_once(
    active_office, provider_a, staff_a
):
    assert office.quarterly_sweep(now=WEEK_ONE) == 2
    assert office.quarterly_sweep(now=WEEK_ONE + dt.timedelta(hours=1)) == 0  # the next run
    surveys = Survey.objects.order_by("pk")
    assert [s.recipient for s in surveys] == [
        f"provider:{provider_a.pk}",
        f"staff_contact:{staff_a.pk}",
    ]
    assert {s.trigger for s in surveys} == {Trigger.QUARTERLY}
    assert {s.referral_id for s in surveys} == {None}
    assert Message.objects.filter(rule="referrer.office_survey").count() == 2


def test_the_quarterly_sweep_does_nothing_after_week_one(active_office):
    # January 8, 09:00 in Chicago: the second week.
    assert office.quarterly_sweep(now=dt.datetime(2027, 1, 8, 15, 0, tzinfo=dt.UTC)) == 0
    # Mid-quarter, too.
    assert office.quarterly_sweep(now=dt.datetime(2027, 2, 2, 15, 0, tzinfo=dt.UTC)) == 0
    assert not Survey.objects.exists()


def test_the_quarterly_sweep_can_be_switched_off(active_office):
    set_advocacy(office_survey_quarterly=False)
    assert office.quarterly_sweep(now=WEEK_ONE) == 0
    assert not Survey.objects.exists()


def test_a_contact_asked_after_a_closed_loop_is_not_asked_again_that_quarter(
    active_office, cora, spine, provider_a, staff_a
):
    set_advocacy(office_survey_sample_percent=100)
    closed = closed_referral(cora, spine, provider_a, at=dt.datetime(2027, 1, 2, 15, tzinfo=dt.UTC))
    office.on_loop_closed(loop_closed_event(closed))
    assert Survey.objects.count() == 2

    assert office.quarterly_sweep(now=WEEK_ONE) == 0
    assert Survey.objects.filter(trigger=Trigger.QUARTERLY).count() == 0
    assert Message.objects.filter(rule="referrer.office_survey").count() == 2
