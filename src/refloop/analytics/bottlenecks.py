"""The bottleneck finder: where referrals wait longest or are lost in a period, who and
what that concerns, against the period before (when the data covers it: analytics.coverage),
in plain sentences."""

from dataclasses import dataclass

from refloop.analytics import coverage, metrics
from refloop.analytics.metrics import Scope, cohort
from refloop.analytics.stats import percentiles_by_sets
from refloop.core.models import User
from refloop.network.models import Practice
from refloop.practice.models import Department
from refloop.referrals.models import ReferralChannel

# A group needs this many measured referrals in both periods before it is compared:
# a median of two is noise.
MIN_GROUP = 5
MOST_SENTENCES = 6


@dataclass(frozen=True)
class Stage:
    key: str
    column: str
    wait: str  # completes "wait a median 3.1 days …"


STAGES = (
    Stage("first_contact", "first_contact_hours", "for first contact"),
    Stage("in_review", "dwell_in_review", "in review"),
    Stage("pending_info", "dwell_pending_info", "for missing information"),
    Stage("accepted", "dwell_accepted", "between acceptance and the first call"),
    Stage("contacting", "dwell_contacting", "to be booked once outreach starts"),
    Stage("scheduled", "dwell_scheduled", "for their appointment"),
    Stage("seen", "dwell_seen", "for the report to go back after the visit"),
)
# The period before when it is not compared: no stage measured there.
_NOTHING = {stage.column: {"count": 0, "p50": None} for stage in STAGES}
STAGE_WORDS = {
    "received": "on arrival",
    "in_review": "in review",
    "pending_info": "while waiting for information",
    "accepted": "after acceptance",
    "contacting": "while we tried to reach the patient",
    "scheduled": "after booking",
    "no_show": "after a no-show",
}
DIMENSIONS = (
    ("urgency", "department_id"),
    ("department_id",),
    ("assignee_id",),
    ("channel",),
    ("practice_id",),
)


def duration(hours: float, unit: str | None = None, *, bare: bool = False) -> str:
    """Hours in words: '30.5 hours', '3.1 days' (days from 48 hours on, unless `unit`
    says); `bare` leaves the unit off (the second figure of a pair)."""
    unit = unit or ("days" if hours >= 48 else "hours")
    figure = f"{hours / 24:.1f}" if unit == "days" else f"{hours:.1f}"
    return figure if bare else f"{figure} {unit}"


def _names() -> dict[str, dict]:
    return {
        "department_id": dict(Department.objects.values_list("pk", "name")),
        "assignee_id": {
            pk: (f"{first} {last}".strip() or username)
            for pk, username, first, last in User.objects.values_list(
                "pk", "username", "first_name", "last_name"
            )
        },
        "practice_id": dict(Practice.objects.values_list("pk", "name")),
        "channel": {value: label.lower() for value, label in ReferralChannel.choices},
    }


def _subject(dimension: tuple[str, ...], key: tuple, names: dict) -> str | None:
    """The referrals of a group in words: 'Routine referrals to Spine', 'Referrals
    assigned to Cora Diaz'…; None when a member is missing (unassigned, no department)."""
    if any(value in (None, "") for value in key):
        return None
    parts = dict(zip(dimension, key, strict=True))
    if dimension == ("urgency", "department_id"):
        department = names["department_id"].get(parts["department_id"])
        return f"{parts['urgency'].capitalize()} referrals to {department}"
    if dimension == ("department_id",):
        return f"Referrals to {names['department_id'].get(key[0])}"
    if dimension == ("assignee_id",):
        return f"Referrals assigned to {names['assignee_id'].get(key[0])}"
    if dimension == ("channel",):
        return f"Referrals that came by {names['channel'].get(key[0], key[0])}"
    return f"Referrals from {names['practice_id'].get(key[0])}"


def _overall(scope: Scope) -> dict[str, dict]:
    return metrics.clocks(scope)  # shared with the funnel and the headline figures


def _lost_by_stage(scope: Scope) -> dict[str, int]:
    return metrics.lost(scope)["by_stage"]


def find(scope: Scope, *, compared: bool | None = None) -> dict:
    """{"stage", "sentences", "stages", …} for the scope's period against the one before.

    The bottleneck is the stage whose median wait grew the most (in hours, among stages
    with at least MIN_GROUP referrals in both periods); when none grew, the stage with the
    longest wait. The sentences say that, where most referrals are lost, and which groups
    wait longer at the bottleneck than before. When the data does not cover both periods
    (`compared` False; by default coverage.comparison decides), nothing is compared: the
    longest wait and where most are lost, in this period alone."""
    if compared is None:
        compared = coverage.comparison(scope)["compared"]
    previous = scope.previous()
    now_overall = _overall(scope)
    before_overall = _overall(previous) if compared else _NOTHING
    stages = []
    for stage in STAGES:
        now, before = now_overall[stage.column], before_overall[stage.column]
        stages.append(
            {
                "stage": stage.key,
                "count": now["count"],
                "median_hours": now["p50"],
                "previous_count": before["count"],
                "previous_median_hours": before["p50"],
            }
        )
    sentences: list[str] = []
    chosen = _bottleneck(stages)
    if chosen is not None:
        stage = next(s for s in STAGES if s.key == chosen["stage"])
        now, before = chosen["median_hours"], chosen["previous_median_hours"]
        grew = before is not None and now > before
        opening = "The wait that grew most is" if grew else "The longest wait is"
        median = _against(now, before) if compared else duration(now)
        sentences.append(
            f"{opening} {stage.wait}: a median {median} ({chosen['count']} referral{'s' if chosen['count'] != 1 else ''})."
        )
        if compared:
            sentences.extend(_groups(scope, previous, stage))
    lost_now = _lost_by_stage(scope)
    lost_before = _lost_by_stage(previous) if compared else {}
    if lost_now:
        where, count = max(lost_now.items(), key=lambda item: item[1])
        total = sum(lost_now.values())
        against = (
            f", against {lost_before.get(where, 0)} in the previous period" if compared else ""
        )
        sentences.insert(
            1 if sentences else 0,
            f"Most lost referrals are lost {STAGE_WORDS.get(where, where)}: {count} of {total}"
            f"{against}.",
        )
    return {
        "stage": chosen["stage"] if chosen else None,
        "sentences": sentences[:MOST_SENTENCES],
        "stages": stages,
        "lost_by_stage": lost_now,
        "previous_lost_by_stage": lost_before,
    }


def _bottleneck(stages: list[dict]) -> dict | None:
    comparable = [
        s
        for s in stages
        if s["count"] >= MIN_GROUP
        and s["previous_count"] >= MIN_GROUP
        and s["median_hours"] > s["previous_median_hours"]
    ]
    if comparable:
        return max(comparable, key=lambda s: s["median_hours"] - s["previous_median_hours"])
    measured = [s for s in stages if s["median_hours"] is not None]
    return max(measured, key=lambda s: s["median_hours"], default=None)


def _against(now: float, before: float | None) -> str:
    """'3.1 days, up from 1.4' — both figures in one unit."""
    if before is None:
        return f"{duration(now)}, with no figure for the previous period"
    unit = "days" if max(now, before) >= 48 else "hours"
    if round(now, 1) == round(before, 1):
        return f"{duration(now, unit)}, the same as in the previous period"
    return f"{duration(now, unit)}, {'up' if now > before else 'down'} from {duration(before, unit, bare=True)}"


def _groups(scope: Scope, previous: Scope, stage: Stage) -> list[str]:
    """The groups (urgency and department, department, coordinator, channel, referring
    practice) whose median wait at this stage rose the most against the previous period."""
    names = _names()
    rising = []
    now_by = percentiles_by_sets(cohort(scope), DIMENSIONS, stage.column)
    before_by = percentiles_by_sets(cohort(previous), DIMENSIONS, stage.column)
    for dimension in DIMENSIONS:
        before = before_by[dimension]
        for key, figures in now_by[dimension].items():
            earlier = before.get(key)
            if figures["count"] < MIN_GROUP or earlier is None or earlier["count"] < MIN_GROUP:
                continue
            if figures["p50"] <= earlier["p50"]:
                continue
            subject = _subject(dimension, key, names)
            if subject:
                rising.append((figures["p50"] - earlier["p50"], subject, figures, earlier))
    rising.sort(key=lambda item: -item[0])
    seen_subjects: set[str] = set()
    sentences = []
    for _, subject, figures, earlier in rising:
        if subject in seen_subjects:
            continue
        seen_subjects.add(subject)
        now, before = figures["p50"], earlier["p50"]
        unit = "days" if max(now, before) >= 48 else "hours"
        sentences.append(
            f"{subject} wait a median {duration(now, unit)} {stage.wait}, "
            f"up from {duration(before, unit, bare=True)}."
        )
        if len(sentences) >= 3:
            break
    return sentences
