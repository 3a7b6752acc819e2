"""Stories the demo plants on purpose so every liaison signal has its occurrence: a practice
or a provider that sends its first referral this month, one small practice whose latest referrals we
mostly declined as not a fit, and one whose two recent referrals we were slow to call (a
service problem at our end).

Applied to the planned journeys before anything is written, with a generator of its own, so
the rest of the plan (drawn from the planner's) stays as it was.
"""

import random
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import takewhile

from refloop.demo import content as c
from refloop.demo.plans import INBOUND_STATES, Clock, Plan, Step, until

# The decline reasons outreach.signals reads as "not a fit" (NOT_A_FIT_REASONS).
NOT_A_FIT = ("not_clinically_indicated", "outside_scope")
LAST = 5  # of a practice's last 5 referrals...
DECLINED = 3  # ...3 declined as not a fit
# The newest planted decline falls within this: the signal takes only a recent run as news.
RECENT = timedelta(days=60)
# The first referral arrives within the first-referral signal's month (demo.outreach._tasks).
FIRST_ARRIVED = (timedelta(days=2), timedelta(days=25))
# The slow calls: referrals that arrived this long ago (within the signal's 30 days), their
# work after arrival a week late; not one left open and untouched for weeks (nobody would).
SLOW_ARRIVED = (timedelta(days=3), timedelta(days=28))
UNTOUCHED = timedelta(days=18)
SLOW_BY = timedelta(days=7)
SLOW = 2  # referrals late on their first contact (outreach.signals.SERVICE_MIN_LATE)
OPEN_STATES = ("received", "in_review", "pending_info", "accepted", "contacting")


def _natural_inbound(plans: list[Plan]) -> dict[int, list[Plan]]:
    """{practice index: its inbound plans}, leaving out those forced to show each state and
    those whose patient another plan comes back to or was recommended by."""
    taken = {p.patient_of for p in plans} | {p.advocate_of for p in plans}
    by_practice: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if (
            plan.direction == "inbound"
            and plan.index >= len(INBOUND_STATES)
            and plan.index not in taken
            and plan.steps
            and plan.create.get("practice") is not None
        ):
            by_practice[plan.create["practice"]].append(plan)
    return by_practice


def first_referral(planner, plans: list[Plan]) -> int | None:
    """Have one recent referral sent instead by someone who never sent us one: a provider at
    a practice of the same kind (so the same departments and patients) that has never
    referred, else a colleague at the same practice. Its first referral, for the liaison to
    thank. Returns the sender's provider index (None if everyone has referred)."""
    inbound = [p for p in plans if p.direction == "inbound"]
    used = {p.create.get("practice") for p in plans}
    used_providers = {p.create.get("provider") for p in inbound}
    quiet = [
        ref
        for ref in planner.providers
        if ref.index not in used_providers and ref.practice not in planner.portal_users
    ]
    arrived_from, arrived_to = (planner.now - d for d in reversed(FIRST_ARRIVED))
    recent = sorted(
        (
            plan
            for mine in _natural_inbound(plans).values()
            for plan in mine
            if arrived_from <= plan.created_at <= arrived_to
            and plan.create["channel"] != "portal"  # a portal user sends for their practice
            and plan.create.get("provider") is not None
        ),
        key=lambda p: -p.index,
    )
    for new_practice in (True, False):
        for plan in recent:
            sender = planner.providers[plan.create["provider"]]
            ref = next((r for r in quiet if _may_send(r, sender, new_practice, used)), None)
            if ref is not None:
                plan.create["provider"], plan.create["practice"] = ref.index, ref.practice
                return ref.index
    return None


def _may_send(ref, sender, new_practice: bool, used: set) -> bool:
    """`ref` may send `sender`'s referral: at a practice of the same kind that has never
    referred (`new_practice`), or at the same practice."""
    if new_practice:
        return ref.practice not in used and ref.kind == sender.kind
    return ref.practice == sender.practice


def not_a_fit_run(planner, plans: list[Plan], *, seed: int) -> int | None:
    """Turn 3 of one practice's last 5 inbound referrals into declines as not a fit (a
    reason that fits each one's condition and age), reviewed and declined soon after they
    arrived. The practice chosen is the smallest sender where that is possible; returns its
    directory index (None if none is)."""
    rng = random.Random(seed)
    clock = Clock(planner.zone, rng)
    by_practice = _natural_inbound(plans)
    for practice in sorted(by_practice, key=lambda p: (len(by_practice[p]), p)):
        # Its last five of all its referrals, the ones left alone above included.
        everything = [
            p
            for p in plans
            if p.direction == "inbound" and p.create.get("practice") == practice and p.steps
        ]
        last = sorted(everything, key=lambda p: p.created_at)[-LAST:]
        if len(last) < LAST or last[-1].created_at < planner.now - RECENT:
            continue
        free = {p.index for p in by_practice[practice]}
        runs = [
            (plan, steps)
            for plan in reversed(last)
            if plan.index in free and (steps := _declined(planner, clock, rng, plan))
        ][:DECLINED]
        if len(runs) < DECLINED or runs[0][1][-1].at < planner.now - RECENT:
            continue
        for plan, steps in runs:
            plan.steps, plan.outcome = steps, "declined"
        return practice
    return None


def _declined(planner, clock: Clock, rng: random.Random, plan: Plan) -> list[Step] | None:
    """`plan`'s arrival (what came with it, the intake call), then a review and a decline as
    not a fit; None when no such reason fits it or there was no time for it yet."""
    reasons = [
        d
        for d in c.DECLINES[plan.department]
        if d.reason in NOT_A_FIT and d.fits(plan.create["icd10_codes"], plan.age)
    ]
    if not reasons:
        return None
    arrival = [s for s in plan.steps if s.state == "received"]
    decline = rng.choice(reasons)
    doctor = rng.choice(planner.staff.clinicians[plan.department])
    reviewed = clock.business(arrival[-1].at + timedelta(hours=rng.uniform(0.5, 6)))
    declined = clock.business(reviewed + timedelta(hours=rng.uniform(0.5, 20)))
    if declined > planner.now - timedelta(minutes=5):
        return None
    return [
        *arrival,
        Step(reviewed, "review", doctor, "in_review"),
        Step(
            declined,
            "decline",
            doctor,
            "declined",
            {
                "reason": decline.reason,
                "reason_detail": decline.detail,
                "suggested_alternative": decline.alternative,
            },
        ),
    ]


def slow_first_calls(planner, plans: list[Plan]) -> int | None:
    """Make two recent referrals of one practice late on their first contact: no call at
    intake, and everything after their arrival a week later (the same weekday and hour, so
    still in office hours). The practice chosen is the one with most such referrals;
    returns its directory index (None if no practice has two)."""
    by_practice = _natural_inbound(plans)
    arrived_from, arrived_to = (planner.now - d for d in reversed(SLOW_ARRIVED))
    candidates: dict[int, list[tuple[Plan, list[Step]]]] = {}
    for practice, mine in by_practice.items():
        recent = [p for p in mine if arrived_from <= p.created_at <= arrived_to]
        slow = [(p, steps) for p in recent if (steps := _slow(planner, p)) is not None]
        if len(slow) >= SLOW:
            candidates[practice] = slow
    if not candidates:
        return None
    practice = max(candidates, key=lambda p: (len(candidates[p]), -p))
    for plan, steps in sorted(candidates[practice], key=lambda run: -run[0].index)[:SLOW]:
        plan.steps, plan.outcome = steps, steps[-1].state
    return practice


def _slow(planner, plan: Plan) -> list[Step] | None:
    """`plan`'s steps with the work after its arrival a week late, up to now; None unless
    that leaves its first contact late (made late, or still to make while it is open)."""
    zone = planner.zone
    arrival = list(takewhile(lambda s: s.kind in ("create", "attach"), plan.steps))
    later = [
        Step(
            (s.at.astimezone(zone) + SLOW_BY).astimezone(s.at.tzinfo),
            s.kind,
            s.actor,
            s.state,
            {k: _later(v, zone) for k, v in s.args.items()},
            s.pivot,
        )
        for s in plan.steps[len(arrival) :]
        if not (s.kind == "attempt" and s.state == "received")  # no call at intake
    ]
    steps = until([*arrival, *later], planner.now)
    if steps[-1].state in OPEN_STATES and steps[-1].at < planner.now - UNTOUCHED:
        return None
    due = plan.created_at + timedelta(hours=planner.sla_hours[plan.urgency])
    first = next((s.at for s in steps if s.kind == "attempt"), None)
    if first is not None:
        return steps if first > due else None
    return steps if steps[-1].state in OPEN_STATES and due <= planner.now else None


def _later(value, zone):
    if isinstance(value, datetime):
        return (value.astimezone(zone) + SLOW_BY).astimezone(value.tzinfo)
    return value
