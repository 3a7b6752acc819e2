"""Where a measure shifted for the worse inside a stretch of days, and whether that shift
is more than noise: the bottleneck finder's statistics, in numpy, with no database.

The rule (the statistical half of analytics.bottlenecks' rule):
- the samples are one measure of one group of referrals (hours to first contact for
  Joint's referrals, 1 for an appointment missed and 0 for one kept at Southside…), each
  with its local day;
- every day on which the group has samples is tried as the day the change started: the
  samples from that day on against those before, both at least MIN_COUNT, by the
  Mann–Whitney rank test (its normal approximation, ties corrected; on 0/1 samples it is
  the test of two proportions). The split with the strongest rise wins, and its date is
  the change's start;
- a group of more than MOST_TESTED samples is tested on a seeded random MOST_TESTED of
  them; the figures at the day found (medians, shares, counts) are from all of them;
- the rise is said only when it is unlikely to be noise: its one-sided p-value,
  multiplied by the number of days tried and by the number of groups and measures tested
  in the same read (Bonferroni), is under ALPHA;
- and only when it matters: a median (or a rate) at least MIN_RISE higher than before
  (a wait going from 13.9 to 14.0 days is real on a thousand referrals, and says nothing).

Many small groups are first screened together (could_be_significant: the same test, for
all of them in a few array operations), and only those that could pass are tested one by
one: the answer is the same, without a sort per practice.
"""

import math
from dataclasses import dataclass, replace

import numpy as np

MIN_COUNT = 10  # samples on each side of a split: a median of three is noise
ALPHA = 0.05
MIN_RISE = 0.25  # a quarter higher than before
# Beyond this many samples a group's test runs on a fixed random sample of them: 4,000
# already tell a rise of a few percent from noise, and the sort stays cheap at scale.
MOST_TESTED = 4000
# could_be_significant keeps a group whose strongest rise is this close to significance.
SCREEN_MARGIN = 1000.0


@dataclass(frozen=True)
class Shift:
    """The strongest rise found in one group's samples."""

    since: int  # the first day of the samples after the split (a date's ordinal)
    before: float  # median (or rate) before the split
    after: float  # median (or rate) from `since` on
    count_before: int
    count_after: int
    rows: np.ndarray  # the positions, in the samples given, of those from `since` on
    z: float
    p: float  # one-sided, for this group and this split alone
    splits: int  # how many days were tried

    def significant(self, tests: int) -> bool:
        """Unlikely to be noise when `tests` groups and measures were tried in all."""
        return self.p * self.splits * max(tests, 1) < ALPHA

    @property
    def rise(self) -> float:
        """How much higher than before, as a share of before (capped at 10: from
        nothing to something is not infinitely worse)."""
        if self.before <= 0:
            return 10.0 if self.after > 0 else 0.0
        return min((self.after - self.before) / self.before, 10.0)


def _ranks(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Average ranks (1-based) of `values`, and the ties term Σ(t³ - t)."""
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    average = upper - (counts - 1) / 2.0
    ties = float(np.sum(counts.astype(float) ** 3 - counts))
    return average[inverse], ties


def strongest_rise(
    days: np.ndarray,
    values: np.ndarray,
    *,
    first_split: int,
    rate: bool = False,
    min_count: int = MIN_COUNT,
) -> Shift | None:
    """The split at a day ≥ `first_split` where `values` rose the most for the rank test,
    or None when no split leaves `min_count` samples on each side or nothing rose.
    `rate`: the values are 0/1 and the figures compared are shares, not medians."""
    n = len(values)
    if n < 2 * min_count:
        return None
    # Samples read in time order (the finder's reads are) need no sorting here.
    if np.any(days[1:] < days[:-1]):
        order = np.argsort(days, kind="stable")
        days, values = days[order], values[order]
    else:
        order = np.arange(n)
    if n > MOST_TESTED:
        # A large group is tested on a fixed sample of its values (seeded: the same data
        # gives the same answer); the figures at the day found are then all of them.
        tested = np.sort(np.random.default_rng(0).choice(n, MOST_TESTED, replace=False))
        found = strongest_rise(
            days[tested], values[tested], first_split=first_split, rate=rate, min_count=min_count
        )
        if found is None:
            return None
        split = int(np.searchsorted(days, found.since))
        summary = np.mean if rate else np.median
        return replace(
            found,
            before=float(summary(values[:split])),
            after=float(summary(values[split:])),
            count_before=split,
            count_after=n - split,
            rows=order[split:],
        )
    ranks, ties = _ranks(values)
    variance_factor = (n + 1) - ties / (n * (n - 1))
    if variance_factor <= 0:  # every value the same
        return None
    # Candidate splits: the first sample of each day, with enough on both sides.
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    starts = starts[
        (starts >= min_count) & (n - starts >= min_count) & (days[starts] >= first_split)
    ]
    if len(starts) == 0:
        return None
    suffix = np.cumsum(ranks[::-1])[::-1]  # rank sum from each position to the end
    after = n - starts
    before = starts
    u = suffix[starts] - after * (after + 1) / 2.0
    z = (u - before * after / 2.0) / np.sqrt(before * after / 12.0 * variance_factor)
    best = int(np.argmax(z))
    if z[best] <= 0:
        return None
    split = int(starts[best])
    early, late = values[:split], values[split:]
    summary = np.mean if rate else np.median
    return Shift(
        since=int(days[split]),
        before=float(summary(early)),
        after=float(summary(late)),
        count_before=split,
        count_after=n - split,
        rows=order[split:],
        z=float(z[best]),
        p=0.5 * math.erfc(float(z[best]) / math.sqrt(2)),
        splits=len(starts),
    )


def could_be_significant(
    days: np.ndarray,
    values: np.ndarray,
    sizes: np.ndarray,
    *,
    first_split: int,
    tests: int,
    min_count: int = MIN_COUNT,
) -> np.ndarray:
    """For many groups at once, whether strongest_rise could find a significant rise in
    each (`tests` groups and measures tried in all): a screen run before it, so that the
    hundreds of small groups a practice's read holds cost a few array operations together
    instead of a sort each. The samples are the groups' one after the other (`sizes`),
    each group's in time order; groups of over MOST_TESTED samples are always kept (their
    test runs on a sample of them, which this does not reproduce).

    The screen computes the same rank test on all of a group's samples (ranks within the
    group, ties averaged, every day's split) and keeps a group whose strongest rise is
    within a thousandfold of significance: far wider than the rounding between the two
    computations, so a group it drops is one strongest_rise would not have called
    significant."""
    keep = sizes > MOST_TESTED
    if keep.any():  # screened without them
        small = np.repeat(~keep, sizes)
        keep[~keep] = could_be_significant(
            days[small],
            values[small],
            sizes[~keep],
            first_split=first_split,
            tests=tests,
            min_count=min_count,
        )
        return keep
    count = len(sizes)
    if not len(values):
        return keep
    group = np.repeat(np.arange(count), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]  # each group's first sample
    # Average ranks within each group: sorted by (group, value), a run of equal values
    # shares the mean of its positions.
    order = np.lexsort((values, group))
    sorted_group, sorted_value = group[order], values[order]
    new_run = np.r_[
        True, (sorted_group[1:] != sorted_group[:-1]) | (sorted_value[1:] != sorted_value[:-1])
    ]
    run_start = np.flatnonzero(new_run)
    run_length = np.diff(np.r_[run_start, len(values)])
    run_group = sorted_group[run_start]
    average = run_start - first[run_group] + 1 + (run_length - 1) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(average, run_length)
    ties = np.bincount(
        run_group, weights=run_length.astype(float) ** 3 - run_length, minlength=count
    )
    n = sizes.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance_factor = (n + 1) - ties / (n * (n - 1))
    # Every split at the first sample of a day, with enough samples on both sides.
    position = np.arange(len(values)) - first[group]
    starts = np.flatnonzero(
        ((position == 0) | np.r_[True, days[1:] != days[:-1]])
        & (position >= min_count)
        & (sizes[group] - position >= min_count)
        & (days >= first_split)
    )
    cumulative = np.cumsum(ranks)
    total = np.bincount(group, weights=ranks, minlength=count)
    before_first = cumulative[first] - ranks[first]
    at = group[starts]
    suffix = total[at] - (cumulative[starts] - ranks[starts] - before_first[at])
    after = sizes[at] - position[starts]
    before = position[starts].astype(float)
    u = suffix - after * (after + 1) / 2.0
    usable = variance_factor[at] > 0
    z = np.full(len(starts), -np.inf)
    z[usable] = (u[usable] - before[usable] * after[usable] / 2.0) / np.sqrt(
        before[usable] * after[usable] / 12.0 * variance_factor[at][usable]
    )
    strongest = np.full(count, -np.inf)
    if len(at):  # the splits come group by group
        tried, first_split_of = np.unique(at, return_index=True)
        strongest[tried] = np.maximum.reduceat(z, first_split_of)
    splits = np.bincount(at, minlength=count)
    for g in np.flatnonzero((strongest > 0) & ~keep):
        p = 0.5 * math.erfc(float(strongest[g]) / math.sqrt(2))
        keep[g] = p * splits[g] * max(tests, 1) < ALPHA * SCREEN_MARGIN
    return keep
