"""The demo practice's referral journeys, planned before anything is written.

A plan is one referral's story as timed steps (received, reviewed, contacted,
scheduled, seen, closed…) drawn from a seeded random generator; seed.py replays
every plan's steps in time order through the real services. Nothing here
touches the database, so the same seeds always give the same plans.
"""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from refloop.demo import content as c
from refloop.demo import partners
from refloop.demo.outbound import OutboundJourneys
from refloop.demo.patients import new_patient, pick
from refloop.demo.plans import (
    INBOUND_STATES,
    OUTBOUND_STATES,
    Clock,
    Fate,
    Path,
    Plan,
    ProviderRef,
    ReceiverRef,
    Staff,
    Step,
    truncate_at,
    until,
)

# How much faster an urgent or stat referral moves through each step.
PACE = {"routine": 1.0, "urgent": 0.4, "stat": 0.12}

SOURCES = [
    ("provider", 0.79),
    ("patient", 0.06),
    ("self", 0.08),
    ("marketing", 0.04),
    ("other", 0.03),
]
# The channels the demo's referrals arrive on, each through the path the product has for
# it: fax (read from the document queue by a coordinator), portal (a portal user of the
# referring practice), phone and email (a coordinator enters it), web_form (the public
# form, nobody signed in). The API has no demo user of its own, so none arrive by it.
CHANNELS = {
    "provider": [
        ("fax", 0.56),
        ("portal", 0.16),
        ("phone", 0.1),
        ("email", 0.14),
        ("web_form", 0.04),
    ],
    "patient": [("phone", 0.55), ("web_form", 0.35), ("email", 0.1)],
    "self": [("phone", 0.55), ("web_form", 0.35), ("email", 0.1)],
    "marketing": [("web_form", 0.6), ("phone", 0.4)],
    "other": [("phone", 0.5), ("fax", 0.3), ("email", 0.2)],
}
# The channels a referral letter comes with, or follows by fax (after a call or the form).
WITH_LETTER = ("fax", "portal", "email", "phone", "web_form")
ACCEPTED_PAYERS = {
    str(d["code"]): set(cast(list[str], d["accepted_insurances"])) for d in c.DEPARTMENTS
}
DEPARTMENT_NAMES = {str(d["code"]): str(d["name"]) for d in c.DEPARTMENTS}
# An open referral untouched this long is closed (or shows why it waits): no working
# practice leaves a referral standing for months.
STALE = timedelta(days=21)
OPEN_STATES = INBOUND_STATES[:4] + ["contacting", "scheduled", "no_show", "seen"]


class Planner(OutboundJourneys):
    def __init__(
        self,
        *,
        rng,
        fake,
        zone: ZoneInfo,
        now: datetime,
        staff: Staff,
        providers: list[ProviderRef],
        receivers: list[ReceiverRef],
        sla_hours: dict[str, int],
        max_attempts: int,
        portal_users: dict[int, str] | None = None,
    ):
        self.rng, self.fake, self.now, self.staff = rng, fake, now, staff
        self.clock = Clock(zone, rng)
        self.zone = zone
        self.providers, self.receivers = providers, receivers
        self.sla_hours, self.max_attempts = sla_hours, max_attempts
        self.kinds = {k.key: k for k in partners.PRACTICE_KINDS}
        self.today = now.astimezone(zone).date()
        self.portal_users = portal_users or {}  # practice index -> its portal user

    # ---- everything at once ------------------------------------------------

    def plan_all(self, *, inbound: int, outbound: int, months: int = 18) -> list[Plan]:
        start = self.now - timedelta(days=round(months * 30.44))
        natural = max(0, inbound - len(INBOUND_STATES))
        plans = [self.forced_inbound(i, state) for i, state in enumerate(INBOUND_STATES)]
        for t in self.arrivals(natural, start):
            plans.append(self.inbound(len(plans), t))
        self._returning_patients(plans)
        first_out = len(plans)
        for i, state in enumerate(OUTBOUND_STATES):
            plans.append(self.forced_outbound(first_out + i, state, plans))
        out_start = self.now - timedelta(days=365)
        for t in self.arrivals(max(0, outbound - len(OUTBOUND_STATES)), out_start, business=True):
            plans.append(self.outbound(len(plans), t, plans))
        return [p for p in plans if p.steps]

    def arrivals(self, count: int, start: datetime, business: bool = False) -> list[datetime]:
        """Arrival times: weekdays far busier than weekends, volume growing slowly."""
        first = start.astimezone(self.zone).date()
        days = (self.today - first).days
        weights = []
        for d in range(days + 1):
            weekday = (first + timedelta(days=d)).weekday() < 5
            weights.append((1.0 if weekday else 0.12) * (0.85 + 0.3 * d / max(days, 1)))
        times = []
        for d in self.rng.choices(range(days + 1), weights, k=count):
            day = first + timedelta(days=d)
            if day.weekday() < 5:
                hour = self.rng.triangular(7.0, 18.5, 11.0)
            else:
                hour = self.rng.uniform(8.0, 20.0)
            local = datetime.combine(day, time(0), tzinfo=self.zone) + timedelta(hours=hour)
            t = local.astimezone(UTC)
            if business:
                t = self.clock.business(t)
            if t >= self.now:
                t = self.now - timedelta(minutes=self.rng.uniform(10, 600))
            times.append(t)
        return sorted(times)

    def sweep_times(self, plans: list[Plan]) -> list[datetime]:
        """When the every-five-minutes SLA sweep would have found each late first contact."""
        times = {}
        for plan in plans:
            if plan.direction != "inbound":
                continue
            due = plan.created_at + timedelta(hours=self.sla_hours[plan.urgency])
            first = next((s.at for s in plan.steps if s.kind == "attempt"), None)
            if first is not None and first <= due:
                continue
            grid = due + timedelta(minutes=5)
            grid -= timedelta(
                minutes=grid.minute % 5, seconds=grid.second, microseconds=grid.microsecond
            )
            if grid <= self.now:
                times[grid] = True
        return sorted(times)

    # ---- inbound -------------------------------------------------------------

    def inbound(self, index: int, received_at: datetime, target: str | None = None) -> Plan:
        rng = self.rng
        source = pick(rng, SOURCES)
        provider = self._provider(received_at) if source == "provider" else None
        if source == "provider" and provider is None:
            source = "self"
        kind = self.kinds[provider.kind] if provider else None
        if kind:
            department = pick(rng, list(kind.departments.items()))
        elif source == "other":
            department = pick(rng, [("spine", 0.5), ("sports-hand", 0.4), ("joint", 0.1)])
        else:
            department = pick(rng, [("spine", 0.35), ("joint", 0.3), ("sports-hand", 0.35)])
        pediatric = kind is not None and kind.key == "pediatrics"
        day = received_at.astimezone(self.zone).date()
        patient = self.patient(department, pediatric=pediatric, on=day)
        age = self._age(patient["date_of_birth"], received_at)
        # A condition the patient's age makes likely: no trigger finger at 12.
        conditions = [x for x in c.CONDITIONS[department] if x.fits(age)]
        conditions = conditions or c.CONDITIONS[department]
        condition = rng.choices(conditions, [x.weight for x in conditions])[0]
        clinical = source in ("provider", "other")
        channel = pick(rng, CHANNELS[source])
        if channel == "phone" and not self.clock.is_open(received_at):
            channel = "fax" if clinical else "web_form"  # nobody answers the phone at night
        portal_user = self.portal_users.get(provider.practice) if provider else None
        if channel == "portal" and portal_user is None:
            channel = "fax"  # only practices with portal users send through the portal
        elif portal_user and channel in ("fax", "email") and rng.random() < 0.6:
            channel = "portal"
        documents = ["referral_letter"] if clinical and channel in WITH_LETTER else []
        if clinical or rng.random() < 0.3:
            reason, sent = self._reason(condition, with_letter=bool(documents))
            documents += sent
            codes = list(condition.codes)
        else:
            reason, codes = rng.choice(c.SELF_REASONS[department]), []
        if department == "joint" and documents and "imaging" not in documents:
            if rng.random() < 0.7:
                documents.append("imaging")
        urgency = pick(
            rng,
            [("routine", 0.84), ("urgent", 0.14), ("stat", 0.02)]
            if clinical
            else [("routine", 0.95), ("urgent", 0.05)],
        )
        routed = source == "provider" or rng.random() < 0.8  # else routed when accepted
        if channel in ("portal", "web_form"):
            assignee = None  # these senders have no say over routing; triage assigns
        else:
            assignee = self.staff.coordinator_for[department] if rng.random() < 0.88 else None
        refused = patient["insurance_payer"] not in ACCEPTED_PAYERS[department]
        if refused and target not in (None, "declined"):
            patient["insurance_payer"] = rng.choice(c.PAYERS_COMMERCIAL)
            refused = False
        create = {
            "source_type": source,
            "channel": channel,
            "urgency": urgency,
            "reason": reason,
            "icd10_codes": codes,
            "department": department if routed else None,
            "provider": provider.index if provider else None,
            "practice": provider.practice if provider else None,
            "source_other": rng.choice(c.OTHER_SOURCES) if source == "other" else "",
            "campaign": rng.choice(c.CAMPAIGNS) if source == "marketing" else "",
            "assignee": assignee,
        }
        plan = Plan(index, "inbound", department, urgency, create, patient=patient)
        plan.documents, plan.age = documents, age
        if channel == "portal":
            plan.sender = portal_user or ""
        elif channel != "web_form":
            plan.sender = rng.choice(self.staff.coordinators)
        fate = self._fate(target)
        if refused:
            fate.outcome = "decline"  # the plan does not take the patient's insurance
        if not clinical and fate.review == "pending":
            fate.review = "review"  # no referring office to ask for records
        elif target is None and department == "joint" and "imaging" not in documents:
            fate.review = "pending" if clinical else fate.review
        old = received_at < self.now - timedelta(days=7)
        if target is None and fate.no_show == "stay" and old:
            fate.no_show = "recontact"  # a no-show is called back within days
        steps = self._inbound_steps(plan, received_at, fate, routed, refused=refused)
        steps = [s for s in steps if s.kind != "visit"]
        if target is not None:
            plan.steps = truncate_at(steps, target)
        else:
            # Nobody picked it up: it stalls. This week's show as overdue on the worklist;
            # older ones the weekly queue review closes (_closed_if_stale).
            this_week = received_at > self.now - timedelta(days=7)
            long_ago = received_at < self.now - timedelta(days=35)
            stall = 0.025 if this_week else 0.004 if long_ago else 0.0
            if rng.random() < stall:
                steps = steps[: 1 + len(plan.documents) + rng.randint(0, 2)]
            plan.steps = self._closed_if_stale(plan, until(steps, self.now))
        plan.outcome = plan.steps[-1].state if plan.steps else ""
        return plan

    def _closed_if_stale(self, plan: Plan, steps: list[Step]) -> list[Step]:
        """Close a referral left standing for weeks as the practice would, at its weekly
        queue review; one waiting for a named document or an appointment ahead stays."""
        if not steps:
            return steps
        last = steps[-1]
        if last.state not in OPEN_STATES or last.at > self.now - STALE:
            return steps
        owner = plan.create["assignee"] or self.staff.coordinator_for[plan.department]
        path = Path(self, steps[0])
        path.steps = list(steps)
        if last.state == "seen":
            path.add(
                "close",
                last.actor,
                (3 * 24, 14 * 24),
                state="loop_closed",
                report_summary=self.rng.choice(c.REPORTS[plan.department]),
            )
        elif last.state == "contacting":  # the calls nobody answers, then unreachable
            self._reach(path, owner, "unreachable", 0, 1.0, first=False)
        elif last.state in c.STALE_CLOSES:
            reason, detail = self.rng.choice(c.STALE_CLOSES[last.state])
            path.add(
                "cancel",
                owner,
                (7 * 24, 14 * 24),
                state="cancelled",
                reason=reason,
                reason_detail=detail,
            )
        else:
            return steps
        return path.steps if path.t <= self.now else steps

    def forced_inbound(self, index: int, target: str) -> Plan:
        """A plan that ends in `target` just before now, so every state is on show."""
        lead: float = {
            "received": 6,
            "in_review": 30,
            "pending_info": 120,
            "accepted": 48,
            "contacting": 90,
            "scheduled": 100,
            "no_show": 300,
            "seen": 300,
            "loop_closed": 900,
            "declined": 700,
            "unreachable": 900,
            "cancelled": 500,
        }[target]
        for _ in range(60):
            plan = self.inbound(index, self.now - timedelta(hours=lead), target=target)
            if not plan.steps:
                continue
            last = plan.steps[-1].at
            if last > self.now - timedelta(minutes=5):
                lead += (last - self.now).total_seconds() / 3600 + 3
                continue
            if target in ("pending_info", "no_show", "seen") and last < self.now - timedelta(
                days=4
            ):
                lead = max(6.0, lead * 0.8)  # on show as it waits now, not forgotten for days
                continue
            booked = [s.args["starts_at"] for s in plan.steps if "starts_at" in s.args]
            if target == "scheduled" and booked[-1] <= self.now + timedelta(hours=2):
                lead = max(4.0, lead * 0.7)
                continue
            if target != "received" and plan.created_at < self.now - timedelta(days=500):
                lead *= 0.6
                continue
            return plan
        raise RuntimeError(f"could not plan a referral ending in {target}")

    def _fate(self, target: str | None) -> Fate:
        rng = self.rng
        fate = Fate(
            outcome=pick(
                rng,
                [
                    ("loop", 0.795),
                    ("decline", 0.08),
                    ("cancel_early", 0.03),
                    ("unreachable", 0.04),
                    ("invalid_contact", 0.012),
                    ("patient_declined", 0.018),
                    ("cancel_before_visit", 0.025),
                ],
            ),
            review=pick(rng, [("direct", 0.25), ("review", 0.57), ("pending", 0.18)]),
            pending_resolves=rng.random() < 0.8,
            direct_schedule=rng.random() < 0.35,
            failures=pick(rng, [(0, 0.52), (1, 0.28), (2, 0.2)]),
            reschedule=rng.random() < 0.1,
            no_show=None
            if rng.random() > 0.12
            else pick(
                rng, [("recontact", 0.6), ("unreachable", 0.2), ("cancel", 0.12), ("stay", 0.08)]
            ),
            close=pick(rng, [("fast", 0.83), ("slow", 0.12), ("never", 0.05)]),
            procedure=rng.random() < 0.12,
        )
        loop = {"outcome": "loop", "pending_resolves": True}
        forced = {
            None: {},
            "received": loop,
            "in_review": {**loop, "review": "review"},
            "pending_info": {**loop, "review": "pending"},
            "accepted": loop,
            "contacting": {**loop, "direct_schedule": False, "failures": 1 + rng.randrange(2)},
            "scheduled": {**loop, "no_show": None},
            "no_show": {**loop, "no_show": "stay"},
            "seen": {**loop, "no_show": None, "close": "never"},
            "loop_closed": {**loop, "close": "fast"},
            "declined": {"outcome": "decline"},
            "unreachable": {"outcome": "unreachable"},
            "cancelled": {"outcome": "cancel_early"},
        }[target]
        return replace(fate, **forced)

    def _inbound_steps(
        self, plan: Plan, received_at: datetime, fate: Fate, routed: bool, *, refused: bool
    ):
        rng, pace, dept = self.rng, PACE[plan.urgency], plan.department
        owner = plan.create["assignee"] or self.staff.coordinator_for[dept]
        intake = rng.choice(self.staff.coordinators)
        doctor = rng.choice(self.staff.clinicians[dept])
        decider = doctor if routed and rng.random() < 0.6 else owner
        path = Path(self, Step(received_at, "create", plan.sender, "received"))
        # What came with it, filed as it arrived (a letter phoned in is faxed after the call).
        later = plan.create["channel"] in ("phone", "web_form")
        letter_wait = (1, 5) if later else (0.01, 0.05)
        for kind in plan.documents:
            path.add("attach", plan.sender or owner, letter_wait, business=False, document=kind)
            letter_wait = (0.01, 0.05)
        if plan.create["assignee"] is None and not routed:  # routed ones triage assigns
            path.add("assign", intake, (0.2 * pace, 5 * pace), assignee=owner)
        # Many referrals get a call at intake to confirm demographics and insurance;
        # always when records are missing, so the patient knows why nothing happens yet.
        if rng.random() < (0.7 if fate.review == "pending" else 0.3):
            path.add(
                "attempt",
                owner,
                (0.1 * pace, 4 * pace),
                **self._attempt(pick(rng, [("reached", 0.6), ("left_voicemail", 0.4)])),
            )

        if fate.outcome == "cancel_early":
            if rng.random() < 0.5:
                path.add("review", owner, (0.5 * pace, 20 * pace), state="in_review")
            reason, detail = rng.choice(c.CANCELS_EARLY)
            path.add(
                "cancel", owner, (1, 72), state="cancelled", reason=reason, reason_detail=detail
            )
            return path.steps

        if fate.review in ("review", "pending") and (fate.review == "review" or rng.random() < 0.5):
            path.add("review", decider, (0.2 * pace, 8 * pace), state="in_review")
        if fate.review == "pending":
            if dept == "joint" and "imaging" not in plan.documents:
                missing, answer, _ = c.JOINT_IMAGING
            else:
                missing, answer, _ = rng.choice([m for m in c.MISSING_INFO if dept in m[2]])
            path.add(
                "request_info",
                decider,
                (0.2 * pace, 4 * pace),
                state="pending_info",
                missing_info=missing,
            )
            if not fate.pending_resolves:
                if rng.random() < 0.6:
                    path.add(
                        "decline",
                        decider,
                        (14 * 24, 30 * 24),
                        state="declined",
                        reason="incomplete_information",
                        reason_detail="The requested records never arrived.",
                        suggested_alternative="Resend with the records and we will review "
                        "within one business day",
                    )
                else:
                    path.add(
                        "cancel",
                        owner,
                        (10 * 24, 30 * 24),
                        state="cancelled",
                        reason="referrer_request",
                        reason_detail="Referring office withdrew the referral.",
                    )
                return path.steps
            # The referring office sends what was asked for; the review picks up again.
            sender = plan.sender if plan.create["channel"] == "portal" else owner
            path.add("attach", sender, (20, 240), document=answer)
            path.add("review", decider, (0.1, 3), state="in_review")

        if fate.outcome == "decline":
            reason, detail, alternative = self._decline(plan, refused)
            path.add(
                "decline",
                decider,
                (0.3 * pace, 24 * pace),
                state="declined",
                reason=reason,
                reason_detail=detail,
                suggested_alternative=alternative,
            )
            return path.steps
        path.add(
            "accept",
            decider,
            (0.1 * pace, 5 * pace),
            state="accepted",
            department=None if routed else dept,
        )

        direct = fate.direct_schedule and fate.outcome == "loop"
        if direct:
            path.add(
                "attempt", owner, (0.1 * pace, 12 * pace), pivot=True, **self._attempt("reached")
            )
        else:
            path.add("contacting", owner, (0.05 * pace, 2 * pace), state="contacting")
            if not self._reach(path, owner, fate.outcome, fate.failures, pace, first=True):
                return path.steps
        if not self._book(path, owner, plan, fate):
            return path.steps

        if fate.no_show:
            path.add("no_show", owner, (1, 6), state="no_show")
            if fate.no_show == "stay" or (fate.no_show == "cancel"):
                if fate.no_show == "cancel":
                    path.cancel_later(owner, (1, 72))
                return path.steps
            path.add("contacting", owner, (2, 48), state="contacting")
            outcome = "unreachable" if fate.no_show == "unreachable" else "loop"
            if not self._reach(path, owner, outcome, rng.randrange(3), 1.0, first=False):
                return path.steps
            if not self._book(path, owner, plan, replace(fate, reschedule=False)):
                return path.steps

        low, high = (c.PROCEDURE_VALUES if fate.procedure else c.VISIT_VALUES)[dept]
        visit = next(s.args["clinician"] for s in reversed(path.steps) if "clinician" in s.args)
        path.add(
            "seen",
            visit,
            (0.5, 4),
            state="seen",
            business=False,
            visit_value=f"{rng.uniform(low, high):.2f}",
        )
        if fate.close == "never":
            return path.steps
        hours = (4, 5 * 24) if fate.close == "fast" else (8 * 24, 25 * 24)
        path.add(
            "close", visit, hours, state="loop_closed", report_summary=rng.choice(c.REPORTS[dept])
        )
        return path.steps

    def _reach(
        self, path: Path, owner: str, outcome: str, failures: int, pace: float, *, first: bool
    ) -> bool:
        """Contact attempts until the patient is reached; False when the story ends here."""
        rng = self.rng
        wait = (0.05 * pace, 4 * pace) if first else (0.5, 24)
        spacing = (18 * max(pace, 0.25), 72 * max(pace, 0.25))  # between unanswered calls
        if outcome == "unreachable":
            for n in range(self.max_attempts):
                last = n == self.max_attempts - 1
                path.add(
                    "attempt",
                    owner,
                    wait if n == 0 else spacing,
                    state="unreachable" if last else None,
                    **self._attempt(
                        rng.choice(
                            [
                                "no_answer",
                                "left_voicemail",
                                "left_voicemail",
                                "busy",
                                "message_sent",
                            ]
                        )
                    ),
                )
            return False
        if outcome == "invalid_contact":
            path.add("attempt", owner, wait, **self._attempt("wrong_number"))
            path.add(
                "unreachable",
                owner,
                (0.1, 4),
                state="unreachable",
                reason="invalid_contact_details",
                reason_detail="Phone disconnected and no other contact details on file.",
            )
            return False
        for n in range(failures):
            path.add(
                "attempt",
                owner,
                wait if n == 0 else spacing,
                **self._attempt(rng.choice(["no_answer", "left_voicemail", "message_sent"])),
            )
        if outcome == "patient_declined":
            path.add(
                "attempt",
                owner,
                wait if failures == 0 else spacing,
                **self._attempt("patient_declined"),
            )
            path.add(
                "cancel",
                owner,
                (0.05, 1),
                state="cancelled",
                business=False,
                reason="patient_request",
                reason_detail="Patient declined to schedule.",
            )
            return False
        path.add(
            "attempt",
            owner,
            wait if failures == 0 else spacing,
            pivot=True,
            **self._attempt("reached"),
        )
        return True

    def _book(self, path: Path, owner: str, plan: Plan, fate: Fate) -> bool:
        """Book (and maybe move) the appointment; False when the story ends before the visit."""
        rng = self.rng
        lead_days = {"routine": (4, 16), "urgent": (1.5, 6), "stat": (0.3, 1.5)}[plan.urgency]
        booked_at = path.t + timedelta(hours=rng.uniform(0.02, 0.3))
        starts_at = self.clock.slot(booked_at + timedelta(days=rng.uniform(*lead_days)))
        dept = plan.department
        where = {
            "department": dept,
            "location": rng.choice(self.staff.locations[dept]),
            "clinician": rng.choice(self.staff.clinicians[dept]),
        }
        path.add(
            "schedule",
            owner,
            (0.02, 0.3),
            state="scheduled",
            business=False,
            starts_at=starts_at,
            **where,
        )
        if fate.reschedule and starts_at - path.t > timedelta(days=2):
            moved_at = path.t + (starts_at - path.t) * rng.uniform(0.2, 0.8)
            starts_at = self.clock.slot(starts_at + timedelta(days=rng.uniform(2, 10)))
            path.steps.append(
                Step(
                    self.clock.business(moved_at),
                    "reschedule",
                    owner,
                    "scheduled",
                    {"starts_at": starts_at, **where},
                )
            )
            if path.steps[-1].at >= starts_at:  # business hours pushed it past the visit
                path.steps.pop()
        if fate.outcome == "cancel_before_visit":
            span = (starts_at - path.t).total_seconds() / 3600
            path.cancel_later(owner, (0.1 * span, 0.9 * span), business=False)
            return False
        path.steps.append(Step(starts_at, "visit", "", "scheduled"))  # a marker, not a write
        return True

    def _attempt(self, outcome: str) -> dict:
        by_message = self.rng.choice(["sms", "portal", "email"])
        channel = by_message if outcome == "message_sent" else "phone"
        return {
            "channel": channel,
            "outcome": outcome,
            "note": self.rng.choice(c.ATTEMPT_NOTES[outcome]),
        }

    def _reason(self, condition: c.Condition, *, with_letter: bool) -> tuple[str, list[str]]:
        """The referral's reason, and the documents it says came with it."""
        rng = self.rng
        weeks = rng.choice([3, 4, 6, 8, 10, 12, 16, 24])
        tried, sent = rng.choice(c.TRIED).format(weeks=weeks), []
        if with_letter and rng.random() < 0.25:
            tried, kind = rng.choice(c.SENT_WITH)
            sent.append(kind)
        reason = rng.choice(condition.reasons).format(
            side=rng.choice(["left", "right"]), weeks=weeks, tried=tried
        )
        return reason, sent if tried in reason else []

    def _decline(self, plan: Plan, refused: bool) -> tuple[str, str, str]:
        """A decline that fits the patient: their insurance when the department does not
        take it, else a reason that fits the condition and the age."""
        if refused:
            reason, detail, alternative = c.INSURANCE_DECLINE
            names = {"department": DEPARTMENT_NAMES[plan.department]}
            payer = (plan.patient or {}).get("insurance_payer", "")
            detail = detail.format(payer=payer, **names)
            return reason, detail, alternative
        codes = plan.create["icd10_codes"]
        options = c.DECLINES["*"] + c.DECLINES[plan.department] * 2
        options = [d for d in options if d.fits(codes, plan.age)]
        if plan.create["source_type"] not in ("provider", "other"):  # no records to ask for
            options = [d for d in options if d.reason != "incomplete_information"]
        decline = self.rng.choice(options)
        return decline.reason, decline.detail, decline.alternative

    def _age(self, born, at: datetime) -> int:
        day = at.astimezone(self.zone).date()
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def _provider(self, t: datetime) -> ProviderRef | None:
        weights = [p.weight_at(t) for p in self.providers]
        if not any(weights):
            return None
        return self.rng.choices(self.providers, weights)[0]

    def _returning_patients(self, plans: list[Plan]) -> None:
        """Some patients come back with a new problem; some recommend us to a friend."""
        rng = self.rng
        natural = sorted(
            (p for p in plans if p.index >= len(INBOUND_STATES)), key=lambda p: p.created_at
        )
        for n, plan in enumerate(natural):
            earlier = [
                p
                for p in natural[max(0, n - 400) : n]
                if p.created_at < plan.created_at - timedelta(days=30)
            ]
            if not earlier:
                continue
            if plan.create["source_type"] == "patient":
                plan.advocate_of = rng.choice(earlier).index
            elif rng.random() < 0.05 and plan.outcome != "declined":
                previous = rng.choice(earlier)
                root = previous.patient_of if previous.patient_of is not None else previous.index
                patient = plans[root].patient
                if patient is None:
                    continue
                # Only one whose age and insurance fit what this plan was drawn for.
                age = self._age(patient["date_of_birth"], plan.created_at)
                if (
                    abs(age - plan.age) > 3
                    or patient["insurance_payer"] not in ACCEPTED_PAYERS[plan.department]
                ):
                    continue
                plan.patient = None
                plan.patient_of = root

    # ---- people --------------------------------------------------------------

    def patient(self, department: str, *, pediatric: bool = False, on=None) -> dict:
        """A new patient of the age the department sees on `on` (the referral's day)."""
        return new_patient(
            self.rng, self.fake, today=on or self.today, department=department, pediatric=pediatric
        )
