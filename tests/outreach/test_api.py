"""The outreach API: the due list, activities, tasks and gifts, for liaisons and admins only,
with no patient data in any answer."""

import datetime as dt
from decimal import Decimal

import pytest

from refloop.demo import factories as f
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    GiftEntry,
    GiftKind,
    Relationship,
    Task,
    Territory,
    Tier,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory(lia):
    return Territory.objects.create(name="West", liaison=lia)


def test_the_due_list_is_the_liaisons_territory_most_overdue_first(api, lia, territory):
    mine = Relationship.objects.create(
        practice=f.PracticeFactory(name="Mine"), territory=territory, tier_override=Tier.A
    )
    Relationship.objects.create(practice=f.PracticeFactory(name="Theirs"), tier_override=Tier.A)
    answer = api(lia).get("/api/v1/outreach/due")
    assert answer.status_code == 200
    (row,) = answer.json()
    assert (row["practice_id"], row["tier"], row["cadence_days"]) == (mine.practice_id, "A", 30)
    assert row["reason"] == "Tier A: a visit every 30 days; never visited"


def test_activities_filter_and_name_the_people_met(api, lia, provider_a, practice_a):
    staff = f.StaffContactFactory(practice=practice_a, name="Rita Moss")
    visit = Activity.objects.create(
        kind=ActivityKind.VISIT, practice=practice_a, liaison=lia, occurred_on=dt.date(2026, 3, 2)
    )
    visit.providers.add(provider_a)
    visit.staff.add(staff)
    Activity.objects.create(
        kind=ActivityKind.CALL, practice=practice_a, liaison=lia, occurred_on=dt.date(2026, 3, 3)
    )
    answer = api(lia).get("/api/v1/outreach/activities", kind="visit")
    assert answer.json()["total"] == 1
    (item,) = answer.json()["items"]
    assert item["staff"] == [{"id": staff.pk, "name": "Rita Moss"}]
    assert item["providers"] == [{"id": provider_a.pk, "name": str(provider_a)}]


def test_tasks_and_gifts_list_for_an_admin(api, ada, lia, provider_a, practice_a):
    Task.objects.create(title="Thank-you note to Dr. Reed", owner=lia, practice=practice_a)
    GiftEntry.objects.create(
        given_on=dt.date(2026, 3, 2),
        kind=GiftKind.MEAL,
        description="Lunch for the office",
        value=Decimal("18.50"),
        practice=practice_a,
        provider=provider_a,
        physician=True,
        recorded_by=lia,
    )
    tasks = api(ada).get("/api/v1/outreach/tasks", owner=lia.pk).json()
    assert [t["title"] for t in tasks["items"]] == ["Thank-you note to Dr. Reed"]
    gifts = api(ada).get("/api/v1/outreach/gifts", year=2026).json()
    assert (gifts["total"], gifts["items"][0]["value"]) == (1, "18.50")
    assert api(ada).get("/api/v1/outreach/gifts", year=2025).json()["total"] == 0


@pytest.mark.parametrize("path", ["due", "activities", "tasks", "gifts"])
def test_roles_without_outreach_work_are_refused(api, cora, andy, path):
    for user in (cora, andy):
        assert api(user).get(f"/api/v1/outreach/{path}").status_code == 403


def _gift(provider, value, **fields):
    return {
        "provider_id": provider.pk,
        "given_on": "2026-03-02",
        "kind": "meal",
        "description": "Lunch for the office",
        "value": value,
        **fields,
    }


def test_a_gift_warns_at_80_percent_and_is_refused_past_the_limit(api, lia, practice_a):
    physician = f.ProviderFactory(practice=practice_a, credentials="MD")
    first = api(lia).post("/api/v1/outreach/gifts", _gift(physician, "428.00"))
    assert first.status_code == 201, first.content
    assert (first.json()["state"], first.json()["limit"]) == ("warning", "535.00")
    assert first.json()["warning"]
    past = api(lia).post("/api/v1/outreach/gifts", _gift(physician, "107.01"))
    assert (past.status_code, past.json()["field"]) == (409, "value")
    exactly = api(lia).post("/api/v1/outreach/gifts", _gift(physician, "107.00"))
    assert exactly.status_code == 201
    report = api(lia).get("/api/v1/outreach/ledger/2026").json()
    (row,) = report["physicians"]
    assert (row["total"], row["state"], row["items"]) == ("535.00", "warning", 2)


def test_cash_is_refused_and_a_gift_names_one_recipient(api, lia, practice_a):
    physician = f.ProviderFactory(practice=practice_a, credentials="DO")
    card = api(lia).post("/api/v1/outreach/gifts", _gift(physician, "10", description="Gift card"))
    assert (card.status_code, card.json()["field"]) == (422, "description")
    staff = f.StaffContactFactory(practice=practice_a)
    both = api(lia).post("/api/v1/outreach/gifts", _gift(physician, "10", staff_id=staff.pk))
    assert both.status_code == 422
    nobody = api(lia).post("/api/v1/outreach/gifts", _gift(physician, "10", provider_id=10**9))
    assert (nobody.status_code, nobody.json()["field"]) == (422, "provider_id")
    assert GiftEntry.objects.count() == 0
