"""Issue 17's first done-when, end to end: one referral goes from `seen` to a survey message,
the patient answers it low through its link, is offered the same review invitation a patient
who answers 10 is offered, and a case is opened, acknowledged and resolved."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from refloop.advocacy import cases
from refloop.advocacy.models import (
    AdvocacyEvent,
    Case,
    CaseOutcome,
    CaseSource,
    CaseState,
    ReviewInvitation,
    Survey,
)
from refloop.advocacy.reactions import handlers_for
from refloop.core import reactions as runner
from refloop.messaging.models import Message
from refloop.practice.models import Location
from tests.advocacy.surveys_helpers import NOW, another_referral, see, site

pytestmark = pytest.mark.django_db


def worker_runs_advocacy_reactions() -> None:
    for event in AdvocacyEvent.objects.order_by("pk"):
        for path in handlers_for(event.kind):
            runner.run_once(event, path)


def answer_through_the_link(message: Message, *, recommend: int, comment: str) -> str:
    """Follow the survey link in `message` as the patient's phone would, answer, and return
    the thank-you page's review offer with its per-invitation codes blanked."""
    link = re.search(r"https?://\S+/s/(\w+)/", message.body)
    assert link is not None, message.body
    browser = Client()
    handed = browser.get(reverse("advocacy_survey_link", args=[link.group(1)]))
    assert handed.status_code == 303 and link.group(1) not in handed["Location"]
    form = browser.get(reverse("advocacy_survey"))
    assert form.status_code == 200 and b'name="recommend"' in form.content
    answered = browser.post(
        reverse("advocacy_survey"), {"recommend": str(recommend), "comment": comment}
    )
    assert answered.status_code == 303
    page = browser.get(reverse("advocacy_survey_thanks")).content.decode()
    offer = re.search(r'<section aria-labelledby="reviews".*?</section>', page, re.S)
    assert offer is not None
    return re.sub(r"/r/\w+/", "/r/CODE/", offer.group(0))


def test_seen_to_survey_to_low_score_to_the_same_invitation_to_a_resolved_case(
    referral, cora, cliff
):
    clinic = Location.objects.create(name="North clinic")
    site("Healthgrades", location=clinic)
    site("Google", position=1)
    unhappy = see(referral, by=cora)
    Survey.objects.filter(referral=unhappy).update(location=clinic)
    happy = see(another_referral(referral, by=cora, now=NOW), by=cora)
    # The happy patient is the same person within 90 days: give the second survey to another.
    assert not Survey.objects.filter(referral=happy).exists()

    from refloop.demo import factories as f

    other = see(f.make_referral(acting_user=cora, department=referral.department), by=cora)
    Survey.objects.filter(referral=other).update(location=clinic)

    low_message = Message.objects.get(rule="patient.survey", referral=unhappy)
    high_message = Message.objects.get(rule="patient.survey", referral=other)
    low_offer = answer_through_the_link(
        low_message, recommend=3, comment="Nobody called me back about my results."
    )
    high_offer = answer_through_the_link(high_message, recommend=10, comment="Wonderful team.")

    assert low_offer == high_offer and "Healthgrades" in low_offer and "Google" in low_offer
    assert ReviewInvitation.objects.count() == 2

    worker_runs_advocacy_reactions()
    case = Case.objects.get()  # the 10 opened none
    assert (case.source, case.state, case.referral) == (CaseSource.LOW_SCORE, "open", unhappy)
    # Opening the case took nothing back: the unhappy patient's invitation stands as it was.
    assert ReviewInvitation.objects.filter(survey__referral=unhappy).count() == 1

    later = NOW + dt.timedelta(hours=3)
    cases.acknowledge(case, acting_user=cora, now=later, note="Called; results sent today.")
    cases.resolve(
        case,
        acting_user=cora,
        outcome=CaseOutcome.RESOLVED,
        action_taken="Results explained by the nurse; call-back rota fixed.",
        now=later + dt.timedelta(days=1),
    )
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.acknowledged_at == later
    assert list(case.events.values_list("kind", flat=True)) == [
        "case.opened",
        "case.acknowledged",
        "case.resolved",
    ]
