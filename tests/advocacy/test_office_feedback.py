"""What referring offices told us: the scores on the relationship page and the scorecard
(comments only for those who may see referrals), and a low answer's task for the liaison, or a
notice when the practice has none."""

import datetime as dt
import io

import pypdfium2
import pytest
import time_machine
from django.urls import reverse

from refloop.advocacy import office_selectors
from refloop.advocacy.models import AdvocacyEvent, AdvocacySettings, Audience, Trigger
from refloop.advocacy.reactions import handlers_for
from refloop.advocacy.surveys import create_survey, submit_response
from refloop.analytics import pdf, scorecards
from refloop.analytics.metrics import Period
from refloop.core import reactions
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging.models import Message
from refloop.outreach.models import Relationship, Task, TaskKind, Territory
from refloop.referrals.models import State

HANDLER = "refloop.outreach.signals.on_office_survey_answered"
# Chicago, Thursday 2 April 2026, 10:00: Q2 2026 has just begun.
NOW = dt.datetime(2026, 4, 2, 15, 0, tzinfo=dt.UTC)
COMMENT = "Mrs. Zephyrine Quillfeather waited three weeks for a call back."


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def office_survey(practice, recipient: str, at: dt.datetime, *, trigger=Trigger.QUARTERLY, **about):
    survey, _ = create_survey(
        audience=Audience.OFFICE,
        trigger=trigger,
        recipient=recipient,
        dedupe_key=f"office:{recipient}:{at.isoformat()}",
        now=at,
        referring_practice=practice,
        **about,
    )
    return survey


def answer(survey, at, *, comment="", **answers):
    submit_response(survey=survey, recommend=None, answers=answers, comment=comment, now=at)
    return AdvocacyEvent.objects.get(kind="survey.answered", survey=survey)


@pytest.fixture
def rated(practice_a, provider_a):
    """Practice A's answers: two in Q1 2026 (one with a comment naming a patient), one in
    Q4 2025 and one from two years ago (outside every window)."""
    staff = f.StaffContactFactory(practice=practice_a)
    rows = [
        (
            f"provider:{provider_a.pk}",
            dt.datetime(2026, 2, 10, 15, tzinfo=dt.UTC),
            5,
            4,
            3,
            COMMENT,
        ),
        (f"staff_contact:{staff.pk}", dt.datetime(2026, 3, 3, 15, tzinfo=dt.UTC), 4, 3, 4, ""),
        (
            f"provider:{provider_a.pk}",
            dt.datetime(2025, 11, 5, 15, tzinfo=dt.UTC),
            3,
            3,
            3,
            "Fine.",
        ),
        (f"provider:{provider_a.pk}", dt.datetime(2024, 3, 5, 15, tzinfo=dt.UTC), 1, 1, 1, ""),
    ]
    for recipient, at, ease, speed, informed, comment in rows:
        survey = office_survey(practice_a, recipient, at)
        answer(survey, at, comment=comment, ease=ease, speed=speed, informed=informed)
    return practice_a


# ---- the selector -------------------------------------------------------------------------


def test_four_quarters_of_averages_and_counts(rated):
    quarters = office_selectors.quarterly_scores(rated.pk, now=NOW)
    assert [q.label for q in quarters] == ["Q3 2025", "Q4 2025", "Q1 2026", "Q2 2026"]
    assert [q.responses for q in quarters] == [0, 1, 2, 0]
    q1 = {a.key: a.shown for a in quarters[2].averages}
    assert q1 == {"ease": "4.5", "speed": "3.5", "informed": "3.5"}
    assert [a.shown for a in quarters[0].averages] == ["–", "–", "–"]


# ---- the relationship page ----------------------------------------------------------------


def page(client, user, practice):
    client.force_login(user)
    return client.get(reverse("outreach_practice", args=[practice.pk]))


def test_the_liaison_sees_the_scores_and_no_comment(client, lia, rated):
    response = page(client, lia, rated)
    assert response.status_code == 200
    text = response.content.decode()
    assert "How they rate us" in text
    assert "Q1 2026" in text and "4.5" in text
    assert "Latest comments" not in text
    assert "Quillfeather" not in text and "Fine." not in text
    assert not AuditEntry.objects.filter(action="survey.comment_viewed").exists()


def test_who_may_see_referrals_reads_the_comments_and_it_is_audited(client, ada, rated):
    text = page(client, ada, rated).content.decode()
    assert "Latest comments" in text
    assert "Quillfeather" in text and "Fine." in text
    assert AuditEntry.objects.filter(action="survey.comment_viewed").count() == 2


def test_a_coordinator_still_cannot_open_the_relationship_page(client, cora, rated):
    # The page is outreach's: the comments are for admins there; coordinators and clinicians
    # reach feedback through advocacy's own pages.
    assert page(client, cora, rated).status_code == 403


# ---- the scorecard ------------------------------------------------------------------------

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))


def test_the_scorecard_says_how_the_practice_rated_us_over_its_twelve_months(rated):
    card = scorecards.build(rated, MARCH, now=NOW)
    assert card.office_responses == 3  # April 2025 to March 2026; not the one from 2024
    assert [(r.average, r.answers) for r in card.office_ratings] == [
        ("4.0", 3),
        ("3.3", 3),
        ("3.3", 3),
    ]
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.scorecard_pdf(card)))
    text = "\n".join(p.get_textpage().get_text_range() for p in document)
    assert len(document) == 1
    assert "How you rated us" in text and "3 answers" in text
    assert "Quillfeather" not in text


def test_the_scorecard_page_shows_the_ratings_and_never_a_comment(client, cora, rated):
    client.force_login(cora)
    text = client.get(
        reverse("analytics_scorecard", args=[rated.pk]),
        {"start": "2026-03-01", "end": "2026-04-01"},
    ).content.decode()
    assert "How you rated us" in text
    assert "Quillfeather" not in text


def test_the_analysts_copy_hides_a_small_count_of_answers(client, andy, rated):
    client.force_login(andy)
    response = client.get(reverse("analytics_scorecard", args=[rated.pk]))
    assert response.status_code == 200
    assert "How you rated us" not in response.content.decode()


# ---- a low answer -------------------------------------------------------------------------


@pytest.fixture
def liaison_of_a(practice_a, lia):
    territory = Territory.objects.create(name="North", liaison=lia)
    Relationship.objects.create(practice=practice_a, territory=territory)
    return lia


def test_the_reaction_is_listed_under_survey_answered():
    assert HANDLER in handlers_for("survey.answered")


def test_a_low_answer_raises_one_task_for_the_practices_liaison(
    liaison_of_a, practice_a, provider_a
):
    survey = office_survey(practice_a, f"provider:{provider_a.pk}", NOW)
    event = answer(survey, NOW, ease=5, speed=2, informed=4, comment=COMMENT)

    assert reactions.run_once(event, HANDLER) is True
    assert reactions.run_once(event, HANDLER) is False  # the worker runs it once
    reactions.handler(HANDLER)(event)  # and the handler on its own raises no second task

    task = Task.objects.get()
    assert task.kind == TaskKind.OFFICE_FEEDBACK
    assert task.signal_key == f"office_feedback:{survey.pk}"
    assert task.owner == liaison_of_a
    assert task.practice == practice_a and task.provider == provider_a
    assert "quickly your patient was seen? 2 of 5" in task.detail
    assert "Quillfeather" not in f"{task.title} {task.detail}"  # the comment stays out
    assert not Message.objects.filter(rule="staff.office_feedback_low").exists()


def test_an_answer_above_the_low_score_raises_nothing(liaison_of_a, practice_a, provider_a):
    survey = office_survey(practice_a, f"provider:{provider_a.pk}", NOW)
    reactions.handler(HANDLER)(answer(survey, NOW, ease=3, speed=3, informed=3))
    assert not Task.objects.exists()


def test_the_low_score_is_the_practices_setting(liaison_of_a, practice_a, provider_a):
    settings = AdvocacySettings.current()
    settings.office_low_score = 3
    settings.save()
    survey = office_survey(practice_a, f"provider:{provider_a.pk}", NOW)
    reactions.handler(HANDLER)(answer(survey, NOW, ease=3, speed=4, informed=4))
    assert Task.objects.get().owner == liaison_of_a


def test_a_patients_survey_raises_no_outreach_task(liaison_of_a, referral):
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=NOW,
        patient=referral.patient,
        referral=referral,
        referring_practice=referral.referring_practice,
    )
    submit_response(survey=survey, recommend=0, answers={"wait": 1}, comment="", now=NOW)
    event = AdvocacyEvent.objects.get(kind="survey.answered", survey=survey)
    reactions.handler(HANDLER)(event)
    assert not Task.objects.exists()


def test_without_a_liaison_the_departments_point_of_contact_hears_of_it(
    cora, cliff, spine, referral, practice_a, provider_a
):
    spine.point_of_contact = cliff
    spine.save()
    closed = f.advance(referral, State.LOOP_CLOSED, acting_user=cora, now=NOW)
    survey = office_survey(
        practice_a, f"provider:{provider_a.pk}", NOW, trigger=Trigger.LOOP_CLOSED, referral=closed
    )
    event = answer(survey, NOW, ease=1, speed=4, informed=4, comment=COMMENT)
    reactions.handler(HANDLER)(event)
    reactions.handler(HANDLER)(event)

    notices = Message.objects.filter(rule="staff.office_feedback_low")
    assert [n.recipient for n in notices] == [f"user:{cliff.pk}"]
    assert practice_a.name in notices[0].body and "1 of 5" in notices[0].body
    assert "Quillfeather" not in notices[0].body
    task = Task.objects.get()  # waiting, unassigned, for when a liaison takes the practice
    assert task.owner is None


def test_without_a_liaison_or_a_referral_the_admins_hear_of_it(ada, practice_a, provider_a):
    survey = office_survey(practice_a, f"provider:{provider_a.pk}", NOW)
    reactions.handler(HANDLER)(answer(survey, NOW, ease=4, speed=4, informed=2))
    notices = Message.objects.filter(rule="staff.office_feedback_low")
    assert [n.recipient for n in notices] == [f"user:{ada.pk}"]
