"""Referral lift on planted histories whose true effect is known."""

import random
from datetime import date, datetime, time, timedelta

import pytest

from refloop.analytics import facts
from refloop.demo import factories as f
from refloop.outreach import lift
from refloop.outreach.models import Activity, ActivityKind, Relationship, Tier
from refloop.referrals.models import Referral
from refloop.web.words import person
from tests.analytics.history import ZONE

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 1)  # today: the 90 days after every visit are over
VISITED_ON = date(2026, 2, 2)
PRACTICES = 40  # half of them visited


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=ZONE)


def _spread(count: int, first: date) -> list[date]:
    """`count` days spread over the 90 days from `first`."""
    return [first + timedelta(days=(i * 90) // max(count, 1)) for i in range(count)]


def plant(effect: int, liaisons, *, seed: int) -> dict[int, tuple[int, int]]:
    """40 tier A practices that referred in every quarter of the year before (loyal), 20 of
    them visited on VISITED_ON; each sends 4 to 10 referrals in the 90 days before, and the
    same give or take 2 in the 90 days after, plus `effect` if visited. Returns
    {practice id: (before, after)} for the visited."""
    rng = random.Random(seed)
    patient = f.PatientFactory()
    rows, visited = [], {}
    for i in range(PRACTICES):
        practice = f.PracticeFactory(name=f"Planted Practice {i:02d}")
        Relationship.objects.create(practice=practice, tier_override=Tier.A)
        is_visited = i % 2 == 0
        before = rng.randint(4, 10)
        after = max(0, before + rng.randint(-2, 2) + (effect if is_visited else 0))
        days = [date(2025, 3, 15), date(2025, 6, 15), date(2025, 9, 15)]
        days += _spread(before, VISITED_ON - timedelta(days=90))
        days += _spread(after, VISITED_ON)
        rows += [
            Referral(
                direction="inbound",
                state="received",
                patient=patient,
                source_type="provider",
                channel="fax",
                reason="Planted",
                referring_practice=practice,
                received_at=_at(day),
                state_changed_at=_at(day),
            )
            for day in days
        ]
        if is_visited:
            Activity.objects.create(
                kind=ActivityKind.VISIT,
                practice=practice,
                liaison=liaisons[(i // 2) % 2],
                occurred_on=VISITED_ON,
            )
            visited[practice.pk] = (before, after)
    Referral.objects.bulk_create(rows)
    facts.rebuild_all()  # the segments are analytics'
    return visited


@pytest.fixture
def liaisons(lia):
    return [lia, f.UserFactory(username="lou", role="liaison", first_name="Lou", last_name="Ng")]


def test_the_lift_recovers_a_planted_effect_of_three_referrals_within_its_interval(liaisons):
    visited = plant(3, liaisons, seed=7)

    report = lift.lift(on=ON)

    overall = report.overall
    assert (overall.practices, overall.unmatched) == (20, 0)
    assert overall.before == sum(b for b, _ in visited.values())
    assert overall.after == sum(a for _, a in visited.values())
    assert overall.low < 3 < overall.high
    assert overall.low > 0  # not chance
    assert overall.clear
    assert overall.words.startswith(f"about +{overall.estimate:.1f} referrals per practice")
    assert overall.words.endswith("visited practices sent more than like practices not visited")
    # Each unit compares with the 20 practices not visited, over its own windows.
    assert {len(u.control_changes) for u in report.units} == {20}
    assert {u.visited_on for u in report.units} == {VISITED_ON}
    # Per liaison: ten each, and the same rule.
    names = sorted([person(liaisons[0]), "Lou Ng"], key=str.lower)
    assert [(row.label, row.practices) for row in report.by_liaison] == [(n, 10) for n in names]
    # The same data, the same figures: the generator is seeded.
    again = lift.lift(on=ON).overall
    assert (again.estimate, again.low, again.high) == (overall.estimate, overall.low, overall.high)


def test_no_planted_effect_gives_an_interval_that_holds_zero(liaisons):
    plant(0, liaisons, seed=11)

    overall = lift.lift(on=ON).overall

    assert overall.practices == 20
    assert overall.low < 0 < overall.high
    assert not overall.clear
    assert overall.words.endswith(": could be no effect")
    assert "95% interval" in overall.words


def test_visits_whose_90_days_after_are_not_over_are_left_out(liaisons):
    plant(3, liaisons, seed=7)
    # As of a month after the visits, their after-windows are still running.
    report = lift.lift(on=VISITED_ON + timedelta(days=30))
    assert report.overall.practices == 0
    assert report.overall.estimate is None
    assert report.overall.words.startswith("Too few visited practices to say")


def test_the_words_say_the_interval_plainly():
    unit = lift.Lift("All", 12, 0, 1.84, -0.21, 3.93, 50, 70, 0.5)
    assert unit.words == (
        "about +1.8 referrals per practice per 90 days, 95% interval -0.2 to +3.9: "
        "could be no effect"
    )
