"""Stories of the patients the demo practice refers out: draft, sent, answered, seen."""

from datetime import datetime, timedelta

from refloop.demo import partners
from refloop.demo.patients import pick
from refloop.demo.plans import Path, Plan, Step, truncate_at, until


class OutboundJourneys:
    """Planner methods for outbound referrals (mixed into journeys.Planner)."""

    def outbound(
        self, index: int, created_at: datetime, plans: list[Plan], target: str | None = None
    ) -> Plan:
        rng = self.rng
        receiver = rng.choices(self.receivers, [r.weight for r in self.receivers])[0]
        reason, codes, dept = rng.choice(partners.OUTBOUND_REASONS[receiver.kind])
        ours = [
            p
            for p in plans
            if p.direction == "inbound"
            and p.department == dept
            and p.outcome in ("seen", "loop_closed")
            and p.patient is not None
            and p.created_at < created_at - timedelta(days=14)
        ]
        plan = Plan(
            index,
            "outbound",
            dept,
            "routine",
            {
                "practice": receiver.practice,
                "reason": reason,
                "icd10_codes": list(codes),
                "department": dept,
            },
        )
        if ours:
            plan.patient_of = rng.choice(ours[-200:]).index
        else:
            plan.patient = self.patient(dept)
        owner = self.staff.coordinator_for[dept]
        path = Path(self, Step(created_at, "create_out", owner, "draft"))
        path.add("send", owner, (0.1, 30), state="sent")
        fate = pick(rng, [("complete", 0.8), ("decline", 0.12), ("cancel", 0.08)])
        if target in ("declined", "cancelled"):
            fate = {"declined": "decline", "cancelled": "cancel"}[target]
        elif target is not None:
            fate = "complete"
        if fate == "decline":
            reason, detail, alternative = rng.choice(partners.OUTBOUND_DECLINES)
            path.add(
                "decline",
                owner,
                (4, 72),
                state="declined",
                reason=reason,
                reason_detail=detail,
                suggested_alternative=alternative,
            )
        else:
            path.add("accept", owner, (4, 96), state="accepted")
            if fate == "cancel":
                path.cancel_later(owner, (24, 240))
            else:
                starts_at = self.clock.slot(path.t + timedelta(days=rng.uniform(3, 14)))
                path.add("schedule", owner, (2, 72), state="scheduled", starts_at=starts_at)
                path.steps.append(Step(starts_at, "visit", "", "scheduled"))
                path.add(
                    "complete",
                    owner,
                    (24, 240),
                    state="completed",
                    report_summary=rng.choice(partners.OUTBOUND_REPORTS),
                )
        steps = [s for s in path.steps if s.kind != "visit"]
        plan.steps = truncate_at(steps, target) if target else until(steps, self.now)
        plan.outcome = plan.steps[-1].state if plan.steps else ""
        return plan

    def forced_outbound(self, index: int, target: str, plans: list[Plan]) -> Plan:
        lead = {
            "draft": 5,
            "sent": 40,
            "accepted": 100,
            "declined": 400,
            "scheduled": 200,
            "completed": 900,
            "cancelled": 600,
        }[target]
        for _ in range(60):
            created = self.clock.business(self.now - timedelta(hours=lead))
            plan = self.outbound(index, created, plans, target=target)
            if not plan.steps:
                continue
            last = plan.steps[-1].at
            if created >= self.now or last > self.now - timedelta(minutes=5):
                lead += max(3.0, (last - self.now).total_seconds() / 3600 + 3)
                continue
            booked = [s.args["starts_at"] for s in plan.steps if "starts_at" in s.args]
            if target == "scheduled" and booked[-1] <= self.now:
                lead = max(6.0, lead * 0.7)
                continue
            return plan
        raise RuntimeError(f"could not plan an outbound referral ending in {target}")
