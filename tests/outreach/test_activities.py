"""Logging a liaison's activities: exactly once per phone key, the follow-up task, the
cadence kept, people from another practice refused, and changing or cancelling one."""

import datetime as dt
from decimal import Decimal

import pytest

from refloop.core.errors import InvalidInput, NotAllowed
from refloop.core.models import AuditEntry
from refloop.core.roles import Role
from refloop.demo import factories as f
from refloop.outreach import activities, tiers
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Relationship,
    Task,
    TaskKind,
    TaskStatus,
    Tier,
    Topic,
)

pytestmark = pytest.mark.django_db

KEY = "5a1f2c3e-0000-4000-8000-00000000abcd"


@pytest.fixture
def office(practice_a):
    return practice_a


def visit(lia, office, **fields):
    values = {"acting_user": lia, "practice": office, "occurred_on": tiers.today()}
    activity, _ = activities.log_activity(**(values | fields))
    return activity


def test_a_visit_with_the_people_met_is_recorded_and_resets_the_cadence(lia, office, org):
    Relationship.objects.create(
        practice=office, computed_tier=Tier.A, last_visit_on=tiers.today() - dt.timedelta(days=90)
    )
    doctor = f.ProviderFactory(practice=office)
    coordinator = f.StaffContactFactory(practice=office)
    topic = Topic.objects.first()
    assert [d.practice for d in tiers.due_visits(on=tiers.today())] == [office]

    activity = visit(lia, office, providers=[doctor], staff=[coordinator], topics=[topic])

    assert list(activity.providers.all()) == [doctor]
    assert list(activity.staff.all()) == [coordinator]
    assert list(activity.topics.all()) == [topic]
    assert Relationship.objects.get(practice=office).last_visit_on == tiers.today()
    assert tiers.due_visits(on=tiers.today()) == []
    assert AuditEntry.objects.filter(
        action="activity.logged", object_id=str(activity.pk), actor=lia, patient_id=None
    ).exists()


def test_the_same_send_twice_records_one_activity_and_one_task(lia, office, org):
    follow = {"follow_up": "Bring the spine one-pager", "follow_up_on": tiers.today()}
    first = visit(lia, office, client_key=KEY, notes="Met the MA", **follow)
    again = visit(lia, office, client_key=KEY, notes="Met the MA", **follow)

    assert again.pk == first.pk
    assert Activity.objects.count() == 1
    assert Task.objects.count() == 1
    assert AuditEntry.objects.filter(action="activity.logged").count() == 1


def test_a_key_reused_for_another_entry_is_refused(lia, office, org):
    visit(lia, office, client_key=KEY, notes="Met the MA")
    with pytest.raises(InvalidInput) as refused:
        visit(lia, office, client_key=KEY, notes="Something else")
    assert refused.value.field == "client_key"
    assert Activity.objects.count() == 1


def test_another_liaisons_key_is_not_theirs_to_replay(lia, office, org):
    visit(lia, office, client_key=KEY)
    other = f.UserFactory(username="lou", role=Role.LIAISON)
    with pytest.raises(InvalidInput):
        visit(other, office, client_key=KEY)


def test_a_follow_up_with_a_date_makes_one_task_for_the_liaison(lia, office, org):
    due = tiers.today() + dt.timedelta(days=7)
    activity = visit(lia, office, follow_up="Send the new-location flyer", follow_up_on=due)

    task = Task.objects.get()
    assert (task.kind, task.owner, task.due_on) == (TaskKind.FOLLOW_UP, lia, due)
    assert (task.activity, task.practice, task.title) == (
        activity,
        office,
        "Send the new-location flyer",
    )


def test_a_follow_up_without_a_date_makes_no_task(lia, office, org):
    visit(lia, office, follow_up="Someday, lunch")
    assert not Task.objects.exists()


def test_a_provider_from_another_practice_is_refused(lia, office, practice_b, org):
    elsewhere = f.ProviderFactory(practice=practice_b)
    with pytest.raises(InvalidInput) as refused:
        visit(lia, office, providers=[elsewhere])
    assert refused.value.field == "providers"
    assert not Activity.objects.exists()


def test_staff_from_another_practice_is_refused(lia, office, practice_b, org):
    with pytest.raises(InvalidInput) as refused:
        visit(lia, office, staff=[f.StaffContactFactory(practice=practice_b)])
    assert refused.value.field == "staff"


@pytest.mark.parametrize("cost", ["-1", "lots"])
def test_a_cost_that_is_no_sum_of_dollars_is_refused(lia, office, org, cost):
    with pytest.raises(InvalidInput) as refused:
        visit(lia, office, cost=cost)
    assert refused.value.field == "cost"


def test_only_outreach_roles_log_activities(cora, office, org):
    with pytest.raises(NotAllowed):
        visit(cora, office)


def test_a_call_does_not_count_as_a_visit(lia, office, org):
    visit(lia, office, kind=ActivityKind.CALL)
    assert Relationship.objects.get(practice=office).last_visit_on is None


def test_cancelling_the_only_visit_puts_the_practice_back_on_the_due_list(lia, office, org):
    Relationship.objects.create(practice=office, computed_tier=Tier.B)
    activity = visit(lia, office, follow_up="Call back", follow_up_on=tiers.today())
    assert tiers.due_visits(on=tiers.today()) == []

    activities.cancel_activity(acting_user=lia, activity=activity)

    assert Relationship.objects.get(practice=office).last_visit_on is None
    assert [d.practice for d in tiers.due_visits(on=tiers.today())] == [office]
    assert Task.objects.get().status == TaskStatus.CANCELLED


def test_editing_the_date_recomputes_the_last_visit_and_moves_the_task(lia, office, org):
    today = tiers.today()
    activity = visit(lia, office, follow_up="Call back", follow_up_on=today)
    earlier = today - dt.timedelta(days=10)

    activities.edit_activity(
        acting_user=lia,
        activity=activity,
        practice=office,
        kind=ActivityKind.VISIT,
        status=ActivityStatus.DONE,
        occurred_on=earlier,
        follow_up="Call back",
        follow_up_on=today + dt.timedelta(days=3),
        cost="12.50",
    )

    assert Relationship.objects.get(practice=office).last_visit_on == earlier
    assert Task.objects.get().due_on == today + dt.timedelta(days=3)
    assert Activity.objects.get().cost == Decimal("12.50")


def test_moving_an_activity_to_another_practice_recomputes_both(lia, office, practice_b, org):
    activity = visit(lia, office)
    activities.edit_activity(
        acting_user=lia,
        activity=activity,
        practice=practice_b,
        kind=ActivityKind.VISIT,
        status=ActivityStatus.DONE,
        occurred_on=tiers.today(),
    )
    assert Relationship.objects.get(practice=office).last_visit_on is None
    assert Relationship.objects.get(practice=practice_b).last_visit_on == tiers.today()


def test_another_liaison_may_not_change_my_activity_but_an_admin_may(lia, ada, office, org):
    activity = visit(lia, office)
    other = f.UserFactory(username="lou", role=Role.LIAISON)
    with pytest.raises(NotAllowed):
        activities.cancel_activity(acting_user=other, activity=activity)
    activities.cancel_activity(acting_user=ada, activity=activity)
    assert Activity.objects.get().status == ActivityStatus.CANCELLED


def test_a_planned_visit_does_not_reset_the_cadence_until_it_is_done(lia, office, org):
    starts = dt.datetime.combine(tiers.today() + dt.timedelta(days=2), dt.time(10), tzinfo=org.zone)
    planned = activities.plan_visit(acting_user=lia, practice=office, starts_at=starts)
    assert planned.status == ActivityStatus.PLANNED
    assert planned.occurred_on == starts.date()
    assert Relationship.objects.get(practice=office).last_visit_on is None


def test_a_planned_activity_needs_a_time(lia, office, org):
    with pytest.raises(InvalidInput) as refused:
        visit(lia, office, status=ActivityStatus.PLANNED)
    assert refused.value.field == "starts_at"
