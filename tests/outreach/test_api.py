"""The outreach API: the due list, activities (logged exactly once per key, changed and
cancelled by their liaison or an admin), tasks, gifts and events with their shares on the
ledger, for liaisons and admins only, with no patient data in any answer."""

import datetime as dt
from decimal import Decimal

import pytest

from refloop.core.models import AuditEntry
from refloop.core.roles import Role
from refloop.demo import factories as f
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    Event,
    GiftEntry,
    GiftKind,
    Relationship,
    Task,
    TaskStatus,
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


def test_a_task_by_hand_is_made_and_closed_once(api, lia, cora, practice_a):
    made = api(lia).post(
        "/api/v1/outreach/tasks",
        {"title": "Bring the referral pads", "owner_id": lia.pk, "practice_id": practice_a.pk},
    )
    assert made.status_code == 201, made.content
    task_id = made.json()["id"]
    assert (made.json()["kind"], made.json()["status"]) == ("manual", "open")
    closed = api(lia).post(f"/api/v1/outreach/tasks/{task_id}/close", {"status": "done"})
    assert (closed.status_code, closed.json()["status"]) == (200, "done")
    again = api(lia).post(f"/api/v1/outreach/tasks/{task_id}/close", {"status": "done"})
    assert again.status_code == 409
    # A coordinator works referrals, not outreach: not an owner a task can have.
    refused = api(lia).post("/api/v1/outreach/tasks", {"title": "Call", "owner_id": cora.pk})
    assert (refused.status_code, refused.json()["field"]) == (422, "owner_id")


def test_the_lift_answers_in_words_even_with_nothing_to_compare(api, lia):
    answer = api(lia).get("/api/v1/outreach/lift")
    assert answer.status_code == 200
    assert answer.json()["overall"]["words"].startswith("Too few visited practices")


# ---- activities: log (exactly once per Idempotency-Key), change, cancel -------------------

KEY = {"Idempotency-Key": "8d0f6a52-4c1e-4f0b-9d7e-2b6f3c1a9e44"}


def _visit(practice, **fields):
    return {
        "practice_id": practice.pk,
        "kind": "visit",
        "occurred_on": "2026-03-02",
        "notes": "Met the office manager",
        "follow_up": "Send the spine one-pager",
        "follow_up_on": "2026-03-09",
        **fields,
    }


def test_a_visit_sent_twice_with_one_key_is_logged_once(api, lia, practice_a, provider_a):
    staff = f.StaffContactFactory(practice=practice_a, name="Rita Moss")
    body = _visit(practice_a, provider_ids=[provider_a.pk], staff_ids=[staff.pk], cost="12.5")

    first = api(lia).post("/api/v1/outreach/activities", body, **KEY)
    again = api(lia).post("/api/v1/outreach/activities", body, **KEY)

    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first.headers
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()
    logged = first.json()
    assert (logged["liaison_id"], logged["status"], logged["cost"]) == (lia.pk, "done", "12.50")
    assert logged["staff"] == [{"id": staff.pk, "name": "Rita Moss"}]
    activity = Activity.objects.get()
    assert activity.client_key == KEY["Idempotency-Key"]
    assert Task.objects.get().activity == activity  # one follow-up task, not two
    assert AuditEntry.objects.filter(action="activity.logged").count() == 1
    assert Relationship.objects.get(practice=practice_a).last_visit_on == dt.date(2026, 3, 2)


def test_a_key_sent_again_with_another_body_is_refused_naming_the_key(api, lia, practice_a):
    assert (
        api(lia).post("/api/v1/outreach/activities", _visit(practice_a), **KEY).status_code == 201
    )
    changed = api(lia).post(
        "/api/v1/outreach/activities", _visit(practice_a, notes="Met Dr. Reed"), **KEY
    )
    assert (changed.status_code, changed.json()["field"]) == (422, "Idempotency-Key")
    assert "already used" in changed.json()["detail"]
    assert Activity.objects.get().notes == "Met the office manager"
    # Without a key, the same body twice is two activities: the key is what makes a replay.
    api(lia).post("/api/v1/outreach/activities", _visit(practice_a))
    api(lia).post("/api/v1/outreach/activities", _visit(practice_a))
    assert Activity.objects.count() == 3


def test_people_of_another_practice_are_refused_naming_the_field(
    api, lia, practice_a, provider_b, practice_b
):
    theirs = f.StaffContactFactory(practice=practice_b)
    staff = api(lia).post("/api/v1/outreach/activities", _visit(practice_a, staff_ids=[theirs.pk]))
    assert (staff.status_code, staff.json()["field"]) == (422, "staff_ids")
    assert "does not work at this practice" in staff.json()["detail"]
    doctor = api(lia).post(
        "/api/v1/outreach/activities", _visit(practice_a, provider_ids=[provider_b.pk])
    )
    assert (doctor.status_code, doctor.json()["field"]) == (422, "provider_ids")
    nobody = api(lia).post("/api/v1/outreach/activities", _visit(practice_a, topic_ids=[10**9]))
    assert (nobody.status_code, nobody.json()["field"]) == (422, "topic_ids")
    assert Activity.objects.count() == 0


def test_a_planned_visit_needs_its_time_and_takes_its_day_from_it(api, lia, practice_a):
    untimed = api(lia).post(
        "/api/v1/outreach/activities", {"practice_id": practice_a.pk, "status": "planned"}
    )
    assert (untimed.status_code, untimed.json()["field"]) == (422, "starts_at")
    # 23:30 in Chicago is the next day in UTC: the day is the practice's.
    planned = api(lia).post(
        "/api/v1/outreach/activities",
        {"practice_id": practice_a.pk, "status": "planned", "starts_at": "2026-02-09T23:30:00"},
    )
    assert planned.status_code == 201, planned.content
    assert planned.json()["occurred_on"] == "2026-02-09"
    assert planned.json()["starts_at"] == "2026-02-10T05:30:00Z"


@pytest.fixture
def leo(org):
    return f.UserFactory(username="leo", role=Role.LIAISON)


def test_another_liaison_can_neither_change_nor_cancel_my_visit_and_an_admin_can(
    api, lia, leo, ada, practice_a
):
    mine = api(lia).post("/api/v1/outreach/activities", _visit(practice_a)).json()
    path = f"/api/v1/outreach/activities/{mine['id']}"

    assert api(leo).post(f"{path}/cancel").status_code == 403
    refused = api(leo).patch(path, {"notes": "Not mine to say"})
    assert refused.status_code == 403
    assert "Only the liaison who logged" in refused.json()["detail"]
    assert Activity.objects.get().status == "done"
    assert Task.objects.get().status == TaskStatus.OPEN

    cancelled = api(ada).post(f"{path}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert Task.objects.get().status == TaskStatus.CANCELLED  # its follow-up goes with it
    assert AuditEntry.objects.filter(action="activity.cancelled", actor=ada).count() == 1
    assert api(lia).get("/api/v1/outreach/activities", status="cancelled").json()["total"] == 1


def test_a_change_keeps_what_it_leaves_out(api, lia, practice_a, provider_a):
    mine = (
        api(lia)
        .post("/api/v1/outreach/activities", _visit(practice_a, provider_ids=[provider_a.pk]))
        .json()
    )
    path = f"/api/v1/outreach/activities/{mine['id']}"

    changed = api(lia).patch(path, {"kind": "call", "follow_up_on": None})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["kind"], body["notes"], body["follow_up_on"]) == (
        "call",
        "Met the office manager",
        None,
    )
    assert [p["id"] for p in body["providers"]] == [provider_a.pk]
    assert Task.objects.get().status == TaskStatus.CANCELLED  # no follow-up date, no task
    assert AuditEntry.objects.filter(action="activity.changed", actor=lia).count() == 1
    # A cancelled activity is not changed; the refusal names the field.
    api(lia).post(f"{path}/cancel")
    again = api(lia).patch(path, {"notes": "Too late"})
    assert (again.status_code, again.json()["field"]) == (422, "status")
    assert api(lia).patch(path, {"kind": None}).status_code == 422  # null is not "unchanged"


# ---- events: invitees, attendance, the cost shared on the ledger --------------------------


def _event(api, user, **fields):
    body = {"kind": "lunch_and_learn", "title": "Spine care", "starts_at": "2026-03-02T12:00:00"}
    made = api(user).post("/api/v1/outreach/events", {**body, **fields})
    assert made.status_code == 201, made.content
    return made.json()


def test_attendance_sent_twice_writes_each_share_once(api, lia, practice_a, provider_a):
    staff = f.StaffContactFactory(practice=practice_a)
    event = _event(api, lia, host_practice_id=practice_a.pk, total_cost="100.00")
    path = f"/api/v1/outreach/events/{event['id']}"
    invited = api(lia).post(
        f"{path}/invitees", {"provider_ids": [provider_a.pk], "staff_ids": [staff.pk]}
    )
    assert (invited.status_code, invited.json()["added"]) == (200, 2)
    doctor, office_manager = invited.json()["event"]["invitees"]
    assert (doctor["provider_id"], doctor["physician"]) == (provider_a.pk, True)
    assert (office_manager["staff_id"], office_manager["physician"]) == (staff.pk, False)
    came = [doctor["id"], office_manager["id"]]

    first = api(lia).post(f"{path}/attendance", {"attended": came, "total_cost": "100.01"})
    again = api(lia).post(f"{path}/attendance", {"attended": came})  # the cost as it is

    assert first.status_code == again.status_code == 200, (first.content, again.content)
    shares = again.json()["event"]["shares"]
    assert sorted(s["value"] for s in shares) == ["50.00", "50.01"]
    assert GiftEntry.objects.filter(event_id=event["id"]).count() == 2
    assert all(i["attended"] for i in again.json()["event"]["invitees"])
    assert again.json()["event"]["total_cost"] == "100.01"
    # Inviting again adds nobody; the event reads back as the answers said.
    assert api(lia).post(f"{path}/invitees", {"staff_ids": [staff.pk]}).json()["added"] == 0
    assert api(lia).get(path).json() == again.json()["event"]
    # Unmarked, the staff member's share is withdrawn and the physician's is the whole cost.
    fewer = api(lia).post(f"{path}/attendance", {"attended": [doctor["id"]]})
    assert fewer.json()["removed"] == 1
    assert [s["value"] for s in fewer.json()["event"]["shares"]] == ["100.01"]
    assert AuditEntry.objects.filter(action="event.attendance").count() == 3


def test_a_share_past_a_physicians_limit_is_refused_and_nothing_is_saved(
    api, lia, practice_a, provider_a
):
    GiftEntry.objects.create(
        given_on=dt.date(2026, 2, 1),
        kind=GiftKind.MEAL,
        description="Dinner",
        value=Decimal("500.00"),
        practice=practice_a,
        provider=provider_a,
        physician=True,
        recorded_by=lia,
    )
    event = _event(api, lia, total_cost="40.00")
    path = f"/api/v1/outreach/events/{event['id']}"
    invited = api(lia).post(f"{path}/invitees", {"provider_ids": [provider_a.pk]}).json()
    (invitee,) = invited["event"]["invitees"]

    refused = api(lia).post(f"{path}/attendance", {"attended": [invitee["id"]]})

    assert (refused.status_code, refused.json()["field"]) == (409, "attended")
    assert str(provider_a) in refused.json()["detail"]
    assert "past the limit of $535.00" in refused.json()["detail"]
    assert GiftEntry.objects.filter(event_id=event["id"]).count() == 0
    assert api(lia).get(path).json()["invitees"][0]["attended"] is False
    # Someone not invited to this event is refused naming the field.
    stranger = api(lia).post(f"{path}/attendance", {"attended": [invitee["id"] + 1000]})
    assert (stranger.status_code, stranger.json()["field"]) == (422, "attended")


def test_events_list_latest_first_and_filter(api, ada, lia, practice_a):
    _event(api, lia, title="Open house", kind="open_house", starts_at="2026-05-01T17:00:00")
    _event(api, ada, title="CME", kind="cme", starts_at="2026-04-01T23:30:00")  # Chicago time
    hosted = _event(api, lia, host_practice_id=practice_a.pk, starts_at="2026-03-01T12:00:00")

    every = api(lia).get("/api/v1/outreach/events").json()
    assert [e["title"] for e in every["items"]] == ["Open house", "CME", "Spine care"]
    assert api(lia).get("/api/v1/outreach/events", kind="cme").json()["total"] == 1
    at_a = api(lia).get("/api/v1/outreach/events", practice=practice_a.pk).json()["items"]
    assert [e["id"] for e in at_a] == [hosted["id"]]
    # The days are the practice's: 23:30 on 1 April in Chicago is 2 April in UTC.
    april_first = api(lia).get(
        "/api/v1/outreach/events", starts_from="2026-04-01", starts_to="2026-04-01"
    )
    assert [e["title"] for e in april_first.json()["items"]] == ["CME"]
    page = api(lia).get("/api/v1/outreach/events", limit=1, offset=1).json()
    assert (page["total"], [e["title"] for e in page["items"]]) == (3, ["CME"])
    assert api(lia).get("/api/v1/outreach/events/999999").status_code == 404


def test_roles_without_outreach_work_are_refused_the_new_operations(api, cora, pam, practice_a):
    event = {"kind": "cme", "title": "CME", "starts_at": "2026-03-02T18:00:00"}
    for user in (cora, pam):
        assert api(user).get("/api/v1/outreach/events").status_code == 403
        assert api(user).post("/api/v1/outreach/events", event).status_code == 403
        logged = api(user).post("/api/v1/outreach/activities", _visit(practice_a), **KEY)
        assert logged.status_code == 403
    assert Activity.objects.count() == Event.objects.count() == 0
