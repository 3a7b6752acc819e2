"""No review gating (16 CFR 465.7; Google's review policy): every respondent, whatever their
score and whatever the practice's settings, is offered the same review sites, in the same
order, with the same words. The settings are read from the model, so a setting added later
joins this test by itself (or fails it until the test knows two values for it)."""

import re

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from refloop.advocacy import reactions as advocacy_reactions
from refloop.advocacy import reviews
from refloop.advocacy.models import AdvocacyEvent, AdvocacySettings, Audience, Trigger
from refloop.advocacy.surveys import create_survey, submit_response
from refloop.core import context
from refloop.demo import factories as f
from refloop.practice.models import Location
from tests.advocacy.surveys_helpers import site

pytestmark = pytest.mark.django_db

SCORES = [*range(0, 11), None]


def _two_values(field: models.Field, departments) -> tuple:
    if field.many_to_many:
        return ([], departments)
    if isinstance(field, models.BooleanField):
        return (False, True)
    if isinstance(field, models.IntegerField):
        return (0, 10)
    if isinstance(field, models.JSONField):
        return ([], ["CA", "TX"])
    pytest.fail(f"Teach the no-gating test two values of AdvocacySettings.{field.name}")


def settings_fields():
    """Every setting an admin could change: the model's fields but its key and timestamp."""
    found = [
        field
        for field in AdvocacySettings._meta.get_fields()
        if (field.many_to_many or getattr(field, "concrete", False))
        and not field.auto_created
        and not getattr(field, "auto_now", False)
    ]
    # The many-to-many settings first: itertools.product changes them least often.
    return sorted(found, key=lambda field: not field.many_to_many)


def every_combination(departments):
    """Every setting at each of its two values: all settings at their first value, all at
    their second, and each of those with one setting flipped. Each setting is seen at both
    values against both backgrounds, at a cost that grows with the number of settings rather
    than doubling with each one (the full product took minutes)."""
    fields = settings_fields()
    names = [field.name for field in fields]
    choices = [_two_values(field, departments) for field in fields]
    for base in (0, 1):
        yield {name: pair[base] for name, pair in zip(names, choices, strict=True)}
        for flipped in range(len(names)):
            yield {
                name: pair[1 - base if i == flipped else base]
                for i, (name, pair) in enumerate(zip(names, choices, strict=True))
            }


def apply(combination: dict, before: dict | None) -> None:
    found = AdvocacySettings.current()
    fields = settings_fields()
    plain = {f.name: combination[f.name] for f in fields if not f.many_to_many}
    AdvocacySettings.objects.filter(pk=found.pk).update(**plain)
    for field in fields:
        if field.many_to_many and (before is None or before[field.name] != combination[field.name]):
            getattr(found, field.name).set(combination[field.name])
    context.forget("advocacy_settings")


def answered(referral, score, *, location):
    """A survey of `referral`'s patient answered with `score`, its reactions (a case for a low
    score, once that part exists) run as the worker would."""
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"test:{referral.pk}:{score}",
        now=timezone.now(),
        patient=referral.patient,
        referral=referral,
        location=location,
    )
    submit_response(
        survey=survey,
        recommend=score,
        answers={},
        comment="Not happy." if score else "",
        now=timezone.now(),
    )
    event = AdvocacyEvent.objects.get(kind="survey.answered", survey=survey)
    for path in advocacy_reactions.handlers_for(event.kind):
        import_string(path)(event)
    return survey


@pytest.fixture
def offered(referral, spine, hand):
    north = Location.objects.create(name="North clinic")
    site("Healthgrades", location=north, position=0)
    site("Google", position=1)
    site("Vitals", position=2)
    site("Yelp", location=Location.objects.create(name="South clinic"), position=3)
    return north, [answered(referral, score, location=north) for score in SCORES]


def test_every_setting_is_covered_by_the_no_gating_test(spine):
    names = {field.name for field in settings_fields()}
    assert {
        "survey_after_seen",
        "low_score",
        "rewards_enabled",
        "survey_visit_departments",
    } <= names
    assert len(list(every_combination([spine]))) == 2 * (1 + len(names))


def test_every_score_gets_the_same_offer_under_every_setting(offered, spine, hand):
    north, surveys = offered
    expected = reviews.offer(north.pk)
    assert [name for _, name, _ in expected.sites] == ["Healthgrades", "Google", "Vitals"]
    checked = 0
    before = None
    for combination in every_combination([spine, hand]):
        apply(combination, before)
        before = combination
        now_set = AdvocacySettings.current()
        assert all(
            getattr(now_set, k) == v
            for k, v in combination.items()
            if not isinstance(v, list) or k == "rewards_barred_states"
        )
        for survey in surveys:
            invitation, offer = reviews.offer_on_thank_you(survey, now=timezone.now())
            assert offer == expected, (survey.response.recommend, combination)
            checked += 1
    assert checked == len(SCORES) * 2 * (1 + len(settings_fields()))


def _offer_section(page: str) -> str:
    """The review offer and the invitations to refer friends and share a story."""
    sections = re.findall(r'<section aria-labelledby="(?:reviews|more)".*?</section>', page, re.S)
    assert len(sections) == 2
    return re.sub(r"/r/[a-z0-9]+/", "/r/CODE/", "".join(sections))


def test_every_score_sees_the_same_thank_you_page_offer(referral, cora):
    north = Location.objects.create(name="North clinic")
    site("Healthgrades", location=north)
    site("Google", position=1)
    sections = {}
    for score in SCORES:
        later = f.make_referral(
            acting_user=cora,
            department=referral.department,
            referring_provider=referral.referring_provider,
        )
        survey, _ = create_survey(
            audience=Audience.PATIENT,
            trigger=Trigger.SEEN,
            recipient=f"patient:{later.patient_id}",
            dedupe_key=f"page:{later.pk}",
            now=timezone.now(),
            patient=later.patient,
            referral=later,
            location=north,
        )
        client = Client()
        client.get(reverse("advocacy_survey_link", args=[survey.code]))
        posted = {} if score is None else {"recommend": str(score)}
        assert client.post(reverse("advocacy_survey"), posted).status_code == 303
        sections[score] = _offer_section(
            client.get(reverse("advocacy_survey_thanks")).content.decode()
        )
    assert len(set(sections.values())) == 1, sections
    assert "Healthgrades" in sections[0] and "Google" in sections[10]
    assert "Share your story" in sections[0] and "Tell friends" in sections[0]


def test_score_2_and_score_10_get_the_same_invitation(referral, cora):
    site("Google")
    low = answered(referral, 2, location=None)
    high = answered(referral, 10, location=None)
    (low_invitation, low_offer) = reviews.offer_on_thank_you(low, now=timezone.now())
    (high_invitation, high_offer) = reviews.offer_on_thank_you(high, now=timezone.now())
    assert low_offer == high_offer and low_offer.sites
    assert low_invitation.via == high_invitation.via
