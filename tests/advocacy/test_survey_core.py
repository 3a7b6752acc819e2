"""A survey is made once per cause and answered once."""

import datetime as dt

import pytest

from refloop.advocacy.models import AdvocacyEvent, Audience, Trigger
from refloop.advocacy.surveys import create_survey, submit_response
from refloop.core.errors import Conflict, InvalidInput

NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def survey(referral):
    made, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=NOW,
        patient=referral.patient,
        referral=referral,
    )
    return made


def test_one_survey_per_cause(survey, referral):
    again, created = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=NOW,
    )
    assert (again.pk, created) == (survey.pk, False)


def test_a_survey_is_answered_once(survey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        submit_response(survey=survey, recommend=3, answers={"wait": 2}, comment=" slow ", now=NOW)
    assert survey.response.comment == "slow"
    assert AdvocacyEvent.objects.filter(kind="survey.answered", survey=survey).count() == 1
    with pytest.raises(Conflict):
        submit_response(survey=survey, recommend=10, answers={}, comment="", now=NOW)
    survey.response.refresh_from_db()
    assert survey.response.recommend == 3


@pytest.mark.parametrize("bad", [-1, 11, True, "7"])
def test_recommend_must_be_0_to_10(survey, bad):
    with pytest.raises(InvalidInput):
        submit_response(survey=survey, recommend=bad, answers={}, comment="", now=NOW)


def test_unknown_question_and_out_of_range_answer_are_refused(survey):
    with pytest.raises(InvalidInput):
        submit_response(survey=survey, recommend=None, answers={"nope": 3}, comment="", now=NOW)
    with pytest.raises(InvalidInput):
        submit_response(survey=survey, recommend=None, answers={"wait": 6}, comment="", now=NOW)


def test_an_expired_survey_takes_no_answer(survey):
    with pytest.raises(Conflict):
        submit_response(
            survey=survey, recommend=9, answers={}, comment="", now=NOW + dt.timedelta(days=31)
        )
