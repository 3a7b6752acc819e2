"""A referring office's ratings in a browser: the relationship page's panel (with comments,
for an admin) and the scorecard's "How you rated us" fit a desk and a phone and pass axe."""

from datetime import timedelta

import pytest
from django.utils import timezone

from refloop.advocacy.models import Audience, Question, Trigger
from refloop.advocacy.surveys import create_survey, submit_response
from refloop.demo import factories as f
from tests.browser.conftest import TARGET_SIZE, assert_accessible
from tests.browser.test_relationship_page import fits_and_passes_axe
from tests.browser.test_start_pages import DESK, PAST_THE_EDGE, PHONE

pytestmark = pytest.mark.django_db(transaction=True)


# A transactional test flushes the tables the migrations seeded: the office questions with them.
OFFICE_QUESTIONS = (
    ("ease", "How easy was it to refer your patient to us?"),
    ("speed", "How satisfied are you with how quickly your patient was seen?"),
    ("informed", "How well did we keep you informed about your patient?"),
)


@pytest.fixture
def rated(cora, spine):
    for position, (key, text) in enumerate(OFFICE_QUESTIONS):
        Question.objects.get_or_create(
            audience=Audience.OFFICE, key=key, defaults={"text": text, "position": position}
        )
    practice = f.PracticeFactory(name="Maple Grove Family Practice", city="Springfield")
    doctor = f.ProviderFactory(practice=practice, first_name="Imogen", last_name="Talbot")
    f.make_referral(acting_user=cora, referring_provider=doctor, department=spine)
    now = timezone.now()
    for days, (ease, speed, informed), comment in (
        (20, (5, 4, 2), "Calls back were slow last month; the fax line was busy for days."),
        (110, (4, 4, 4), ""),
    ):
        at = now - timedelta(days=days)
        survey, _ = create_survey(
            audience=Audience.OFFICE,
            trigger=Trigger.QUARTERLY,
            recipient=f"provider:{doctor.pk}",
            dedupe_key=f"office:provider:{doctor.pk}:{days}",
            now=at,
            referring_practice=practice,
        )
        submit_response(
            survey=survey,
            recommend=None,
            answers={"ease": ease, "speed": speed, "informed": informed},
            comment=comment,
            now=at,
        )
    return practice


def test_the_ratings_panel_and_comments_fit_and_pass_axe(signed_in, ada, rated):
    page = signed_in(ada)
    page.set_viewport_size(DESK)
    page.goto(f"/outreach/practices/{rated.pk}/")
    panel = page.locator(".rel-office").inner_text()
    assert "How they rate us" in panel and "fax line was busy" in panel
    fits_and_passes_axe(page)


def test_the_scorecards_ratings_fit_and_pass_axe(signed_in, ada, rated):
    page = signed_in(ada)
    page.set_viewport_size(DESK)
    today = timezone.localdate()
    page.goto(f"/analytics/scorecards/{rated.pk}/?start={today - timedelta(days=60)}&end={today}")
    assert page.get_by_role("heading", name="How you rated us").is_visible()
    # The section itself fits the phone (the page's charts are the analytics kit's business).
    for size in (DESK, PHONE):
        page.set_viewport_size(size)
        assert not page.evaluate(PAST_THE_EDGE, "section[aria-labelledby=rated-heading]")
        assert_accessible(page, also=TARGET_SIZE)
