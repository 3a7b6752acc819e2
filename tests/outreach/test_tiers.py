"""Tiers from referral volume and potential, and the due list from cadence and last visit."""

import datetime as dt

import pytest

from refloop.demo import factories as f
from refloop.outreach import tiers
from refloop.outreach.models import Activity, ActivityKind, OutreachSettings, Relationship, Tier

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("recent", "ever", "relevant", "threshold", "tier"),
    [
        (24, True, 0, 6, Tier.A),  # two a month
        (23, True, 0, 30, Tier.B),  # one short, and not in the top tenth
        (23, True, 0, 23, Tier.A),  # ... unless the top tenth starts there
        (6, True, 0, 30, Tier.B),
        (5, True, 0, 30, Tier.C),
        (5, True, 3, 30, Tier.B),  # potential: three providers in referring specialties
        (5, True, 2, 30, Tier.C),
        (0, True, 0, 30, Tier.C),  # referred before the last 12 months
        (0, False, 1, 30, Tier.PROSPECT),
        (0, False, 0, 30, Tier.C),
    ],
)
def test_the_tier_at_each_boundary(recent, ever, relevant, threshold, tier):
    assert tiers.tier_for(recent, ever, relevant, threshold)[0] == tier


def test_refresh_computes_from_referrals_and_keeps_a_hand_set_tier(cora, spine):
    referrer = f.ProviderFactory(taxonomy_code="207Q00000X")
    for _ in range(6):
        f.make_referral(acting_user=cora, department=spine, referring_provider=referrer)
    silent = f.PracticeFactory(name="Never Sent Clinic")
    f.ProviderFactory(practice=silent, taxonomy_code="207Q00000X")
    other = f.PracticeFactory(name="Dental Arts")
    f.ProviderFactory(practice=other, taxonomy_code="1223G0001X")
    Relationship.objects.create(practice=other, tier_override=Tier.A)

    tiers.refresh_tiers()

    sender = Relationship.objects.get(practice=referrer.practice)
    assert (sender.tier, sender.tier_reason) == (Tier.A, "6 referrals in the last 12 months")
    assert Relationship.objects.get(practice=silent).tier == Tier.PROSPECT
    hand_set = Relationship.objects.get(practice=other)
    assert (hand_set.computed_tier, hand_set.tier) == (Tier.C, Tier.A)
    assert tiers.refresh_tiers() == 0  # nothing changed since


def test_the_due_list_follows_cadence_and_the_last_in_person_visit(lia):
    today = dt.date(2026, 3, 2)
    late, soon, fine, never = (
        Relationship.objects.create(practice=f.PracticeFactory(name=n), tier_override=Tier.A)
        for n in ("Late", "Soon", "Fine", "Never")
    )
    for relationship, days_ago in ((late, 41), (soon, 25), (fine, 3)):
        Activity.objects.create(
            kind=ActivityKind.VISIT,
            practice=relationship.practice,
            liaison=lia,
            occurred_on=today - dt.timedelta(days=days_ago),
        )
        tiers.note_contact(relationship.practice_id)
    # A call does not reset the cadence.
    Activity.objects.create(
        kind=ActivityKind.CALL, practice=late.practice, liaison=lia, occurred_on=today
    )
    tiers.note_contact(late.practice_id)

    due = tiers.due_visits(on=today)

    assert [d.practice.name for d in due] == ["Late", "Never", "Soon"]
    assert due[0].reason == "Tier A: a visit every 30 days; last visit 41 days ago, 11 days overdue"
    assert due[1].reason == "Tier A: a visit every 30 days; never visited"
    assert due[2].reason == "Tier A: a visit every 30 days; last visit 25 days ago, due 7 Mar"
    assert not due[2].overdue


def test_the_cadence_is_a_setting(lia):
    settings = OutreachSettings.current()
    settings.cadence_b = 14
    settings.save()
    practice = f.PracticeFactory()
    Relationship.objects.create(
        practice=practice, tier_override=Tier.B, last_visit_on=dt.date(2026, 3, 1)
    )
    (due,) = tiers.due_visits(on=dt.date(2026, 3, 16), within_days=0)
    assert (due.cadence_days, due.overdue_days) == (14, 1)
