"""The relationship page of a referring practice: each section shows what was planted, a
liaison never sees a patient, the inline edits and the tier set by hand, and a statement
count that does not grow with the activities and contacts shown.

The clock is 2 April 2026, 10:00 in Chicago. Maple Grove sent 15 referrals from April to
December 2025, in three of the four quarters before (loyal), none since: declining, as
15 × 90/365 ≈ 3.70 were expected in the last 90 days and P(X = 0) ≈ 0.025 < 0.05. One of
them, from a patient named Zephyrine Quillfeather, was declined as outside our scope.
"""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from refloop.analytics import referrers
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.network.models import StaffRole
from refloop.outreach import tiers
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ProviderProfile,
    Relationship,
    StaffProfile,
    Task,
    TaskStatus,
    Territory,
    Tier,
    Topic,
)
from refloop.practice.models import Organization
from tests.analytics.history import History, local

pytestmark = pytest.mark.django_db

NOW = local("2026-04-02 10:00")
PATIENT = {"first_name": "Zephyrine", "last_name": "Quillfeather", "date_of_birth": "1961-07-23"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def office(cora, spine):
    practice = f.PracticeFactory(
        name="Maple Grove Family Practice", city="Springfield", postal_code="62704"
    )
    doctor = f.ProviderFactory(
        practice=practice,
        first_name="Imogen",
        last_name="Talbot",
        credentials="MD",
        specialty="Family Medicine",
        preferred_channel="phone",
        best_time="after 3 pm",
        notes="Coaches the under-12 soccer team.",
    )
    ProviderProfile.objects.create(provider=doctor, influence=1, office_days=["mon", "wed"])
    coordinator = f.StaffContactFactory(
        practice=practice,
        name="Rosalind Ferreira",
        role=StaffRole.REFERRAL_COORDINATOR,
        preferred_channel="email",
        notes="Decides where the back-pain referrals go.",
    )
    StaffProfile.objects.create(staff=coordinator, influence=3)
    history = History(cora, spine)
    for month in range(4, 13):
        history.referral(f"2025-{month:02d}-03 09:00", ("contact", 6), provider=doctor)
    for month in range(4, 9):
        history.referral(f"2025-{month:02d}-20 09:00", provider=doctor)
    history.referral(
        "2025-11-12 09:00",
        ("in_review", 2),
        ("declined", 3),
        provider=doctor,
        patient=f.patient_data(**PATIENT),
    )
    history.rebuild()
    Relationship.objects.create(
        practice=practice, computed_tier=Tier.B, tier_reason="15 referrals in the last 12 months"
    )
    return {"practice": practice, "doctor": doctor, "coordinator": coordinator}


def visit(practice, liaison, on: dt.date, **fields) -> Activity:
    activity = Activity.objects.create(
        kind=ActivityKind.VISIT, practice=practice, liaison=liaison, occurred_on=on, **fields
    )
    tiers.note_contact(practice.pk)
    return activity


def page_of(client, user, practice, **params):
    client.force_login(user)
    return client.get(reverse("outreach_practice", args=[practice.pk]), params)


def test_each_section_shows_what_was_planted(client, lia, office):
    practice, doctor = office["practice"], office["doctor"]
    activity = visit(
        practice,
        lia,
        dt.date(2026, 3, 10),
        notes="Brought the new spine clinic one-pager.",
        follow_up="Send the MRI referral checklist",
    )
    activity.providers.add(doctor)
    activity.staff.add(office["coordinator"])
    activity.topics.add(Topic.objects.get(name="Access and scheduling"))
    Task.objects.create(
        title="Thank Dr Talbot for the lunch invitation", practice=practice, owner=lia
    )
    Task.objects.create(title="Long done already", practice=practice, status=TaskStatus.DONE)

    response = page_of(client, lia, practice)

    assert response.status_code == 200
    html = response.content.decode()
    # Referral trend, segment and the declining flag (from analytics).
    assert "<strong>15</strong> in the last 12 months" in html
    assert "Apr 2025</th><td>2</td>" in html and "Mar 2026</th><td>0</td>" in html
    assert "Declining" in html and "p 0.025" in html
    assert "Loyal: referred in 3 or 4 of the last four quarters" in html
    # The tier with its reason, and the cadence from the last visit.
    assert "15 referrals in the last 12 months" in html
    assert "Mar 10, 2026" in html  # last visit
    assert "May 9, 2026" in html  # next due: tier B, every 60 days
    # Who we know there, with influence, channel, best time, office days and notes.
    assert "Imogen Talbot" in html and "MD, Family Medicine" in html
    assert "1 of 3: Low" in html and "Mon, Wed" in html and "after 3 pm" in html
    assert "Coaches the under-12 soccer team." in html
    assert "Rosalind Ferreira" in html and "Referral Coordinator" in html
    assert "3 of 3: Decides where referrals go" in html
    # Open tasks only.
    assert "Thank Dr Talbot for the lunch invitation" in html
    assert "Long done already" not in html
    # The activity history with the people met and the topics.
    assert "Brought the new spine clinic one-pager." in html
    assert "Met: Imogen Talbot, MD, Rosalind Ferreira" in html
    assert "Topics: Access and scheduling" in html
    assert "Send the MRI referral checklist" in html
    # How its referrals are treated (the scorecard's figures for the 12 months).
    assert "Declined as not a fit" in html and "7% (1 of 15)" in html
    assert "Outside Scope: 1" in html
    assert "6.0 hours" in html  # median time to first contact
    assert reverse("analytics_scorecard", args=[practice.pk]) in html


def test_one_practices_standing_is_what_analytics_says_of_every_practice(office, practice_b):
    zone, as_of, pk = Organization.current().zone, dt.date(2026, 4, 3), office["practice"].pk

    standing = referrers.standing(pk, as_of, zone)

    assert standing["segment"] == referrers.segments(as_of, zone)[pk] == "loyal"
    drift = referrers.drift(as_of, zone)[pk]
    assert standing["declining"] is drift["declining"] is True
    assert standing["p_value"] == pytest.approx(drift["p_value"])
    assert referrers.standing(practice_b.pk, as_of, zone)["segment"] == "non_referring"


def test_a_liaison_sees_no_patient_on_the_page(client, lia, office):
    html = page_of(client, lia, office["practice"]).content.decode()

    assert "Quillfeather" not in html
    assert "Zephyrine" not in html
    for birth_date in ("1961-07-23", "07/23/1961", "Jul 23, 1961", "July 23, 1961"):
        assert birth_date not in html


def test_only_outreach_roles_open_the_page(client, cora, andy, office):
    for user in (cora, andy):
        assert page_of(client, user, office["practice"]).status_code == 403


def test_the_statement_count_does_not_grow_with_activities_and_contacts(client, lia, office):
    practice = office["practice"]
    visit(practice, lia, dt.date(2026, 3, 1)).providers.add(office["doctor"])
    client.force_login(lia)
    url = reverse("outreach_practice", args=[practice.pk])
    client.get(url)  # warm: the session and the settings singleton
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200

    topics = list(Topic.objects.all())
    for day in range(29):
        activity = visit(practice, lia, dt.date(2026, 1, 1) + dt.timedelta(days=day))
        activity.providers.add(office["doctor"])
        activity.staff.add(office["coordinator"])
        activity.topics.add(*topics[:2])
    for _ in range(6):
        f.ProviderFactory(practice=practice)
        f.StaffContactFactory(practice=practice)
    with CaptureQueriesContext(connection) as thirty:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("<li>\n      <p><strong>Visit</strong>") == 20  # a page

    assert len(thirty.captured_queries) == len(one.captured_queries)


def test_older_activities_are_on_the_next_page(client, lia, office):
    practice = office["practice"]
    for day in range(25):
        visit(practice, lia, dt.date(2026, 1, 1) + dt.timedelta(days=day), notes=f"Visit {day}")
    client.force_login(lia)
    url = reverse("outreach_practice", args=[practice.pk])

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}, headers={"HX-Request": "true"}).content.decode()

    assert "Visit 24" in first and "Visit 4" not in first.replace("Visit 24", "")
    assert "Page 1 of 2" in first
    assert second.startswith('<section id="activities"')
    assert "Visit 4" in second and "Visit 0" in second and "Visit 24" not in second


def test_a_liaison_edits_what_we_know_of_a_provider_inline(client, lia, office):
    doctor = office["doctor"]
    client.force_login(lia)
    url = reverse("outreach_provider", args=[doctor.pk])

    form = client.get(url, headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'hx-post="' + url in form.content.decode()
    saved = client.post(
        url,
        {
            "influence": "3",
            "preferred_channel": "email",
            "best_time": "Fridays before noon",
            "office_days": ["tue", "fri"],
            "notes": "Prefers short visits.",
        },
        headers={"HX-Request": "true"},
    )

    assert saved.status_code == 200
    html = saved.content.decode()
    assert html.startswith(f'<article id="contact-provider-{doctor.pk}"')
    assert "3 of 3: Decides where referrals go" in html and "Tue, Fri" in html
    doctor.refresh_from_db()
    assert (doctor.preferred_channel, doctor.best_time, doctor.notes) == (
        "email",
        "Fridays before noon",
        "Prefers short visits.",
    )
    assert (doctor.profile.influence, doctor.profile.office_days) == (3, ["tue", "fri"])
    entry = AuditEntry.objects.get(action="outreach.provider_profile_changed")
    assert entry.actor == lia and entry.detail["influence"] == [1, 3]


def test_a_staff_contact_is_edited_and_a_bad_value_is_refused(client, lia, office):
    staff = office["coordinator"]
    client.force_login(lia)
    url = reverse("outreach_staff", args=[staff.pk])

    refused = client.post(url, {"influence": "7", "notes": "x"}, headers={"HX-Request": "true"})
    assert refused.status_code == 422
    saved = client.post(url, {"influence": "2", "best_time": "9-10 am", "notes": "New notes"})

    assert saved.status_code == 302 and saved["Location"] == reverse(
        "outreach_practice", args=[office["practice"].pk]
    )
    staff.refresh_from_db()
    assert (staff.profile.influence, staff.best_time, staff.notes) == (2, "9-10 am", "New notes")


def test_the_tier_is_set_by_hand_and_back_to_computed(client, lia, office):
    practice = office["practice"]
    client.force_login(lia)
    url = reverse("outreach_practice_tier", args=[practice.pk])

    client.post(url, {"tier": "A"})
    relationship = Relationship.objects.get(practice=practice)
    assert (relationship.tier, relationship.computed_tier) == (Tier.A, Tier.B)
    assert "set by hand" in page_of(client, lia, practice).content.decode()
    tiers.refresh_tiers()  # the nightly refresh keeps a hand-set tier
    assert Relationship.objects.get(practice=practice).tier == Tier.A

    client.post(url, {"tier": "computed"})
    relationship.refresh_from_db()
    assert relationship.tier_override == ""
    assert relationship.tier == relationship.computed_tier
    assert AuditEntry.objects.filter(action="outreach.tier_set").count() == 2
    assert client.post(url, {"tier": "Z"}).status_code == 302
    assert Relationship.objects.get(practice=practice).tier_override == ""


def test_a_practice_never_computed_shows_without_writing(client, lia):
    practice = f.PracticeFactory(name="Brand New Clinic")

    html = page_of(client, lia, practice).content.decode()

    assert "Not computed yet" in html and "Never visited" in html
    assert not Relationship.objects.filter(practice=practice).exists()


def test_no_outreach_page_a_liaison_opens_shows_the_patient(client, lia, office):
    practice = office["practice"]
    territory = Territory.objects.create(name="North", liaison=lia)
    Relationship.objects.filter(practice=practice).update(territory=territory)
    client.force_login(lia)
    urls = [
        reverse("outreach_practice", args=[practice.pk]),
        reverse("outreach_provider", args=[office["doctor"].pk]),
        reverse("outreach_staff", args=[office["coordinator"].pk]),
        reverse("outreach_territories"),
        reverse("outreach_territory", args=[territory.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Quillfeather" not in response.content.decode(), url
