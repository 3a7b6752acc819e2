"""The rank-test scan under the bottleneck finder, on drawn samples (no database)."""

import numpy as np

from refloop.analytics import shifts


def stepped(n: int, step_day: int, before: float, after: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(0, 365, n))
    values = rng.lognormal(0, 0.3, n) * np.where(days >= step_day, after, before)
    return days, values


def test_a_wait_that_doubled_on_a_day_is_found_from_that_day():
    days, values = stepped(400, 200, 13, 26)
    found = shifts.strongest_rise(days, values, first_split=0)
    assert found is not None and found.significant(tests=500)
    assert 200 <= found.since <= 207
    assert found.count_before + found.count_after == 400
    assert 12 < found.before < 14 and 24 < found.after < 28 and 0.8 < found.rise < 1.2


def test_a_large_group_is_tested_on_a_sample_and_described_by_all_its_values():
    days, values = stepped(3 * shifts.MOST_TESTED, 250, 13, 20, seed=1)
    found = shifts.strongest_rise(days, values, first_split=0)
    assert found is not None and found.significant(tests=500)
    assert 250 <= found.since <= 252
    late = days >= found.since
    assert found.count_after == int(late.sum()) == len(found.rows)
    assert found.after == float(np.median(values[late]))
    assert found.before == float(np.median(values[~late]))


def test_a_wiggle_from_13_9_to_14_0_days_is_real_on_many_samples_but_too_small_to_say():
    days, values = stepped(20_000, 180, 13.9 * 24, 14.0 * 24, seed=2)
    values = np.where(days >= 180, 14.0 * 24, 13.9 * 24)  # no spread: surely not noise
    found = shifts.strongest_rise(days, values, first_split=0)
    assert found is not None and found.significant(tests=500)
    assert found.rise < shifts.MIN_RISE


def test_hundreds_of_groups_with_nothing_changed_say_nothing():
    rng = np.random.default_rng(3)
    tests = 300
    said = 0
    for _ in range(tests):
        n = int(rng.integers(20, 600))
        days = np.sort(rng.integers(0, 365, n))
        found = shifts.strongest_rise(days, rng.lognormal(3, 0.5, n), first_split=0)
        missed = (rng.random(n) < 0.1).astype(float)
        rate = shifts.strongest_rise(days, missed, first_split=0, rate=True)
        said += sum(1 for f in (found, rate) if f is not None and f.significant(2 * tests))
    assert said == 0


def test_too_few_on_either_side_of_every_day_is_no_answer():
    days = np.arange(2 * shifts.MIN_COUNT - 1)
    assert shifts.strongest_rise(days, days.astype(float), first_split=0) is None
    days = np.arange(40)
    late = shifts.strongest_rise(days, days.astype(float), first_split=35)
    assert late is None  # a split on day 35 or later leaves fewer than 10 after it


def test_the_screen_keeps_every_group_with_a_rise_that_is_not_noise_and_drops_quiet_ones():
    """could_be_significant, over hundreds of groups at once (waits with ties, 0/1 rates,
    some with a planted rise, some tiny, some over MOST_TESTED), keeps each group in
    which strongest_rise finds a significant rise, and drops most of the others."""
    rng = np.random.default_rng(4)
    tests = 400
    groups = []
    for g in range(tests):
        n = int(rng.choice([15, 25, 60, 300, 1500, shifts.MOST_TESTED + 50]))
        days = np.sort(rng.integers(0, 365, n))
        if g % 2:
            values = (rng.random(n) < np.where(days >= 200, 0.1 + 0.4 * (g % 3 == 0), 0.1)) * 1.0
        else:
            values = np.round(rng.lognormal(3, 0.5, n) * np.where(days >= 150, 1 + (g % 5 == 0), 1))
        groups.append((days, values))
    sizes = np.array([len(v) for _, v in groups])
    for rate in (False, True):
        chosen = [i for i in range(tests) if (i % 2 == 1) == rate]
        kept = shifts.could_be_significant(
            np.concatenate([groups[i][0] for i in chosen]),
            np.concatenate([groups[i][1] for i in chosen]),
            sizes[chosen],
            first_split=30,
            tests=tests,
        )
        significant = []
        for i in chosen:
            found = shifts.strongest_rise(*groups[i], first_split=30, rate=rate)
            significant.append(found is not None and found.significant(tests))
        significant = np.array(significant)
        assert significant.any() and (kept | ~significant).all()
        assert kept[sizes[chosen] > shifts.MOST_TESTED].all()
        quiet = ~significant & (sizes[chosen] <= shifts.MOST_TESTED)
        assert kept[quiet].mean() < 0.5
