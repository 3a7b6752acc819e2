"""The post-visit survey goes out through the outbox once per patient per interval, with no
PHI but the first name, and staff can send one by hand or invite a patient to review us."""

import datetime as dt

import pytest

from refloop.advocacy.models import AdvocacySettings, ReviewInvitation, Survey, Trigger
from refloop.advocacy.sending import invite_to_review, send_survey_by_hand
from refloop.advocacy.surveys import submit_response
from refloop.core.errors import Conflict, NotAllowed
from refloop.messaging.models import Message, RuleSetting, Status
from refloop.referrals.reactions import REACTIONS
from tests.advocacy.surveys_helpers import NOW, another_referral, see, site, survey_of

pytestmark = pytest.mark.django_db


def org_name() -> str:
    from refloop.practice.models import Organization

    return Organization.current().name


def survey_messages():
    return Message.objects.filter(rule="patient.survey")


def test_the_survey_reacts_to_the_event_that_records_the_attended_visit():
    assert "refloop.advocacy.sending.on_seen" in REACTIONS["referral.seen"]


def test_a_seen_referral_gets_one_survey_message_with_its_link_and_no_phi(referral, cora):
    referral = see(referral, by=cora)

    survey = survey_of(referral)
    message = survey_messages().get()
    appointment = referral.appointments.get()
    assert (survey.trigger, survey.dedupe_key, survey.message) == (
        Trigger.SEEN,
        f"seen:{referral.pk}",
        message,
    )
    assert (survey.patient, survey.appointment, survey.department) == (
        referral.patient,
        appointment,
        referral.department,
    )
    assert survey.referring_practice == referral.referring_provider.practice
    assert survey.source_type == "provider"
    assert (
        f"/s/{survey.code}/" in message.body
        and message.body.count("https://") + message.body.count("http://") == 1
    )
    assert "Zephyrine" in message.body
    patient = referral.patient
    # The practice's own name may hold the word "Spine"; the department is never named.
    body = message.body.replace(org_name(), "")
    assert "Spine" not in body
    for phi in (patient.last_name, "back pain", "M54", referral.number, patient.phone):
        assert phi not in message.body and phi not in message.subject
    # The rule's offset: a few hours after the visit, not in the middle of it.
    assert message.due_at == NOW + dt.timedelta(hours=3)


def test_running_the_reaction_again_sends_nothing_more(referral, cora):
    referral = see(referral, by=cora)
    from refloop.advocacy.sending import on_seen
    from refloop.referrals.models import ReferralEvent

    on_seen(ReferralEvent.objects.get(referral=referral, kind="referral.seen"))
    assert (Survey.objects.count(), survey_messages().count()) == (1, 1)


def test_a_second_visit_within_ninety_days_gets_no_survey(referral, cora):
    see(referral, by=cora)
    later = another_referral(referral, by=cora, now=NOW + dt.timedelta(days=20))
    see(later, by=cora, now=NOW + dt.timedelta(days=89))
    assert (Survey.objects.count(), survey_messages().count()) == (1, 1)


def test_a_visit_after_the_interval_gets_a_new_survey(referral, cora):
    see(referral, by=cora)
    later = another_referral(referral, by=cora, now=NOW + dt.timedelta(days=80))
    see(later, by=cora, now=NOW + dt.timedelta(days=91))
    assert survey_messages().count() == 2


def test_without_contact_consent_no_survey_is_made_or_sent(referral, cora):
    referral.patient.contact_consent = False
    referral.patient.save()
    see(referral, by=cora)
    assert not Survey.objects.exists() and not survey_messages().exists()


def test_quiet_hours_hold_the_survey_until_morning(referral, cora):
    # 19:00 in Chicago: due three hours later, at 22:00, inside quiet hours (20:00 to 08:00).
    evening = dt.datetime(2027, 3, 2, 1, 0, tzinfo=dt.UTC)
    see(referral, by=cora, now=evening)
    assert survey_messages().get().due_at == dt.datetime(2027, 3, 2, 14, 0, tzinfo=dt.UTC)


def test_an_opted_out_patient_gets_no_survey(referral, cora):
    from refloop.messaging.models import Preference

    Preference.objects.create(
        recipient=f"patient:{referral.patient_id}",
        opted_out=["sms", "email", "letter"],
        updated_at=NOW,
    )
    see(referral, by=cora)
    assert not Survey.objects.exists()


def test_with_the_setting_off_there_is_no_survey(referral, cora):
    found = AdvocacySettings.current()
    found.survey_after_seen = False
    found.save()
    see(referral, by=cora)
    assert not Survey.objects.exists()


def test_a_visit_in_a_chosen_department_is_surveyed_when_the_admin_asks(referral, cora, spine):
    found = AdvocacySettings.current()
    found.survey_after_seen = False
    found.survey_after_visits = True
    found.save()
    found.survey_visit_departments.set([spine])
    referral = see(referral, by=cora)
    survey = survey_of(referral)
    assert (survey.trigger, survey.dedupe_key) == (
        Trigger.VISIT,
        f"visit:{referral.appointments.get().pk}",
    )


def test_a_visit_in_another_department_is_not(referral, cora, hand):
    found = AdvocacySettings.current()
    found.survey_after_seen = False
    found.survey_after_visits = True
    found.save()
    found.survey_visit_departments.set([hand])
    see(referral, by=cora)
    assert not Survey.objects.exists()


# ---- by hand


def test_staff_send_a_survey_by_hand(referral, cora):
    survey = send_survey_by_hand(referral=referral, acting_user=cora, now=NOW)
    assert (survey.trigger, survey.sent_by) == (Trigger.BY_HAND, cora)
    assert survey_messages().get().due_at == NOW


def test_by_hand_within_the_interval_is_refused_saying_why(referral, cora):
    see(referral, by=cora)
    with pytest.raises(Conflict, match="already sent a survey in the last 90 days"):
        send_survey_by_hand(referral=referral, acting_user=cora, now=NOW + dt.timedelta(days=5))
    assert Survey.objects.count() == 1


def test_by_hand_without_consent_is_refused_saying_why(referral, cora):
    referral.patient.contact_consent = False
    referral.patient.save()
    with pytest.raises(Conflict, match="not agreed to be contacted"):
        send_survey_by_hand(referral=referral, acting_user=cora, now=NOW)


def test_by_hand_needs_the_feedback_capability(referral, lia):
    with pytest.raises(NotAllowed):
        send_survey_by_hand(referral=referral, acting_user=lia, now=NOW)
    assert not Survey.objects.exists()


def test_by_hand_with_the_message_switched_off_says_so(referral, cora):
    RuleSetting.objects.create(key="patient.survey", enabled=False, updated_at=NOW)
    with pytest.raises(Conflict, match="switched off"):
        send_survey_by_hand(referral=referral, acting_user=cora, now=NOW)


# ---- the review invitation to a patient who did not answer


def test_a_patient_who_did_not_answer_can_be_invited_to_review_with_the_same_links(referral, cora):
    google = site("Google")
    site("Healthgrades", position=1)
    referral = see(referral, by=cora)
    survey = survey_of(referral)

    invitation = invite_to_review(survey=survey, acting_user=cora, now=NOW + dt.timedelta(days=7))

    message = Message.objects.get(rule="patient.review_invitation")
    assert invitation.message == message and invitation.via == ReviewInvitation.Via.MESSAGE
    assert "Google: http" in message.body and f"/r/{invitation.code}/{google.pk}/" in message.body
    assert message.body.index("Google") < message.body.index("Healthgrades")
    assert referral.patient.last_name not in message.body
    assert message.status == Status.DUE


def test_a_patient_is_invited_once_per_interval(referral, cora):
    site()
    survey = survey_of(see(referral, by=cora))
    invite_to_review(survey=survey, acting_user=cora, now=NOW)
    with pytest.raises(Conflict, match="already invited"):
        later = another_referral(referral, by=cora, now=NOW)
        other = send_survey_by_hand(
            referral=later, acting_user=cora, now=NOW + dt.timedelta(days=100)
        )
        invite_to_review(survey=other, acting_user=cora, now=NOW + dt.timedelta(days=30))
    assert Message.objects.filter(rule="patient.review_invitation").count() == 1


def test_an_answered_survey_is_not_invited_by_message(referral, cora):
    site()
    survey = survey_of(see(referral, by=cora))
    submit_response(survey=survey, recommend=9, answers={}, comment="", now=NOW)
    with pytest.raises(Conflict, match="thank-you page already offered"):
        invite_to_review(survey=survey, acting_user=cora, now=NOW)


def test_without_review_sites_there_is_nothing_to_invite_to(referral, cora):
    survey = survey_of(see(referral, by=cora))
    with pytest.raises(Conflict, match="No review site"):
        invite_to_review(survey=survey, acting_user=cora, now=NOW)
