"""The signals that raise liaison tasks: each one task per occurrence, with its figures."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from refloop.demo import factories as f
from refloop.outreach import signals, tiers
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    Relationship,
    Task,
    TaskKind,
    Territory,
    Tier,
)
from refloop.outreach.tasks import signals_sweep
from refloop.referrals import reactions, transitions
from refloop.referrals.models import ReferralEvent
from tests.analytics.history import History, local

pytestmark = pytest.mark.django_db

NOW = local("2026-04-01 12:00")
TODAY = date(2026, 4, 1)


def territory_of(practice, liaison) -> Territory:
    territory = Territory.objects.create(name=f"Patch of {liaison.username}", liaison=liaison)
    Relationship.objects.update_or_create(practice=practice, defaults={"territory": territory})
    return territory


def tasks(kind):
    return list(Task.objects.filter(kind=kind).order_by("pk"))


def test_the_declining_referrer_task_appears_once_when_analytics_flags_a_practice(cora, spine, lia):
    history = History(cora, spine)
    dropping = f.ProviderFactory(practice=f.PracticeFactory(name="Dropping Family Practice"))
    steady = f.ProviderFactory(practice=f.PracticeFactory(name="Steady Clinic"))
    territory_of(dropping.practice, lia)
    # 24 in the 365 days before the last 90 (two a month), then one in the last 90 days.
    for days in [100 + 15 * i for i in range(24)] + [20]:
        history.referral(f"{(TODAY - timedelta(days=days)).isoformat()} 10:00", provider=dropping)
    for days in range(5, 460, 20):  # the same rate throughout: not declining
        history.referral(f"{(TODAY - timedelta(days=days)).isoformat()} 10:00", provider=steady)
    history.rebuild()

    assert signals.sweep(now=NOW)[TaskKind.DECLINING] == 1

    [task] = tasks(TaskKind.DECLINING)
    assert task.practice == dropping.practice
    assert task.owner == lia
    assert (
        task.title
        == "Visit: referrals from Dropping Family Practice went from 5.9 to 1 per 90 days"
    )
    assert "1 referral in the last 90 days against 24 in the 365 days before" in task.detail
    assert task.due_on == TODAY + timedelta(days=7)

    # The next sweep, the same day and the next weeks while still flagged: nothing new.
    assert signals.sweep(now=NOW)[TaskKind.DECLINING] == 0
    assert signals.sweep(now=NOW + timedelta(days=1))[TaskKind.DECLINING] == 0
    assert signals.sweep(now=NOW + timedelta(days=30))[TaskKind.DECLINING] == 0
    assert len(tasks(TaskKind.DECLINING)) == 1
    # Done by the liaison, the flag still up: the same occurrence, still no new task.
    Task.objects.filter(pk=task.pk).update(status="done")
    assert signals.sweep(now=NOW + timedelta(days=2))[TaskKind.DECLINING] == 0


def test_a_practice_still_declining_after_the_whole_window_gets_a_new_task(cora, spine):
    history = History(cora, spine)
    dropping = f.ProviderFactory(practice=f.PracticeFactory(name="Fading Clinic"))
    for days in [100 + 10 * i for i in range(36)]:
        history.referral(f"{(TODAY - timedelta(days=days)).isoformat()} 10:00", provider=dropping)
    history.rebuild()
    assert len(signals.declining_tasks(now=NOW)) == 1
    later = signals.declining_tasks(now=NOW + timedelta(days=90))
    assert [t.practice.name for t in later] == ["Fading Clinic"]
    assert Task.objects.get(pk=later[0].pk).owner is None  # no territory: unassigned


def received_event(referral) -> ReferralEvent:
    return ReferralEvent.objects.get(referral=referral, kind="referral.received")


def test_a_practice_and_a_provider_first_referral_each_raise_one_thank_you(cora, spine, lia):
    practice = f.PracticeFactory(name="Brand New Pediatrics")
    first, second = (f.ProviderFactory(practice=practice) for _ in range(2))
    territory_of(practice, lia)
    assert "refloop.outreach.signals.on_referral_received" in reactions.handlers_for(
        "referral.received"
    )

    opening = f.make_referral(acting_user=cora, department=spine, referring_provider=first)
    ran = reactions.run_now(received_event(opening), within="refloop.outreach")
    assert ran == ["refloop.outreach.signals.on_referral_received"]
    thanks = tasks(TaskKind.FIRST_REFERRAL)
    assert [t.title for t in thanks] == [
        "Thank-you note to Brand New Pediatrics: their first referral",
        f"Thank-you note to {first} (Brand New Pediatrics): first referral",
    ]
    assert [t.owner for t in thanks] == [lia, lia]
    assert thanks[1].provider == first
    assert opening.number in thanks[0].detail

    # The reaction run again, directly: the keys hold.
    signals.on_referral_received(received_event(opening))
    # The same provider again: nothing. A colleague's first: one, for the colleague.
    again = f.make_referral(acting_user=cora, department=spine, referring_provider=first)
    signals.on_referral_received(received_event(again))
    colleague = f.make_referral(acting_user=cora, department=spine, referring_provider=second)
    signals.on_referral_received(received_event(colleague))
    assert [t.provider for t in tasks(TaskKind.FIRST_REFERRAL)] == [None, first, second]


def decline(referral, user, reason):
    transitions.decline_referral(
        referral.pk, acting_user=user, reason=reason, suggested_alternative="Pain clinic"
    )


def declined_event(referral) -> ReferralEvent:
    return ReferralEvent.objects.get(referral=referral, kind="referral.declined")


def five_referrals_from(practice_name, cora, spine):
    provider = f.ProviderFactory(practice=f.PracticeFactory(name=practice_name))
    return [
        f.make_referral(
            acting_user=cora,
            department=spine,
            referring_provider=provider,
            received_at=NOW - timedelta(days=10 - i),
            now=NOW - timedelta(days=10 - i),
        )
        for i in range(5)
    ]


def test_three_of_the_last_five_declined_as_not_a_fit_raise_one_share_what_we_treat(
    cora, ada, spine
):
    spine.description = "Back and neck pain, sciatica, spinal stenosis"
    spine.excluded_keywords = ["pregnant"]
    spine.save()
    sent = five_referrals_from("Wide Net Clinic", cora, spine)
    provider = sent[0].referring_provider
    decline(sent[0], ada, "outside_scope")
    decline(sent[1], ada, "insurance_not_accepted")  # not a fit? no: the insurance
    decline(sent[2], ada, "not_clinically_indicated")
    assert signals.not_a_fit_tasks(now=NOW) == []  # two so far
    decline(sent[4], ada, "outside_scope")

    [task] = signals.not_a_fit_tasks(now=NOW)
    assert task.title == (
        "Share what we treat with Wide Net Clinic: 3 of 5 referrals declined as not a fit"
    )
    assert "outside scope ×2, not clinically indicated ×1" in task.detail
    assert "Spine: Back and neck pain, sciatica, spinal stenosis" in task.detail
    assert "Not a fit: pregnant" in task.detail
    assert "The one-pager to leave with them: /refer/one-pager.pdf" in task.detail
    for referral in (sent[0], sent[2], sent[4]):
        assert referral.number in task.detail

    assert signals.not_a_fit_tasks(now=NOW) == []  # the next sweep
    # One more declined: the same run of declines (those behind the task are still in the
    # last five), so no second task.
    more = f.make_referral(acting_user=cora, department=spine, referring_provider=provider)
    decline(more, ada, "outside_scope")
    assert signals.not_a_fit_tasks(now=NOW) == []
    assert len(tasks(TaskKind.NOT_A_FIT)) == 1


def test_the_third_decline_as_not_a_fit_raises_the_task_at_once_and_the_sweep_adds_none(
    cora, ada, spine, lia
):
    sent = five_referrals_from("Quick Learner Clinic", cora, spine)
    territory_of(sent[0].referring_practice, lia)
    assert "refloop.outreach.signals.on_referral_declined" in reactions.handlers_for(
        "referral.declined"
    )
    for referral in sent[:2]:
        decline(referral, ada, "outside_scope")
        assert reactions.run_now(declined_event(referral), within="refloop.outreach") == [
            "refloop.outreach.signals.on_referral_declined"
        ]
    assert tasks(TaskKind.NOT_A_FIT) == []  # two so far

    decline(sent[2], ada, "not_clinically_indicated")
    reactions.run_now(declined_event(sent[2]), within="refloop.outreach")
    [task] = tasks(TaskKind.NOT_A_FIT)
    assert task.title == (
        "Share what we treat with Quick Learner Clinic: 3 of 5 referrals declined as not a fit"
    )
    assert task.signal_key == f"not_a_fit:practice:{sent[0].referring_practice_id}:{sent[2].pk}"
    assert task.owner == lia
    # The practice's today (its zone), as the task's due day is counted; not the server's.
    assert task.due_on == signals._local_today(timezone.now()) + timedelta(days=14)

    # The sweep afterwards finds the same occurrence, and so does the reaction run again.
    assert signals.sweep(now=timezone.now())[TaskKind.NOT_A_FIT] == 0
    signals.on_referral_declined(declined_event(sent[2]))
    assert tasks(TaskKind.NOT_A_FIT) == [task]


def test_a_decline_for_another_reason_raises_no_not_a_fit_task(cora, ada, spine):
    sent = five_referrals_from("Uninsured Patients Clinic", cora, spine)
    decline(sent[0], ada, "outside_scope")
    decline(sent[1], ada, "not_clinically_indicated")
    for referral, reason in ((sent[2], "insurance_not_accepted"), (sent[3], "no_capacity")):
        decline(referral, ada, reason)
        assert signals.not_a_fit_task_after_decline(referral, now=timezone.now()) == []
        reactions.run_now(declined_event(referral), within="refloop.outreach")
    assert tasks(TaskKind.NOT_A_FIT) == []


def test_missed_first_contact_targets_raise_one_service_problem_task(cora, spine, lia):
    provider = f.ProviderFactory(practice=f.PracticeFactory(name="Patient Friends Clinic"))
    territory_of(provider.practice, lia)
    # Routine referrals promise first contact within 48 hours; these wait 3 and 4 days.
    for days in (3, 4):
        f.make_referral(
            acting_user=cora,
            department=spine,
            referring_provider=provider,
            now=NOW - timedelta(days=days),
            received_at=NOW - timedelta(days=days),
        )
    # One late referral elsewhere is not a pattern.
    f.make_referral(acting_user=cora, department=spine, now=NOW - timedelta(days=3))

    [task] = signals.service_problem_tasks(now=NOW)
    assert task.title == "Service problem at our end for Patient Friends Clinic"
    assert task.detail.startswith(
        "2 of 2 referrals received in the last 30 days missed the first-contact target"
    )
    assert task.owner == lia
    assert signals.service_problem_tasks(now=NOW) == []
    assert signals.service_problem_tasks(now=NOW + timedelta(days=5)) == []


def test_a_tier_a_practice_past_its_cadence_raises_one_overdue_visit_per_due_date(lia):
    relationship = Relationship.objects.create(
        practice=f.PracticeFactory(name="Big Sender Ortho"), tier_override=Tier.A
    )
    Relationship.objects.create(
        practice=f.PracticeFactory(name="Tier B Late"), tier_override=Tier.B
    )
    territory_of(relationship.practice, lia)
    Activity.objects.create(
        kind=ActivityKind.VISIT,
        practice=relationship.practice,
        liaison=lia,
        occurred_on=TODAY - timedelta(days=40),
    )
    tiers.note_contact(relationship.practice_id)

    [task] = signals.overdue_visit_tasks(now=NOW)
    assert task.title == "Overdue visit: Big Sender Ortho (10 days overdue)"
    assert task.detail == "Tier A: a visit every 30 days; last visit 40 days ago, 10 days overdue."
    assert task.owner == lia
    assert signals.overdue_visit_tasks(now=NOW + timedelta(days=1)) == []

    # Visited, then overdue again a cadence later: a new occurrence.
    Activity.objects.create(
        kind=ActivityKind.VISIT,
        practice=relationship.practice,
        liaison=lia,
        occurred_on=TODAY,
    )
    tiers.note_contact(relationship.practice_id)
    assert signals.overdue_visit_tasks(now=NOW + timedelta(days=5)) == []
    assert len(signals.overdue_visit_tasks(now=NOW + timedelta(days=31))) == 1


def test_the_same_occurrence_raced_by_two_workers_is_one_task(lia):
    practice = f.PracticeFactory()
    Task.objects.create(
        kind=TaskKind.OVERDUE_VISIT, title="Raised by the other worker", signal_key="k:1"
    )
    made = signals.raise_task(
        key="k:1",
        kind=TaskKind.OVERDUE_VISIT,
        title="Overdue visit",
        detail="",
        practice_id=practice.pk,
        on=TODAY,
    )
    assert made is None
    assert Task.objects.filter(signal_key="k:1").count() == 1


def test_the_worker_job_runs_every_sweep(lia):
    relationship = Relationship.objects.create(
        practice=f.PracticeFactory(name="Never Visited Ortho"), tier_override=Tier.A
    )
    Activity.objects.create(
        kind=ActivityKind.VISIT,
        practice=relationship.practice,
        liaison=lia,
        occurred_on=tiers.today() - timedelta(days=45),
    )
    tiers.note_contact(relationship.practice_id)

    assert signals_sweep.call() == 1
    assert signals_sweep.call() == 0
    assert Task.objects.get().title == "Overdue visit: Never Visited Ortho (15 days overdue)"
