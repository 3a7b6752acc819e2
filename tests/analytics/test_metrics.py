"""Every docs/design.md metric on a small history whose answers are worked out here by hand.

The period is March 2026 in the practice's time zone (America/Chicago; daylight saving
starts on 8 March, so "hours" must be elapsed hours). The history:

R1  received 1 Mar 00:00 (the first instant of the period), provider P1: contact +4 h,
    accepted +5, scheduled +24 (visit at +240), seen +240 ($200), loop closed +288
R2  received 31 Mar 23:30 (the last half hour), provider P1: contact +10 h; still open
R3  received 1 Apr 00:00: outside the period
R4  received 20 Feb, provider P4: accepted +1, scheduled +2 (visit +240 = 2 Mar),
    seen +240, never closed: counts for March's loop closure and show rate only
R5  received 5 Mar, source patient: contact +2, accepted +3, scheduled +4 (visit +100),
    no-show +100, rebooked +120 (visit +200), seen +200 ($150), closed +368 (168 h
    after seen exactly: inclusive)
R6  received 10 Mar, self, phone: review +1, pending info +2, back to review +50,
    accepted +52, contacting +53, three unanswered calls +54, +60, +70: unreachable
R7  received 15 Mar, marketing: cancelled +6
R8  received 20 Mar, provider P2: review +3, declined +5
R9  received 2 Mar, self: accepted +1, scheduled +2 (visit +48), no-show +48
R10 received 25 Mar, provider P3, the same patient as R1 (name typed differently):
    accepted +1, scheduled +1 (visit +72), seen +72 ($100)
"""

import pytest

from refloop.analytics import metrics
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.demo import factories as f
from tests.analytics.history import History, local

MARCH = Period(local("2026-03-01 00:00").date(), local("2026-04-01 00:00").date())
NOW = local("2026-05-01 12:00")


def scope(period=MARCH, **filters) -> Scope:
    return Scope.of(period, Filters(**filters), now=NOW)


def sched(hours, visit):
    return ("scheduled", hours, {"appointment_hours": visit})


@pytest.fixture
def march(cora, spine, hand):
    h = History(cora, spine)
    p1, p2, p3, p4 = (f.ProviderFactory() for _ in range(4))
    x = f.patient_data(first_name="Ximena", last_name="Oakhart")
    x_again = {**x, "first_name": "  XIMENA ", "last_name": "oakhart"}
    r = {}
    r[1] = h.referral(
        "2026-03-01 00:00",
        ("contact", 4),
        ("accepted", 5),
        sched(24, 240),
        ("seen", 240, {"visit_value": "200.00"}),
        ("loop_closed", 288),
        provider=p1,
        patient=x,
    )
    r[2] = h.referral("2026-03-31 23:30", ("contact", 10), provider=p1)
    r[3] = h.referral("2026-04-01 00:00", ("contact", 1), provider=p1)
    r[4] = h.referral(
        "2026-02-20 09:00", ("accepted", 1), sched(2, 240), ("seen", 240), provider=p4
    )
    r[5] = h.referral(
        "2026-03-05 09:00",
        ("contact", 2),
        ("accepted", 3),
        sched(4, 100),
        ("no_show", 100),
        sched(120, 200),
        ("seen", 200, {"visit_value": "150.00"}),
        ("loop_closed", 368),
        source="patient",
    )
    r[6] = h.referral(
        "2026-03-10 09:00",
        ("in_review", 1),
        ("pending_info", 2),
        ("in_review", 50),
        ("accepted", 52),
        ("contacting", 53),
        ("contact", 54, "no_answer"),
        ("contact", 60, "no_answer"),
        ("contact", 70, "no_answer"),
        source="self",
        channel="phone",
        department=hand,
    )
    r[7] = h.referral("2026-03-15 09:00", ("cancelled", 6), source="marketing")
    r[8] = h.referral("2026-03-20 09:00", ("in_review", 3), ("declined", 5), provider=p2)
    r[9] = h.referral(
        "2026-03-02 09:00", ("accepted", 1), sched(2, 48), ("no_show", 48), source="self"
    )
    r[10] = h.referral(
        "2026-03-25 09:00",
        ("accepted", 1),
        sched(1, 72),
        ("seen", 72, {"visit_value": "100.00"}),
        provider=p3,
        patient=x_again,
    )
    h.rebuild()
    return r


def test_volume_counts_referrals_received_in_the_half_open_period(march):
    # R1 at the first instant is in, R3 at the end instant is out, R4 (February) is out.
    assert metrics.compute(scope(), ("volume",))["volume"] == {"count": 8}


def test_conversion_counts_a_referral_seen_after_the_period(march):
    assert metrics.compute(scope(), ("conversion",))["conversion"] == {
        "referrals": 8,
        "seen": 3,
        "rate": 3 / 8,
    }


def test_time_to_first_contact_leaves_out_referrals_never_contacted(march):
    # R1 4, R2 10, R5 2, R6 54 -> [2, 4, 10, 54]; median 7; p90 at rank 2.7: 10 + 0.7 * 44.
    found = metrics.compute(scope(), ("time_to_first_contact",))["time_to_first_contact"]
    assert found["count"] == 4
    assert found["median_hours"] == pytest.approx(7)
    assert found["p90_hours"] == pytest.approx(40.8)


def test_time_to_schedule_is_to_the_first_scheduled_transition(march):
    # R1 24, R5 4 (not the rebooking at 120), R9 2, R10 1 -> [1, 2, 4, 24].
    found = metrics.compute(scope(), ("time_to_schedule",))["time_to_schedule"]
    assert (found["count"], found["median_hours"]) == (4, pytest.approx(3))
    assert found["p90_hours"] == pytest.approx(4 + 0.7 * 20)


def test_time_to_appointment_is_to_the_earliest_appointment(march):
    # R1 240, R5 100 (the missed visit, not the one at 200), R9 48, R10 72.
    found = metrics.compute(scope(), ("time_to_appointment",))["time_to_appointment"]
    assert (found["count"], found["median_hours"]) == (4, pytest.approx(86))
    assert found["p90_hours"] == pytest.approx(100 + 0.7 * 140)


def test_show_rate_splits_referred_and_non_referred_by_appointment_date(march):
    # In March: R4 attended (2 Mar), R1 attended, R5 no-show then attended, R10
    # attended (referred: 4 of 5); R9's no-show (self: 0 of 1).
    found = metrics.compute(scope(), ("show_rate",))["show_rate"]
    assert found["referred"] == {"attended": 4, "no_show": 1, "rate": 0.8}
    assert found["non_referred"] == {"attended": 0, "no_show": 1, "rate": 0.0}


def test_loop_closure_is_within_168_hours_of_seen_inclusive(march):
    # Seen in March: R4 (never closed), R1 (48 h), R5 (exactly 168 h), R10 (not yet).
    assert metrics.compute(scope(), ("loop_closure",))["loop_closure"] == {
        "seen": 4,
        "closed_within_7_days": 2,
        "rate": 0.5,
    }


def test_lost_by_outcome_reason_and_stage(march):
    found = metrics.compute(scope(), ("lost",))["lost"]
    assert found["count"] == 3
    assert found["by_outcome"] == {"declined": 1, "unreachable": 1, "cancelled": 1}
    assert found["by_reason"] == {
        "outside_scope": 1,
        "max_attempts_reached": 1,
        "patient_request": 1,
    }
    assert found["by_stage"] == {"received": 1, "in_review": 1, "contacting": 1}


def test_concentration_is_the_top_fifth_of_named_providers(march):
    # Named providers in March: P1 (R1, R2), P2 (R8), P3 (R10); top ceil(0.6) = 1.
    found = metrics.compute(scope(), ("concentration",))["concentration"]
    assert (found["providers"], found["top_providers"], found["referrals"]) == (3, 1, 4)
    assert found["top_share"] == 0.5


def test_lifetime_value_follows_the_patient_to_their_first_referrals_source(march):
    # X's first referral is R1 (provider); R10 (same person, name typed differently)
    # adds its $100 to X's $200. R4's patient arrived in February.
    found = metrics.compute(scope(), ("lifetime_value",))["lifetime_value"]["by_source"]
    assert found["provider"] == {"patients": 3, "value": 300.0, "value_per_patient": 100.0}
    assert found["patient"] == {"patients": 1, "value": 150.0, "value_per_patient": 150.0}
    assert found["self"]["patients"] == 2 and found["self"]["value"] == 0
    assert found["marketing"]["patients"] == 1


def test_funnel_counts_reached_lost_and_dwell_with_returns_to_review(march):
    found = metrics.funnel(scope())
    states = {row["state"]: row for row in found["states"]}
    reached = {state: row["reached"] for state, row in states.items()}
    assert reached == {
        "received": 8,
        "in_review": 2,
        "pending_info": 1,
        "accepted": 5,
        "contacting": 1,
        "scheduled": 4,
        "no_show": 2,
        "seen": 3,
        "loop_closed": 2,
        "declined": 1,
        "unreachable": 1,
        "cancelled": 1,
    }
    assert states["received"]["lost_here"] == 1
    assert states["in_review"]["lost_here"] == 1
    assert states["contacting"]["lost_here"] == 1
    # R6 was in review twice (1 h + 2 h), R8 for 2 h: median of [2, 3].
    assert states["in_review"]["median_dwell_hours"] == pytest.approx(2.5)
    # R9 is still in no_show; R5 left it after 20 h.
    assert (states["no_show"]["left"], states["no_show"]["now_here"]) == (1, 1)
    assert states["no_show"]["median_dwell_hours"] == pytest.approx(20)


def test_funnel_draws_milestones_that_only_go_down_and_optional_stages_as_detours(march):
    found = metrics.funnel(scope())
    milestones = {row["state"]: row for row in found["milestones"]}
    assert list(milestones) == ["received", "accepted", "scheduled", "seen", "loop_closed"]
    # Accepted: R1, R5, R6, R9, R10; scheduled: R1, R5, R9, R10; seen: R1, R5, R10.
    assert [row["reached"] for row in found["milestones"]] == [8, 5, 4, 3, 2]
    # Lost before the next milestone: R7 (cancelled) and R8 (declined in review) before
    # acceptance, R6 (unreachable while contacting) before scheduling.
    assert [row["lost_here"] for row in found["milestones"]] == [2, 1, 0, 0, 0]
    # Still on the way: R2 (received), R9 (in no-show, after scheduling), R10 (seen).
    assert [row["now_here"] for row in found["milestones"]] == [1, 0, 1, 1, 2]
    # Every referral that reached a milestone reached the next, was lost, or is still there.
    for here, after in zip(found["milestones"], found["milestones"][1:], strict=False):
        assert here["reached"] == after["reached"] + here["lost_here"] + here["now_here"]

    detours = {row["state"]: row for row in found["detours"]}
    assert {state: row["after"] for state, row in detours.items()} == {
        "in_review": "received",
        "pending_info": "received",
        "contacting": "accepted",
        "no_show": "scheduled",
    }
    assert {state: row["reached"] for state, row in detours.items()} == {
        "in_review": 2,
        "pending_info": 1,
        "contacting": 1,
        "no_show": 2,
    }
    assert detours["in_review"]["share"] == pytest.approx(2 / 8)  # of those received
    assert detours["no_show"]["share"] == pytest.approx(2 / 4)  # of those scheduled
    assert detours["in_review"]["lost_here"] == 1  # R8, declined in review
    # R6 was in review twice (1 h + 2 h), R8 for 2 h: median of [2, 3].
    assert detours["in_review"]["median_dwell_hours"] == pytest.approx(2.5)
    assert detours["no_show"]["median_dwell_hours"] == pytest.approx(20)
    # The states' own rows stay as they were.
    assert {row["state"] for row in found["states"]} >= set(milestones) | set(detours)


def test_a_referral_lost_after_a_no_show_is_lost_after_scheduling(cora, spine):
    # Scheduled, missed, back to contacting, never reached: lost on the way to seen,
    # though the state it was lost from (contacting) usually comes before scheduling.
    h = History(cora, spine)
    h.referral(
        "2026-03-02 09:00",
        ("accepted", 1),
        sched(2, 48),
        ("no_show", 48),
        ("contacting", 50),
        ("contact", 51, "no_answer"),
        ("contact", 52, "no_answer"),
        ("contact", 53, "no_answer"),  # the third unanswered call: unreachable
    )
    h.rebuild()
    found = metrics.funnel(scope())
    assert [row["reached"] for row in found["milestones"]] == [1, 1, 1, 0, 0]
    assert [row["lost_here"] for row in found["milestones"]] == [0, 0, 1, 0, 0]
    assert [row["now_here"] for row in found["milestones"]] == [0, 0, 0, 0, 0]


def test_a_milestone_skipped_on_record_still_counts_as_passed(march):
    # An imported history that went from received straight to scheduled: it was accepted
    # on the way, and the accepted count must not fall below the scheduled one.
    from refloop.analytics.models import REACHED_BIT, ReferralFact

    fact = ReferralFact.objects.get(referral=march[10])
    fact.reached &= ~REACHED_BIT["accepted"]
    fact.save(update_fields=["reached"])
    found = metrics.funnel(scope())
    assert [row["reached"] for row in found["milestones"]] == [8, 5, 4, 3, 2]


def test_filters_narrow_every_metric(march, hand):
    found = metrics.compute(scope(department=hand.pk), ("volume", "lost"))
    assert found["volume"] == {"count": 1}  # R6
    assert found["lost"]["by_outcome"]["unreachable"] == 1
    assert metrics.compute(scope(source_type="self"), ("volume",))["volume"]["count"] == 2
    assert metrics.compute(scope(channel="phone"), ("volume",))["volume"]["count"] == 1


def test_an_empty_period_answers_zeros_and_no_figures(march):
    empty = scope(Period(local("2025-01-01 00:00").date(), local("2025-02-01 00:00").date()))
    found = metrics.compute(empty)
    assert found["volume"] == {"count": 0}
    assert found["conversion"]["rate"] is None
    assert found["time_to_first_contact"] == {"count": 0, "median_hours": None, "p90_hours": None}
    assert found["show_rate"]["referred"]["rate"] is None
    assert found["loop_closure"]["rate"] is None
    assert found["leakage"] == {
        "sent": 0,
        "out_of_network": 0,
        "rate": None,
        "by_receiving_practice": [],
    }
    assert found["lost"]["count"] == 0
    assert found["concentration"]["top_share"] is None
    assert found["lifetime_value"]["by_source"] == {}


def test_leakage_is_the_share_sent_out_of_network_when_sent(cora, spine):
    from refloop.referrals import transitions
    from refloop.referrals.services import create_outbound_referral

    inside = f.PracticeFactory(name="Inside Imaging", in_network=True)
    outside = f.PracticeFactory(name="Outside Pain Clinic", in_network=False)
    sent = []
    for practice, day in (
        (inside, "03-03"),
        (outside, "03-04"),
        (outside, "03-30"),
        (inside, "04-02"),
    ):
        at = local(f"2026-{day} 10:00")
        draft = create_outbound_referral(
            acting_user=cora,
            patient=f.patient_data(),
            receiving_practice=practice,
            reason="Needs pain management",
            department=spine,
            now=at,
        )
        sent.append(
            transitions.transition(draft.pk, to="sent", acting_user=cora, fields={}, now=at)
        )
    # The inside practice leaves the network later: leakage judges it as it was when sent.
    inside.in_network = False
    inside.save()
    History(cora, spine).rebuild()
    found = metrics.compute(scope(), ("leakage",))["leakage"]
    assert (found["sent"], found["out_of_network"]) == (3, 2)
    assert found["rate"] == pytest.approx(2 / 3)
    assert [row["practice"] for row in found["by_receiving_practice"]] == [
        "Outside Pain Clinic",
        "Inside Imaging",
    ]


def test_the_dashboard_reads_the_same_figures_as_the_metrics(march, spine, hand):
    from refloop.analytics import dashboard

    board = dashboard.build(scope())
    assert board["metrics"] == metrics.compute(scope())
    assert sum(sum(v) for v in board["by_source_type"]["series"].values()) == 8
    assert board["by_channel"]["months"] == [202603]
    assert sum(link["referrals"] for link in board["flows"]["links"]) == 8
    routine = next(r for r in board["sla"]["by_urgency"] if r["urgency"] == "routine")
    # Contacted: R1 4 h, R2 10, R5 2 (within 48 h), R6 54 (not).
    assert (routine["contacted"], routine["within_sla"]) == (4, 3)
    assert board["bottlenecks"]["sentences"]


def test_grouping_sets_give_the_same_medians_as_one_grouping_at_a_time(march):
    from refloop.analytics.stats import grouped_percentiles, percentiles_by_sets

    sets = (("urgency", "department_id"), ("department_id",), ("source_type",))
    together = percentiles_by_sets(metrics.cohort(scope()), sets, "first_contact_hours")
    for grouping in sets:
        alone = grouped_percentiles(metrics.cohort(scope()), list(grouping), "first_contact_hours")
        assert together[grouping].keys() == alone.keys()
        for key, figures in alone.items():
            assert together[grouping][key]["count"] == figures["count"]
            assert together[grouping][key]["p50"] == pytest.approx(figures["p50"])
    # Spine holds R1, R2 and R5 (4, 10, 2 hours); Hand holds R6 (54).
    assert {v["count"] for v in together[("department_id",)].values()} == {3, 1}


def test_the_flows_name_the_busiest_practices_ties_broken_by_name(cora, spine):
    """Thirteen practices with one referral each tie for the Sankey's twelve names: the
    twelve first by name are named, whatever order the database returns its rows in
    (created here in reverse name order, so row order by id picks the other way)."""
    from refloop.analytics import dashboard

    h = History(cora, spine)
    letters = "ABCDEFGHIJKLM"
    for day, letter in enumerate(reversed(letters), start=2):
        practice = f.PracticeFactory(name=f"Practice {letter}")
        h.referral(f"2026-03-{day:02d} 09:00", provider=f.ProviderFactory(practice=practice))
    h.rebuild()
    links = dashboard.flows(scope())["links"]
    named = {link["source"] for link in links if link["source_kind"] == "practice"}
    assert named == {f"Practice {letter}" for letter in letters[:12]}
    assert [link["referrals"] for link in links if link["source_kind"] == "others"] == [1]
