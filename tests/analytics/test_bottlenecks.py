"""The bottleneck finder names the stage and the group that got slower, in words."""

from datetime import date

from refloop.analytics import bottlenecks
from refloop.analytics.metrics import Filters, Period, Scope
from tests.analytics.history import History, local

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))  # the previous period: 29 Jan - 1 Mar


def slower_spine(h: History, hand) -> None:
    for day in range(12):  # before: 1.4 days to first contact
        h.referral(f"2026-02-{day + 2:02d} 09:00", ("contact", 33.6))
        h.referral(f"2026-02-{day + 2:02d} 10:00", ("contact", 10), department=hand)
    for day in range(12):  # now: Spine's routine referrals wait 3.1 days; Hand is unchanged
        h.referral(f"2026-03-{day + 2:02d} 09:00", ("contact", 74.4))
        h.referral(f"2026-03-{day + 2:02d} 10:00", ("contact", 10), department=hand)
    h.referral("2026-03-20 09:00", ("cancelled", 2))


def test_a_slower_first_contact_for_routine_spine_referrals_is_named(cora, spine, hand):
    h = History(cora, spine)
    h.referral("2026-01-05 09:00")  # the data starts before the previous period
    slower_spine(h, hand)
    h.rebuild()

    found = bottlenecks.find(Scope.of(MARCH, Filters(), now=local("2026-04-02 09:00")))
    assert found["stage"] == "first_contact"
    # Spine's routine referrals (all of Spine's) now wait longer than their 48-hour target;
    # all referrals together (the median of twelve 10 h and twelve 74.4 h waits, 42.2 h)
    # are mostly the same referrals, not named again.
    assert found["sentences"] == [
        "In this period, routine referrals to Spine wait a median 3.1 days for first contact, "
        "up from 1.4 in the previous period (SLA 48 h; 12 referrals affected).",
        "Most lost referrals are lost on arrival: 1 of 1, against 0 in the previous period.",
    ]
    (finding,) = found["findings"]
    assert (finding["since"], finding["count_before"], finding["count_after"]) == (
        MARCH.start,
        12,
        12,
    )
    assert finding["over_sla"] and finding["p"] < 0.05


def test_with_nothing_slower_it_names_the_longest_wait(cora, spine):
    h = History(cora, spine)
    h.referral("2026-01-05 09:00")
    h.referral("2026-03-02 09:00", ("contact", 5))
    h.rebuild()
    found = bottlenecks.find(Scope.of(MARCH, Filters(), now=local("2026-04-02 09:00")))
    assert found["sentences"] == [
        "The longest wait is for first contact: a median 5.0 hours (1 referral)."
    ]


def test_a_previous_period_the_data_only_partly_covers_is_not_compared(cora, spine, hand):
    h = History(cora, spine)
    slower_spine(h, hand)  # the data starts on 2 February, within the previous period
    h.rebuild()
    found = bottlenecks.find(Scope.of(MARCH, Filters(), now=local("2026-04-02 09:00")))
    assert found["sentences"][:2] == [
        "The longest wait is for first contact: a median 42.2 hours (24 referrals).",
        "Most lost referrals are lost on arrival: 1 of 1.",
    ]
    assert not any("up from" in s or "previous period" in s for s in found["sentences"])
    assert found["previous_lost_by_stage"] == {}


def test_an_empty_period_has_no_sentences(org):
    found = bottlenecks.find(Scope.of(MARCH, Filters(), now=local("2026-04-02 09:00")))
    assert found["sentences"] == [] and found["stage"] is None and found["findings"] == []


def test_five_slower_referrals_against_five_are_not_enough_to_say_a_change(cora, spine):
    """Five waits of 3.1 days against five of 1.4: fewer than shifts.MIN_COUNT on each
    side, so the finder names the longest wait and no change."""
    h = History(cora, spine)
    h.referral("2026-01-05 09:00")
    for day in range(5):
        h.referral(f"2026-02-0{day + 2} 09:00", ("contact", 33.6))
        h.referral(f"2026-03-0{day + 2} 09:00", ("contact", 74.4))
    h.rebuild()
    found = bottlenecks.find(Scope.of(MARCH, Filters(), now=local("2026-04-02 09:00")))
    assert found["findings"] == []
    assert found["sentences"] == [
        "The longest wait is for first contact: a median 3.1 days (5 referrals)."
    ]
