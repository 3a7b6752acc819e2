"""The relationship page of a referring practice in a browser: a liaison reads it at a desk
(1440 px) and on a phone (390 px), edits what we know of a provider in place, and sees no
patient; the page and the territory pages pass axe-core at both sizes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from refloop.analytics import facts
from refloop.demo import factories as f
from refloop.network.models import StaffRole
from refloop.outreach import tiers
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ProviderProfile,
    Relationship,
    Task,
    Territory,
    Tier,
)
from refloop.referrals import transitions
from tests.browser.conftest import TARGET_SIZE, assert_accessible
from tests.browser.test_start_pages import DESK, PAST_THE_EDGE, PHONE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def office(cora, lia, spine):
    practice = f.PracticeFactory(name="Maple Grove Family Practice", city="Springfield")
    doctor = f.ProviderFactory(
        practice=practice, first_name="Imogen", last_name="Talbot", credentials="MD"
    )
    ProviderProfile.objects.create(provider=doctor, influence=2, office_days=["tue"])
    f.StaffContactFactory(
        practice=practice, name="Rosalind Ferreira", role=StaffRole.REFERRAL_COORDINATOR
    )
    now = timezone.now()
    for days in range(20, 300, 25):
        at = now - timedelta(days=days)
        f.make_referral(acting_user=cora, now=at, received_at=at, referring_provider=doctor)
    at = now - timedelta(days=40)
    declined = f.make_referral(
        acting_user=cora,
        now=at,
        received_at=at,
        referring_provider=doctor,
        patient=f.patient_data(first_name="Zephyrine", last_name="Quillfeather"),
    )
    transitions.transition(
        declined.pk,
        to="declined",
        acting_user=cora,
        fields=f.fields_for("declined", at=at),
        now=at + timedelta(hours=3),
    )
    facts.rebuild_all()
    territory = Territory.objects.create(name="North", liaison=lia, cities=["Springfield"])
    Relationship.objects.create(
        practice=practice,
        territory=territory,
        computed_tier=Tier.B,
        tier_reason="13 referrals in the last 12 months",
    )
    for days in (12, 50, 95):
        activity = Activity.objects.create(
            kind=ActivityKind.VISIT,
            practice=practice,
            liaison=lia,
            occurred_on=timezone.localdate() - timedelta(days=days),
            notes=f"Dropped off the spine one-pager ({days} days ago).",
        )
        activity.providers.add(doctor)
    tiers.note_contact(practice.pk)
    Task.objects.create(title="Send the MRI checklist", practice=practice, owner=lia)
    return {"practice": practice, "doctor": doctor, "territory": territory}


def fits_and_passes_axe(page) -> None:
    for size in (DESK, PHONE):
        page.set_viewport_size(size)
        past = page.evaluate(PAST_THE_EDGE, "main")
        assert not past, f"{page.url} at {size['width']}px: past the edge: {past}"
        assert_accessible(page, also=TARGET_SIZE)


def test_a_liaison_reads_the_page_and_edits_a_provider_in_place(signed_in, lia, office):
    page = signed_in(lia)
    page.set_viewport_size(DESK)
    page.goto(f"/outreach/practices/{office['practice'].pk}/")

    assert page.get_by_role("heading", name="Maple Grove Family Practice").is_visible()
    assert "13 in the last 12 months" in page.locator(".rel-trend").inner_text()
    assert "Send the MRI checklist" in page.locator(".rel-tasks").inner_text()
    last_visit = timezone.localdate() - timedelta(days=12)
    assert (
        f"{last_visit:%b} {last_visit.day}, {last_visit.year}"
        in page.locator(".rel-visits").inner_text()
    )
    assert "Dropped off the spine one-pager (12 days ago)." in page.content()
    assert "Declined as not a fit" in page.locator(".rel-treatment").inner_text()
    assert "Quillfeather" not in page.content()
    fits_and_passes_axe(page)

    # On the phone: edit the provider in place (htmx), the card comes back saved.
    page.set_viewport_size(PHONE)
    card = page.locator(f"#contact-provider-{office['doctor'].pk}")
    card.get_by_role("link", name="Edit what we know of Imogen Talbot").click()
    form = page.locator(f"#contact-provider-{office['doctor'].pk} form")
    form.get_by_label("Best time").fill("Thursdays after 4 pm")
    form.get_by_label("Getting to know you").fill("Runs the clinic's 5K every spring.")
    assert_accessible(page, also=TARGET_SIZE)
    form.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    saved = page.locator(f"#contact-provider-{office['doctor'].pk}").inner_text()
    assert "Runs the clinic's 5K every spring." in saved and "Thursdays after 4 pm" in saved
    office["doctor"].refresh_from_db()
    assert office["doctor"].best_time == "Thursdays after 4 pm"


def test_the_territory_pages_fit_and_pass_axe(signed_in, ada, office):
    page = signed_in(ada)
    page.set_viewport_size(DESK)
    for url in (
        "/outreach/territories/",
        f"/outreach/territories/{office['territory'].pk}/?q=Maple",
        f"/outreach/territories/{office['territory'].pk}/edit/",
        "/settings/outreach/",
        "/settings/outreach/topics/",
    ):
        page.goto(url)
        fits_and_passes_axe(page)
        page.set_viewport_size(DESK)
