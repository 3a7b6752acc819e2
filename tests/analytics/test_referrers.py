"""Segments and drifting referrers (docs/design.md), on practices planted to have known answers."""

import math
from datetime import date, timedelta

import pytest

from refloop.analytics import referrers
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.demo import factories as f
from tests.analytics.history import History, local

AS_OF = date(2026, 4, 1)  # segments and drift are as of the period's end
NOW = local("2026-04-01 12:00")


def scope() -> Scope:
    return Scope.of(Period(date(2026, 3, 1), AS_OF), Filters(), now=NOW)


def send(history, provider, days_before: list[int]):
    for days in days_before:
        day = AS_OF - timedelta(days=days)
        history.referral(f"{day.isoformat()} 10:00", provider=provider)


def test_poisson_tail_matches_a_hand_computed_value():
    # P(X <= 4) for a mean of 24 * 90 / 365, summed term by term.
    mean = 24 * 90 / 365
    expected = sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(5))
    assert referrers.poisson_cdf(4, mean) == pytest.approx(expected)
    assert referrers.poisson_cdf(0, 0.0) == 1.0


def test_declining_flags_a_drop_but_not_a_fluctuation(cora, spine):
    h = History(cora, spine)
    dropping = f.ProviderFactory(practice=f.PracticeFactory(name="Dropping Family Practice"))
    lumpy = f.ProviderFactory(practice=f.PracticeFactory(name="Lumpy Internal Medicine"))
    few = f.ProviderFactory(practice=f.PracticeFactory(name="Small Rural Clinic"))
    # Dropping: 24 in the 365 days before the last 90 (two a month), none since.
    send(h, dropping, [100 + 15 * i for i in range(24)])
    # Lumpy: the same 24 before, bunched into three bursts, and 4 in the last 90 days
    # (expected 5.9): P(X <= 4) is about 0.30, well within chance.
    send(
        h,
        lumpy,
        [100 + i for i in range(8)] + [250 + i for i in range(8)] + [400 + i for i in range(8)],
    )
    send(h, lumpy, [10, 30, 50, 70])
    # Few: 5 before and none since: too few to flag (prior < 6), p given all the same.
    send(h, few, [120, 160, 200, 240, 280])
    h.rebuild()

    rows = {row["practice"]: row for row in referrers.referrers(scope())}
    drop = rows["Dropping Family Practice"]
    assert (drop["prior_365_days"], drop["recent_90_days"]) == (24, 0)
    assert drop["expected_90_days"] == pytest.approx(24 * 90 / 365, abs=0.01)
    assert drop["p_value"] == pytest.approx(math.exp(-24 * 90 / 365))
    assert drop["declining"] is True

    lump = rows["Lumpy Internal Medicine"]
    assert (lump["prior_365_days"], lump["recent_90_days"]) == (24, 4)
    assert lump["p_value"] == pytest.approx(0.296, abs=0.001)
    assert lump["declining"] is False

    small = rows["Small Rural Clinic"]
    assert (small["prior_365_days"], small["declining"]) == (5, False)
    assert small["p_value"] == pytest.approx(math.exp(-5 * 90 / 365))

    # Declining referrers are listed first.
    assert next(iter(rows)) == "Dropping Family Practice"


def test_segments_over_four_three_month_blocks_with_new_first(cora, spine):
    h = History(cora, spine)
    loyal = f.ProviderFactory(practice=f.PracticeFactory(name="Loyal Ortho Partners"))
    semi = f.ProviderFactory(practice=f.PracticeFactory(name="Semi Loyal Clinic"))
    new = f.ProviderFactory(practice=f.PracticeFactory(name="New Health Group"))
    old = f.ProviderFactory(practice=f.PracticeFactory(name="Gone Quiet Medical"))
    f.PracticeFactory(name="Never Sent Anyone")
    # Blocks as of 1 Apr 2026: [1 Apr 25, 1 Jul), [1 Jul, 1 Oct), [1 Oct, 1 Jan), [1 Jan, 1 Apr).
    for day in ("2025-05-10", "2025-08-10", "2026-02-10"):  # three blocks
        h.referral(f"{day} 10:00", provider=loyal)
    for day in ("2024-06-01", "2025-04-01", "2026-03-31"):  # blocks 1 and 4 (two), long known
        h.referral(f"{day} 10:00", provider=semi)
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):  # first ever within 90 days
        h.referral(f"{day} 10:00", provider=new)
    h.referral("2025-03-31 10:00", provider=old)  # the day before the first block
    h.rebuild()

    segments = {row["practice"]: row["segment"] for row in referrers.referrers(scope())}
    assert segments["Loyal Ortho Partners"] == "loyal"
    assert segments["Semi Loyal Clinic"] == "semi_loyal"
    assert segments["New Health Group"] == "new"
    assert segments["Gone Quiet Medical"] == "non_referring"
    assert segments["Never Sent Anyone"] == "non_referring"


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert referrers.months_before(date(2026, 4, 1), 3) == date(2026, 1, 1)
    assert referrers.months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert referrers.months_before(date(2026, 1, 15), 12) == date(2025, 1, 15)


def test_referrers_report_volume_trend_and_speed_for_the_period(cora, spine):
    h = History(cora, spine)
    provider = f.ProviderFactory(practice=f.PracticeFactory(name="Trend Clinic"))
    h.referral("2026-03-02 09:00", ("contact", 2), provider=provider)
    h.referral(
        "2026-03-20 09:00",
        ("contact", 6),
        ("accepted", 7),
        ("scheduled", 8, {"appointment_hours": 48}),
        ("seen", 48),
        provider=provider,
    )
    h.referral("2026-02-10 09:00", provider=provider)  # previous period
    h.referral("2026-01-20 09:00", source="self")  # the first on record: February is covered
    h.rebuild()
    row = next(r for r in referrers.referrers(scope()) if r["practice"] == "Trend Clinic")
    assert (row["volume"], row["previous_volume"], row["trend"]) == (2, 1, [2])
    assert row["conversion"] == 0.5
    assert row["median_hours_to_first_contact"] == pytest.approx(4)


def test_a_previous_period_the_data_only_partly_covers_has_no_previous_volume(cora, spine):
    h = History(cora, spine)
    provider = f.ProviderFactory(practice=f.PracticeFactory(name="Trend Clinic"))
    h.referral("2026-03-02 09:00", provider=provider)
    h.referral("2026-02-10 09:00", provider=provider)  # the first on record, mid-February
    h.rebuild()
    row = next(r for r in referrers.referrers(scope()) if r["practice"] == "Trend Clinic")
    assert (row["volume"], row["previous_volume"]) == (1, None)  # not "1, up from 1"


def test_few_prior_referrals_get_the_exact_tail_but_no_flag(cora, spine):
    h = History(cora, spine)
    few = f.ProviderFactory(practice=f.PracticeFactory(name="Small Rural Clinic"))
    send(h, few, [120, 160, 200, 240, 280])  # 5 before, none since
    h.rebuild()

    row = next(r for r in referrers.referrers(scope()) if r["practice"] == "Small Rural Clinic")
    # P(X = 0) for a mean of 5 * 90 / 365: given, though 5 is below the minimum count.
    assert row["p_value"] == pytest.approx(math.exp(-5 * 90 / 365))
    assert row["declining"] is False
    assert referrers.declining(0, 5) == (False, pytest.approx(math.exp(-5 * 90 / 365)))
    # 13 before and none since: P(X = 0) ≈ 0.041, flagged.
    assert referrers.declining(0, 13) == (True, pytest.approx(math.exp(-13 * 90 / 365)))


def test_the_expected_count_is_given_unrounded(cora, spine):
    h = History(cora, spine)
    practice = f.PracticeFactory(name="Seven Before Clinic")
    send(h, f.ProviderFactory(practice=practice), [100 + 20 * i for i in range(7)])
    h.rebuild()

    row = next(r for r in referrers.referrers(scope()) if r["practice"] == "Seven Before Clinic")
    assert row["expected_90_days"] == 7 * 90 / 365  # 1.7260..., not 1.73
    standing = referrers.standing(practice.pk, AS_OF, local("2026-04-01 00:00").tzinfo)
    assert standing["expected_90_days"] == 7 * 90 / 365


def _send_outbound(cora, spine, practice, day: str):
    from refloop.referrals import transitions
    from refloop.referrals.services import create_outbound_referral

    at = local(f"{day} 10:00")
    draft = create_outbound_referral(
        acting_user=cora,
        patient=f.patient_data(),
        receiving_practice=practice,
        reason="Needs pain management",
        department=spine,
        now=at,
    )
    transitions.transition(draft.pk, to="sent", acting_user=cora, fields={}, now=at)


def test_practices_that_only_receive_our_referrals_are_receivers(cora, spine):
    h = History(cora, spine)
    imaging = f.PracticeFactory(name="Imaging We Send To")
    lapsed = f.PracticeFactory(name="Used To Refer Pain Clinic")
    f.PracticeFactory(name="Never Sent Anyone")
    _send_outbound(cora, spine, imaging, "2026-02-10")
    # Referred to us once, long ago, and now only receives from us: a lapsed referrer.
    h.referral("2024-05-01 10:00", provider=f.ProviderFactory(practice=lapsed))
    _send_outbound(cora, spine, lapsed, "2026-02-11")
    # Sent to after the period's end: not yet a receiver as of then.
    later = f.PracticeFactory(name="Sent To Later")
    _send_outbound(cora, spine, later, "2026-04-20")
    h.rebuild()

    segments = {row["practice"]: row["segment"] for row in referrers.referrers(scope())}
    assert segments["Imaging We Send To"] == "receiver"
    assert segments["Used To Refer Pain Clinic"] == "non_referring"
    assert segments["Never Sent Anyone"] == "non_referring"
    assert segments["Sent To Later"] == "non_referring"
    zone = local("2026-04-01 00:00").tzinfo
    assert referrers.standing(imaging.pk, AS_OF, zone)["segment"] == "receiver"
    assert referrers.standing(lapsed.pk, AS_OF, zone)["segment"] == "non_referring"
    # The dashboard and its report count them apart.
    from refloop.analytics import dashboard, panels, report

    board = dashboard.build(scope())
    assert [p["practice"] for p in board["segments"]["receiver"]] == ["Imaging We Send To"]
    assert "Used To Refer Pain Clinic" in {
        p["practice"] for p in board["segments"]["non_referring"]
    }
    assert "receiver" in panels.SEGMENT_LABELS and "receiver" in report.SEGMENT_LABELS
