"""The survey page (public, from the link), its thank-you page with the review offer, and the
counting redirect: GET changes nothing, a survey is answered once, a click goes only to a
configured site."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refloop.advocacy.models import (
    Audience,
    Response,
    ReviewClick,
    ReviewInvitation,
    Trigger,
)
from refloop.advocacy.surveys import create_survey
from refloop.core.models import AuditEntry
from refloop.practice.models import Location
from tests.advocacy.surveys_helpers import site

pytestmark = pytest.mark.django_db


def make_survey(referral, *, audience=Audience.PATIENT, location=None, key="seen"):
    now = timezone.now()
    survey, _ = create_survey(
        audience=audience,
        trigger=Trigger.SEEN if audience == Audience.PATIENT else Trigger.LOOP_CLOSED,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"{key}:{referral.pk}",
        now=now,
        patient=referral.patient if audience == Audience.PATIENT else None,
        referral=referral,
        location=location,
    )
    return survey


def opened(survey) -> Client:
    """A browser that followed the survey's link (the code now in its cookie)."""
    client = Client()
    response = client.get(reverse("advocacy_survey_link", args=[survey.code]))
    assert response.status_code == 303 and response.url == reverse("advocacy_survey")
    assert survey.code not in response.url
    return client


@pytest.fixture
def survey(referral):
    return make_survey(referral)


def test_the_link_route_is_last_so_fixed_pages_under_s_are_reached():
    from refloop.advocacy import urls

    assert urls.urlpatterns[-1].name == "advocacy_survey_link"
    assert reverse("advocacy_survey_thanks") == "/s/thanks/"


def test_opening_the_survey_shows_the_form_and_changes_nothing(survey):
    client = opened(survey)
    before = AuditEntry.objects.count()
    page = client.get(reverse("advocacy_survey")).content.decode()
    assert page.count('name="recommend"') == 11
    assert "How easy was it to get an appointment?" in page
    assert 'name="comment"' in page
    assert "Quillfeather" not in page and "Zephyrine" not in page
    survey.refresh_from_db()
    assert survey.answered_at is None and not Response.objects.exists()
    assert AuditEntry.objects.count() == before


def test_the_survey_is_answered_once_even_if_sent_twice(survey, django_capture_on_commit_callbacks):
    client = opened(survey)
    answer = {"recommend": "2", "q_wait": "1", "comment": "Waited an hour."}
    with django_capture_on_commit_callbacks():
        first = client.post(reverse("advocacy_survey"), answer)
    assert first.status_code == 303 and first.url == reverse("advocacy_survey_thanks")
    second = client.post(reverse("advocacy_survey"), {**answer, "recommend": "10"})
    assert second.status_code == 410
    assert "already answered" in second.content.decode()
    response = Response.objects.get()
    assert (response.recommend, response.answers, response.comment) == (
        2,
        {"wait": 1},
        "Waited an hour.",
    )


def test_every_question_may_be_skipped(survey):
    client = opened(survey)
    assert client.post(reverse("advocacy_survey"), {}).status_code == 303
    response = Response.objects.get()
    assert (response.recommend, response.answers, response.comment) == (None, {}, "")


def test_a_number_off_the_scale_is_refused_with_what_to_fix(survey):
    client = opened(survey)
    response = client.post(reverse("advocacy_survey"), {"recommend": "11", "comment": "kept"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose a number from 0 to 10." in page and "kept" in page
    assert not Response.objects.exists()


@pytest.mark.parametrize("code", ["nosuchcode", "x" * 60])
def test_an_unknown_link_says_so_plainly(code):
    client = Client()
    client.get(reverse("advocacy_survey_link", args=[code]))
    response = client.get(reverse("advocacy_survey"))
    assert response.status_code == 404
    assert "This survey link is not valid." in response.content.decode()
    assert Client().get(reverse("advocacy_survey")).status_code == 404
    assert Client().get(reverse("advocacy_survey_thanks")).status_code == 404


def test_an_expired_survey_says_it_has_closed(survey):
    survey.expires_at = timezone.now() - dt.timedelta(minutes=1)
    survey.save()
    client = opened(survey)
    response = client.get(reverse("advocacy_survey"))
    assert response.status_code == 410 and "has closed" in response.content.decode()
    assert client.post(reverse("advocacy_survey"), {"recommend": "9"}).status_code == 410
    assert not Response.objects.exists()


def test_an_office_survey_has_no_0_to_10_question_and_asks_the_office_questions(referral):
    survey = make_survey(referral, audience=Audience.OFFICE, key="office")
    client = opened(survey)
    page = client.get(reverse("advocacy_survey")).content.decode()
    assert 'name="recommend"' not in page
    assert "How easy was it to refer your patient to us?" in page
    assert "How easy was it to get an appointment?" not in page
    assert client.post(reverse("advocacy_survey"), {"q_ease": "4"}).status_code == 303
    thanks = client.get(reverse("advocacy_survey_thanks")).content.decode()
    assert "Thank you" in thanks and "/r/" not in thanks
    assert not ReviewInvitation.objects.exists()


def test_the_thank_you_page_waits_for_the_answer(survey):
    client = opened(survey)
    response = client.get(reverse("advocacy_survey_thanks"))
    assert response.status_code == 303 and response.url == reverse("advocacy_survey")


# ---- the offer and the counting redirect


def click_links(page: str) -> list[str]:
    return re.findall(r'href="(/r/[^"]+)"', page)


def test_the_thank_you_page_offers_the_locations_sites_then_everyones_and_records_it(referral):
    north = Location.objects.create(name="North clinic")
    south = Location.objects.create(name="South clinic")
    everywhere = site("Google", position=2)
    local = site("Healthgrades", location=north, position=1)
    site("Yelp", location=south, position=0)
    site("Vitals", position=3, active=False)
    survey = make_survey(referral, location=north)
    client = opened(survey)
    client.post(reverse("advocacy_survey"), {"recommend": "7"})

    page = client.get(reverse("advocacy_survey_thanks")).content.decode()

    invitation = ReviewInvitation.objects.get()
    assert (invitation.via, invitation.dedupe_key, invitation.survey) == (
        ReviewInvitation.Via.SURVEY_PAGE,
        f"survey:{survey.pk}",
        survey,
    )
    assert click_links(page) == [
        reverse("advocacy_review_click", args=[invitation.code, local.pk]),
        reverse("advocacy_review_click", args=[invitation.code, everywhere.pk]),
    ]
    client.get(reverse("advocacy_survey_thanks"))
    assert ReviewInvitation.objects.count() == 1


def test_a_click_is_counted_and_goes_to_the_site(survey):
    google = site("Google")
    invitation = ReviewInvitation.objects.create(
        code="rknown",
        via=ReviewInvitation.Via.SURVEY_PAGE,
        patient=survey.patient,
        survey=survey,
        dedupe_key=f"survey:{survey.pk}",
        created_at=timezone.now(),
    )
    response = Client().get(reverse("advocacy_review_click", args=[invitation.code, google.pk]))
    assert response.status_code == 302 and response.url == google.url
    assert ReviewClick.objects.get().site == google


def test_a_click_to_a_site_the_invitation_does_not_offer_is_refused(survey):
    elsewhere = site("Yelp", location=Location.objects.create(name="South clinic"))
    switched_off = site("Vitals", active=False)
    invitation = ReviewInvitation.objects.create(
        code="rknown",
        via=ReviewInvitation.Via.SURVEY_PAGE,
        patient=survey.patient,
        survey=survey,
        dedupe_key=f"survey:{survey.pk}",
        created_at=timezone.now(),
    )
    for code, site_id in (
        (invitation.code, 999999),
        (invitation.code, elsewhere.pk),
        (invitation.code, switched_off.pk),
        ("rnosuch", site("Google").pk),
    ):
        response = Client().get(reverse("advocacy_review_click", args=[code, site_id]))
        assert response.status_code == 404
        assert "not valid" in response.content.decode() and "Location" not in response
    assert not ReviewClick.objects.exists()
