"""The referral clocks: one rule for when a step is due and whether it is late, the same
in Python and as a filter, and the same on every page after an SLA setting is edited."""

import datetime as dt

import pytest
from django.utils import timezone

from refloop.analytics import dashboard
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.analytics.models import ReferralFact
from refloop.analytics.selection import select
from refloop.demo import factories as f
from refloop.referrals import clocks
from refloop.referrals.clocks import CONDITIONS, FIRST_CONTACT, KINDS, REPORT, clock, clock_q
from refloop.referrals.models import Referral
from refloop.referrals.sla import sweep_sla_breaches
from tests.analytics.history import History, local

T = local("2026-03-02 09:00").astimezone(dt.UTC)


def sched(hours, visit):
    return ("scheduled", hours, {"appointment_hours": visit})


@pytest.fixture
def story(cora, spine):
    h = History(cora, spine)
    at = "2026-03-02 09:00"
    seen = (("accepted", 1), sched(2, 24), ("seen", 24))
    referrals = {
        "contacted in time": h.referral(at, ("contact", 4)),
        "contacted late": h.referral(at, ("contact", 50)),
        "never contacted": h.referral(at),
        "declined uncontacted": h.referral(at, ("declined", 2)),
        "report in time": h.referral(at, *seen, ("loop_closed", 100)),
        "report late": h.referral(at, *seen, ("loop_closed", 200)),
        "seen, never contacted": h.referral(at, *seen),
        "seen after contact": h.referral(
            at, ("contact", 1), ("accepted", 2), sched(3, 24), ("seen", 24)
        ),
        "stat contacted late": h.referral(at, ("contact", 5), urgency="stat"),
    }
    h.rebuild()
    return {name: Referral.objects.get(pk=r.pk) for name, r in referrals.items()}


NOWS = [
    T + dt.timedelta(hours=1),
    T + dt.timedelta(hours=47),
    T + dt.timedelta(hours=48),  # the routine target, to the second
    T + dt.timedelta(hours=100),
    T + dt.timedelta(hours=24) + clocks.REPORT_WITHIN,  # seen + 168 h, to the second
    # The same instant in Chicago, where daylight saving starts in between: 168 elapsed
    # hours, not a week of wall-clock time.
    (T + dt.timedelta(hours=24) + clocks.REPORT_WITHIN).astimezone(
        local("2026-03-10 00:00").tzinfo
    ),
    local("2026-03-03 09:00") + clocks.REPORT_WITHIN,  # an hour short of seen + 168 h
    T + dt.timedelta(days=30),
]


@pytest.mark.parametrize("now", NOWS)
def test_the_filter_and_the_python_answer_agree(story, now):
    for kind in KINDS:
        for condition in CONDITIONS:
            in_python = {
                name
                for name, r in story.items()
                if (found := clock(r, now, kind=kind)) is not None and getattr(found, condition)
            }
            q = clock_q(kind, condition, now=now)
            by_pk = {r.pk: name for name, r in story.items()}
            in_sql = {by_pk[pk] for pk in Referral.objects.filter(q).values_list("pk", flat=True)}
            through_facts = {
                by_pk[pk]
                for pk in ReferralFact.objects.filter(
                    clock_q(kind, condition, now=now, prefix="referral__")
                ).values_list("referral_id", flat=True)
            }
            assert in_sql == in_python, (kind, condition)
            assert through_facts == in_python, (kind, condition)


def test_the_clocks_say_what_a_coordinator_would(story):
    later = T + dt.timedelta(days=30)
    first = {name: clock(r, later, kind=FIRST_CONTACT) for name, r in story.items()}
    assert first["contacted in time"].met and not first["contacted in time"].late
    assert first["contacted late"].late and first["contacted late"].left == -dt.timedelta(hours=2)
    assert first["never contacted"].overdue
    assert not first["declined uncontacted"].late and not first["declined uncontacted"].met
    assert first["stat contacted late"].late
    report = {name: clock(r, later, kind=REPORT) for name, r in story.items()}
    assert report["report in time"].met and report["report late"].late
    assert report["seen after contact"].overdue
    assert report["contacted in time"] is None
    # The running clock: first contact while nobody has called, then the report.
    assert clock(story["seen, never contacted"], later).kind == FIRST_CONTACT
    assert clock(story["seen after contact"], later).kind == REPORT
    assert clock(story["report in time"], later) is None
    # Due at the target itself, as the sweep has it.
    due = story["never contacted"].first_contact_due_at
    assert not clock(story["never contacted"], due - dt.timedelta(seconds=1)).overdue
    assert clock(story["never contacted"], due).overdue


def test_every_overdue_clock_lies_within_the_ones_overdue_or_met_or_late(story):
    # overdue implies running and late; met and late never both.
    for now in NOWS:
        for r in story.values():
            for kind in KINDS:
                found = clock(r, now, kind=kind)
                if found is None:
                    continue
                assert not (found.met and found.late)
                if found.overdue:
                    assert found.running and found.late


# ---- an SLA setting edited: every page keeps the promise made on arrival -------------


def test_after_an_sla_edit_the_worklist_and_the_detail_page_agree(client, cora, org, spine):
    now = timezone.now()
    waiting = f.make_referral(acting_user=cora, department=spine, now=now - dt.timedelta(hours=30))
    late = f.make_referral(acting_user=cora, department=spine, now=now - dt.timedelta(hours=50))
    org.sla_routine_hours = 24  # tighter now: `waiting` was promised 48 h on arrival
    org.save()
    client.force_login(cora)
    worklist = client.get("/referrals/", {"tab": "all"}).content.decode()
    assert worklist.count('class="pill late"') == 1
    assert worklist.count('class="pill ok"') == 1
    assert "30 h of 48 h to first contact" in worklist
    assert "First contact overdue" not in client.get(f"/referrals/{waiting.pk}/").content.decode()
    assert "First contact overdue" in client.get(f"/referrals/{late.pk}/").content.decode()
    assert sweep_sla_breaches(now=now) == 1

    org.sla_routine_hours = 72  # looser now: `late` stays late
    org.save()
    worklist = client.get("/referrals/", {"tab": "all"}).content.decode()
    assert worklist.count('class="pill late"') == 1
    assert "First contact overdue" in client.get(f"/referrals/{late.pk}/").content.decode()


def test_after_an_sla_edit_the_dashboard_and_the_drill_down_keep_each_referrals_target(
    cora, org, spine
):
    h = History(cora, spine)
    h.referral("2026-03-02 09:00", ("contact", 30))  # within the 48 h it was promised
    h.referral("2026-03-03 09:00", ("contact", 60))  # later than that
    h.rebuild()
    org.sla_routine_hours = 24
    org.save()
    now = local("2026-05-01 12:00")
    scope = Scope.of(
        Period(local("2026-03-01 00:00").date(), local("2026-04-01 00:00").date()),
        Filters(),
        now=now,
    )
    routine = next(r for r in dashboard.sla(scope)["by_urgency"] if r["urgency"] == "routine")
    assert (routine["sla_hours"], routine["contacted"], routine["within_sla"]) == (24, 2, 1)
    params = {"start": "2026-03-01", "end": "2026-04-01"}
    assert select({**params, "over_sla": "0"}, now=now).queryset.count() == 1
    assert select({**params, "over_sla": "1"}, now=now).queryset.count() == 1
