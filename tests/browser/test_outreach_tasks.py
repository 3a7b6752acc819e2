"""The liaison's task list and the outreach analytics page in a browser: a raised task is
marked done from the phone, and both pages fit a phone and pass axe-core."""

import re
from datetime import timedelta

import pytest

from refloop.demo import factories as f
from refloop.outreach.models import Activity, ActivityKind, Relationship, Task, TaskKind, Tier
from refloop.outreach.tiers import note_contact, today
from tests.browser.conftest import TARGET_SIZE, assert_accessible
from tests.browser.test_dashboard import PAST_THE_EDGE
from tests.browser.test_start_pages import DESK, PHONE, fits_and_passes_axe

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_liaison_marks_a_raised_task_done_on_a_phone(signed_in, lia, ada, tmp_path):
    practice = f.PracticeFactory(name="Dropping Family Practice")
    Task.objects.create(
        kind=TaskKind.DECLINING,
        title="Visit: referrals from Dropping Family Practice went from 5.9 to 1 per 90 days",
        detail="1 referral in the last 90 days against 24 in the 365 days before.",
        owner=lia,
        practice=practice,
        due_on=today() - timedelta(days=1),
        signal_key="declining:practice:1:2026-01-01",
    )
    Task.objects.create(title="Drop off the new brochures", owner=lia, due_on=today())
    page = signed_in(lia)
    page.set_viewport_size(PHONE)
    page.goto("/outreach/tasks/")
    assert "1 day overdue" in page.inner_text("#tasks")
    fits_and_passes_axe(page)
    page.set_viewport_size(PHONE)
    page.screenshot(path=tmp_path / "outreach-tasks-phone.png", full_page=True)
    page.get_by_role("button", name=re.compile(r"^Done\W+Visit: referrals from Dropping")).click()
    page.wait_for_load_state()
    assert "Marked done" in page.content()
    assert Task.objects.get(kind=TaskKind.DECLINING).status == "done"
    assert "Dropping Family Practice went" not in page.inner_text("#tasks")


def test_the_outreach_analytics_page_fits_a_phone_and_passes_axe(signed_in, lia, tmp_path):
    relationship = Relationship.objects.create(
        practice=f.PracticeFactory(name="Visited Ortho"), tier_override=Tier.A
    )
    for days in (3, 10, 17):
        Activity.objects.create(
            kind=ActivityKind.VISIT,
            practice=relationship.practice,
            liaison=lia,
            occurred_on=today() - timedelta(days=days),
            cost="25.00",
        )
    note_contact(relationship.practice_id)
    page = signed_in(lia)
    for name, size in (("desk", DESK), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto("/outreach/analytics/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg'))"
        )
        assert "Referral lift after a visit" in page.content()
        page.screenshot(path=tmp_path / f"outreach-analytics-{name}.png", full_page=True)
        assert page.evaluate(PAST_THE_EDGE, size["width"]) == []
        assert_accessible(page, also=TARGET_SIZE)


def test_a_task_by_hand_finds_its_practice_by_type_ahead_and_the_pages_pass_axe(signed_in, lia):
    practice = f.PracticeFactory(name="Typeahead Orthopedics", city="Quincy")
    doctor = f.ProviderFactory(practice=practice, first_name="Wanda", last_name="Wantedsdoctor")
    f.PracticeFactory(name="Not Listed Clinic")
    page = signed_in(lia)
    # The search sent without its script answers a whole page; it passes too.
    page.goto("/outreach/practices/search?to=task&q=typeahead")
    assert page.get_by_role("link", name=re.compile("Typeahead Orthopedics")).count() == 1
    fits_and_passes_axe(page)

    page.set_viewport_size(DESK)
    page.goto("/outreach/tasks/new/")
    assert page.locator("select[name=practice]").count() == 0
    fits_and_passes_axe(page)
    page.get_by_label("Find the practice").fill("typeahead")
    found = page.get_by_role("list", name="Practices found")
    found.get_by_role("link", name=re.compile("Typeahead Orthopedics")).click()
    page.wait_for_load_state()
    assert "Typeahead Orthopedics" in page.inner_text("#task-practice")
    assert "Not Listed Clinic" not in page.content()
    fits_and_passes_axe(page)
    page.set_viewport_size(DESK)
    page.get_by_label("What is to be done").fill("Bring the spine pad")
    page.get_by_label("Provider").select_option(str(doctor.pk))
    page.get_by_role("button", name="Add the task").click()
    page.wait_for_load_state()
    assert "Task added: Bring the spine pad" in page.content()
    task = Task.objects.get()
    assert (task.practice, task.provider) == (practice, doctor)
