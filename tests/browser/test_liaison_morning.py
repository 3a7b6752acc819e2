"""A liaison's morning on a phone (issue 16, done when): the home, a visit logged from the
due list while the connection is down, kept on the phone, sent once when it is back; the
cadence reset and the follow-up task made."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from refloop.demo import factories as f
from refloop.outreach import tiers
from refloop.outreach.models import (
    Activity,
    Relationship,
    Task,
    TaskKind,
    TaskStatus,
    Territory,
    Tier,
    Topic,
)
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
SENT_WITHIN_MS = 25_000  # the page retries every 10 s besides the browser's "online" event


def test_a_liaison_logs_a_visit_offline_and_it_arrives_once(signed_in, context, lia, org):
    office = f.PracticeFactory(name="Prairie Family Medicine", city="Springfield")
    territory = Territory.objects.create(name="North", liaison=lia)
    Relationship.objects.create(
        practice=office,
        territory=territory,
        computed_tier=Tier.A,
        last_visit_on=tiers.today() - dt.timedelta(days=40),
    )
    doctor = f.ProviderFactory(practice=office, first_name="Amara", last_name="Okonkwo")
    f.StaffContactFactory(practice=office, name="Dana Reyes")
    # The topic list the first migration brings (a transactional test may have emptied it).
    Topic.objects.get_or_create(name="Access and scheduling")
    follow_up_on = tiers.today() + dt.timedelta(days=7)

    page = signed_in(lia)
    page.set_viewport_size(PHONE)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/outreach/$"))
    due_today = page.get_by_role("list", name="Visits due today")
    expect(due_today).to_contain_text("Prairie Family Medicine")
    expect(due_today).to_contain_text("10 days overdue")
    assert_accessible(page)

    due_today.get_by_role("link", name="Log visit to Prairie Family Medicine").click()
    expect(page.get_by_role("heading", name="Log: Prairie Family Medicine")).to_be_visible()
    assert_accessible(page)

    context.set_offline(True)
    page.get_by_label("Amara Okonkwo").check()
    page.get_by_label("Dana Reyes (Referral coordinator)").check()
    page.get_by_label("Access and scheduling").check()
    page.get_by_label("Notes").fill("Front desk asks for faster callbacks.")
    page.get_by_label(re.compile(r"^Follow-up:?$")).fill("Send the spine one-pager")
    page.get_by_label("Follow-up by").fill(follow_up_on.isoformat())
    save = page.get_by_role("button", name="Save")
    assert save.bounding_box()["height"] >= 44
    save.click()

    expect(page.locator("#log-status")).to_have_text(
        "Saved on this phone; will be sent when you are back online."
    )
    expect(page.locator("#log-queue")).to_contain_text("Waiting to be sent")
    expect(page.locator("#log-queue")).to_contain_text("Prairie Family Medicine")
    assert not Activity.objects.exists()

    context.set_offline(False)
    expect(page.locator("#log-queue li")).to_contain_text("Sent", timeout=SENT_WITHIN_MS)
    expect(page.locator("#log-status")).to_have_text("Sent.")

    activity = Activity.objects.get()
    assert (activity.practice, activity.liaison, activity.occurred_on) == (
        office,
        lia,
        tiers.today(),
    )
    assert list(activity.providers.all()) == [doctor]
    assert activity.client_key  # made on the phone
    assert Relationship.objects.get(practice=office).last_visit_on == tiers.today()
    task = Task.objects.get()
    assert (task.kind, task.owner, task.due_on, task.status, task.activity) == (
        TaskKind.FOLLOW_UP,
        lia,
        follow_up_on,
        TaskStatus.OPEN,
        activity,
    )

    # Back home: the practice has left the due list, and the follow-up is among my tasks.
    page.goto("/outreach/")
    expect(page.get_by_text("No visit is due today.")).to_be_visible()
    expect(page.get_by_role("list", name="My open tasks")).to_contain_text(
        "Send the spine one-pager"
    )
    # Opening pages again sends nothing twice.
    assert Activity.objects.count() == 1
