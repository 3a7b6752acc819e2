"""Planted histories: a year of referrals in which one thing goes wrong from one date on.
The finder names it in the default view (the last 12 months), with the date it started,
in the first sentence; in a year where nothing changes it names no change."""

import random
import re
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refloop.analytics import bottlenecks, dashboard
from refloop.analytics.periods import scope_from
from refloop.demo import factories as f
from tests.analytics.history import History, local

NOW = local("2026-12-01 09:00")
FIRST_DAY = date(2025, 12, 3)  # the data starts inside the default view: nothing compared
LAST_DAY = date(2026, 11, 29)


def days(every: int, start: date = FIRST_DAY):
    day = start
    while day <= LAST_DAY:
        yield day
        day += timedelta(days=every)


def at(day: date, hour: int = 9) -> str:
    return f"{day.isoformat()} {hour:02d}:00"


def top_sentence() -> str:
    """The first sentence of the dashboard's default view, as the page shows it."""
    board = dashboard.build(scope_from({}, NOW))
    return board["bottlenecks"]["sentences"][0]


def started(sentence: str) -> date:
    """The date a 'Since 12 May, …' sentence gives (the year is the one it falls in)."""
    found = re.match(r"Since (\d+ \w+), ", sentence)
    assert found, sentence
    for year in (2025, 2026):
        day = datetime.strptime(f"{found.group(1)} {year}", "%d %b %Y").date()
        if FIRST_DAY <= day <= LAST_DAY:
            return day
    raise AssertionError(sentence)


def near(day: date, planted: date) -> bool:
    """The change is dated at the planted day or within a week after it (the first
    referral it concerns may come a few days later)."""
    return planted <= day <= planted + timedelta(days=7)


@pytest.fixture
def joint(org):
    return f.DepartmentFactory(code="joint", name="Joint")


def test_a_first_contact_wait_that_doubled_in_one_department_is_named_first(cora, spine, joint):
    """Joint's urgent referrals are contacted in about 13 hours until 1 September, then
    in about 28 (over the 24-hour target). Meanwhile Spine's wait for missing information
    grows by a day: more hours, but no target, and not the one that matters most."""
    rng = random.Random(19)
    h = History(cora, spine)
    planted = date(2026, 9, 1)
    for n, day in enumerate(days(2)):
        slow = day >= planted
        h.referral(
            at(day),
            ("contact", rng.uniform(22, 34) if slow else rng.uniform(9, 17)),
            department=joint,
            urgency="urgent",
        )
        if n % 3 == 0:  # Spine: some wait for missing information, 3 days then 4
            waited = rng.uniform(84, 108) if day >= date(2026, 6, 1) else rng.uniform(60, 84)
            h.referral(
                at(day, 10),
                ("contact", rng.uniform(20, 30)),
                ("pending_info", 31),
                ("in_review", 31 + waited),
            )
        else:
            h.referral(at(day, 10), ("contact", rng.uniform(20, 30)))
    h.rebuild()

    sentence = top_sentence()
    assert "referrals to Joint wait a median" in sentence and "for first contact" in sentence
    assert "(SLA 24 h;" in sentence
    assert near(started(sentence), planted)
    median_now = float(re.search(r"a median ([\d.]+) hours", sentence).group(1))
    median_before = float(re.search(r"up from ([\d.]+)", sentence).group(1))
    assert 22 <= median_now <= 34 and 9 <= median_before <= 17


def test_a_growing_no_show_rate_at_one_location_is_named_first(cora, spine):
    """Appointments at Southside are missed about one time in twelve until 15 August,
    then about one time in two; Northside's stay as they were."""
    rng = random.Random(7)
    north = f.LocationFactory(name="Northside")
    south = f.LocationFactory(name="Southside")
    h = History(cora, spine)
    planted = date(2026, 8, 15)
    for day in days(2):
        for location, hour in ((north, 9), (south, 10)):
            received = local(at(day, hour))
            visit = received + timedelta(days=7)
            bad = location == south and visit.date() >= planted
            missed = rng.random() < (0.5 if bad else 0.08)
            h.referral(
                at(day, hour),
                ("contact", 12),
                ("accepted", 13),
                (
                    "scheduled",
                    14,
                    {"appointment": {"starts_at": visit, "location_id": location.pk}},
                ),
                ("no_show" if missed else "seen", 7 * 24 + 1),
            )
    h.rebuild()

    sentence = top_sentence()
    assert sentence.startswith("Since ") and "appointments at Southside" in sentence
    assert "no-show" in sentence
    assert near(started(sentence), planted)
    assert "Northside" not in " ".join(
        dashboard.build(scope_from({}, NOW))["bottlenecks"]["sentences"]
    )


def test_a_practice_whose_referrals_are_suddenly_declined_is_named_first(cora, spine):
    """Prairie Family Medicine's referrals were almost all accepted until 1 July; from then
    on most are declined as outside the department's scope."""
    rng = random.Random(3)
    prairie = f.ProviderFactory(practice=f.PracticeFactory(name="Prairie Family Medicine"))
    riverside = f.ProviderFactory(practice=f.PracticeFactory(name="Riverside Internal Medicine"))
    h = History(cora, spine)
    planted = date(2026, 7, 1)
    for day in days(2):
        for provider, hour in ((prairie, 9), (riverside, 10)):
            bad = provider == prairie and day >= planted
            if rng.random() < (0.65 if bad else 0.05):
                h.referral(at(day, hour), ("declined", 20), provider=provider)
            else:
                h.referral(at(day, hour), ("contact", rng.uniform(10, 30)), provider=provider)
    h.rebuild()

    sentence = top_sentence()
    assert "referrals from Prairie Family Medicine" in sentence and "declined" in sentence
    assert "outside scope" in sentence
    assert near(started(sentence), planted)


def test_two_years_with_nothing_planted_name_no_change(cora, spine, hand):
    """Two years (the default view is compared with the year before) with every clock and
    rate drawn from one distribution throughout, and one wait that went from 13.9 to 14.0
    days between the two years (the demo's old top "bottleneck"): the finder says where
    referrals wait longest and names no change."""
    rng = random.Random(11)
    north = f.LocationFactory(name="Northside")
    practices = [f.ProviderFactory() for _ in range(4)]
    h = History(cora, spine)
    wiggle = date(2025, 12, 1)
    for n, day in enumerate(days(3, start=date(2024, 11, 20))):
        department = (spine, hand)[n % 2]
        provider = practices[n % 4]
        h.referral(
            at(day, 8),
            ("contact", rng.uniform(8, 40)),
            department=department,
            provider=provider,
            urgency=rng.choice(("routine", "urgent")),
        )
        if rng.random() < 0.1:
            h.referral(at(day, 9), ("declined", 20), department=department, provider=provider)
        received = local(at(day, 10))
        visit = received + timedelta(days=rng.uniform(13.5, 14.5))
        booked_for = 13.9 if day < wiggle else 14.0  # days between booking and the visit
        h.referral(
            at(day, 10),
            ("contact", rng.uniform(8, 40)),
            ("accepted", 41),
            ("scheduled", 42, {"appointment": {"starts_at": visit, "location_id": north.pk}}),
            ("no_show" if rng.random() < 0.1 else "seen", 42 + booked_for * 24),
            department=department,
            provider=provider,
        )
    h.rebuild()

    board = dashboard.build(scope_from({}, NOW))
    assert board["comparison"]["compared"]
    sentences = board["bottlenecks"]["sentences"]
    assert sentences[0].startswith("The longest wait is ")
    assert not any("up from" in s or s.startswith("Since ") for s in sentences), sentences
    assert board["bottlenecks"]["findings"] == []


def test_the_finder_reads_the_facts_once_whatever_the_days_and_groups(cora, spine, hand):
    """The samples are read with their dates once per fact table: a year with three times
    the days, twice the departments and more practices and locations costs the same
    number of statements."""
    h = History(cora, spine)
    for day in days(30):
        h.referral(at(day), ("contact", 12))
    h.rebuild()
    scope = scope_from({}, NOW)
    with CaptureQueriesContext(connection) as few:
        bottlenecks.find(scope, compared=False)

    north = f.LocationFactory(name="Northside")
    for day in days(10, start=date(2025, 12, 8)):
        visit = local(at(day)) + timedelta(days=7)
        h.referral(
            at(day, 11),
            ("contact", 30),
            ("accepted", 31),
            ("scheduled", 32, {"appointment": {"starts_at": visit, "location_id": north.pk}}),
            ("no_show", 7 * 24 + 1),
            department=hand,
        )
    h.rebuild()
    with CaptureQueriesContext(connection) as more:
        bottlenecks.find(scope, compared=False)
    assert len(more) == len(few)
