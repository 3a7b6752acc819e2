"""The visit log opens on a phone without a connection (issue 16, item 3): its service
worker (outreach/log_worker.js) keeps the page and serves the kept copy offline, saying
so; a visit logged there waits in the page's queue and is recorded once when the phone is
back online. Signing out deletes the kept copies.

Chromium's offline emulation (context.set_offline) reaches the worker's own fetches too
(Playwright 1.65 with Debian's Chromium; microsoft/playwright#2311 was about older ones):
the offline reload below is answered by the worker's cache or by nothing at all."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from refloop.demo import factories as f
from refloop.outreach import tiers
from refloop.outreach.models import Activity, Relationship, Territory, Tier, Topic
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
SENT_WITHIN_MS = 25_000  # the page retries every 10 s besides the browser's "online" event

# Read once the page says the work is done (expect() waits for that): Playwright's
# wait_for_function would evaluate a string in the page, which its policy refuses.
KEPT = "async (url) => !!(await caches.match(url))"
KEPT_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
  }
  return urls;
}"""
REFLOOP_CACHES = (
    """async () => (await caches.keys()).filter((name) => name.startsWith("refloop-"))"""
)


@pytest.fixture
def due_office(lia):
    office = f.PracticeFactory(name="Prairie Family Medicine", city="Springfield")
    Relationship.objects.create(
        practice=office,
        territory=Territory.objects.create(name="North", liaison=lia),
        computed_tier=Tier.A,
        last_visit_on=tiers.today() - dt.timedelta(days=40),
    )
    return office


def open_log_and_keep_it(page, office) -> str:
    """The log opened online on a phone, until the worker controls it and has kept the
    page and the due practice's form; the form's address."""
    page.set_viewport_size(PHONE)
    page.goto("/outreach/log/")
    expect(page.get_by_role("heading", name="Log a visit")).to_be_visible()
    # The worker answers once it has kept what the page asked it to keep.
    expect(page.locator("#log-offline")).to_have_attribute("data-kept", "yes")
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    form_url = f"/outreach/log/?practice={office.pk}"
    assert page.evaluate(KEPT, "/outreach/log/")
    assert page.evaluate(KEPT, form_url)
    return form_url


def test_the_log_opens_offline_and_a_visit_logged_there_arrives_once(
    signed_in, context, lia, org, due_office
):
    doctor = f.ProviderFactory(practice=due_office, first_name="Amara", last_name="Okonkwo")
    Topic.objects.get_or_create(name="Access and scheduling")
    page = signed_in(lia)
    open_log_and_keep_it(page, due_office)
    offline_line = page.locator("#log-offline")
    expect(offline_line).to_be_hidden()  # online: a fresh page, nothing to say
    assert_accessible(page)

    context.set_offline(True)
    page.reload()
    expect(offline_line).to_be_visible()
    expect(offline_line).to_have_text(re.compile(r"^Offline: showing the list as of .+\.$"))
    due = page.get_by_role("list", name="My due visits")
    expect(due).to_contain_text("Prairie Family Medicine")
    assert_accessible(page)

    # The due practice's form was kept too: the liaison logs the visit in the car park.
    due.get_by_role("link", name="Log visit to Prairie Family Medicine").click()
    expect(page.get_by_role("heading", name="Log: Prairie Family Medicine")).to_be_visible()
    expect(offline_line).to_have_text(re.compile(r"^Offline: showing this form as of .+\.$"))
    page.get_by_label("Amara Okonkwo").check()
    page.get_by_label("Access and scheduling").check()
    page.get_by_label("Notes").fill("Asked about the new spine clinic.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#log-status")).to_have_text(
        "Saved on this phone; will be sent when you are back online."
    )
    expect(page.locator("#log-queue")).to_contain_text("Waiting to be sent")
    assert_accessible(page)
    assert not Activity.objects.exists()

    context.set_offline(False)
    expect(page.locator("#log-queue li")).to_contain_text("Sent", timeout=SENT_WITHIN_MS)
    expect(offline_line).to_contain_text("Connection back")
    activity = Activity.objects.get()
    assert (activity.practice, activity.liaison, list(activity.providers.all())) == (
        due_office,
        lia,
        [doctor],
    )

    # The practice's page shows the visit once, and a reload online is the fresh page.
    page.goto(f"/outreach/practices/{due_office.pk}/")
    history = page.locator("#activities li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Asked about the new spine clinic.")
    page.goto("/outreach/log/")
    expect(offline_line).to_be_hidden()
    expect(page.get_by_text("No visit is due this week.")).to_be_visible()
    assert Activity.objects.count() == 1

    # The type-ahead asks the server from this page: its answers are not kept. What is
    # kept is the log page (the list, the practice's form) and static files, nothing else.
    page.get_by_label("Or find a practice").fill("Prairie")
    expect(page.locator("#practice-found")).to_contain_text("Prairie Family Medicine")
    kept = {urlsplit(url) for url in page.evaluate(KEPT_URLS)}
    assert {(u.path, u.query) for u in kept if not u.path.startswith("/static/")} == {
        ("/outreach/log/", ""),
        ("/outreach/log/", f"practice={due_office.pk}"),
    }
    assert {u.path for u in kept} >= {"/static/outreach/log.js", "/static/vendor/htmx.min.js"}


def test_signing_out_deletes_the_kept_log(signed_in, context, lia, org, due_office):
    page = signed_in(lia)
    open_log_and_keep_it(page, due_office)
    assert page.evaluate(REFLOOP_CACHES)

    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")
    expect(page.locator("html")).to_have_attribute("data-kept-copies", "deleted")
    assert page.evaluate(REFLOOP_CACHES) == []

    # Offline, the log is no longer on this phone: no due list for whoever holds it next.
    context.set_offline(True)
    page.goto("/outreach/log/")
    expect(page.get_by_role("heading", name="Offline")).to_be_visible()
    expect(page.get_by_text("This page is not kept on this phone.")).to_be_visible()
    expect(page.get_by_text("Prairie Family Medicine")).to_have_count(0)
    assert_accessible(page)


def test_a_form_kept_on_an_earlier_day_offers_todays_date(
    signed_in, context, lia, org, due_office, settings
):
    settings.SESSION_MAX_HOURS = 72  # a copy two days old is still within a sign-in here
    page = signed_in(lia)
    form_url = open_log_and_keep_it(page, due_office)

    # Two days later on the phone, still without a connection.
    context.clock.set_fixed_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    context.set_offline(True)
    page.goto(form_url)
    offline_line = page.locator("#log-offline")
    expect(offline_line).to_have_text(
        re.compile(r"^Offline: showing this form as of [A-Z][a-z]{2} \d{1,2}, .+\.$")
    )
    phone_today = page.evaluate("new Date().toLocaleDateString('en-CA')")
    assert phone_today > tiers.today().isoformat()
    expect(page.get_by_label("Date")).to_have_value(phone_today)


def test_a_shared_phone_sends_each_liaisons_entries_only_as_them(
    signed_in, context, lia, org, due_office
):
    """Entries kept on a phone belong to who logged them: signed in as someone else, the
    page neither shows nor sends them (and the server would refuse them), and sends its
    own. The other's entry is first in the queue, so sending it by mistake would come first."""
    from refloop.core.roles import Role

    colleague = f.UserFactory(username="colleague", role=Role.LIAISON)
    page = signed_in(lia)
    page.set_viewport_size(PHONE)
    page.goto("/outreach/log/")
    expect(page.get_by_role("heading", name="Log a visit")).to_be_visible()
    today = tiers.today().isoformat()

    def entry(owner, key, notes):
        return {
            "key": key,
            "owner": str(owner.pk),
            "action": "/outreach/log/",
            "label": f"Visit by {owner.username} · Prairie Family Medicine · {today}",
            "fields": [
                ["client_key", key],
                ["logged_by", str(owner.pk)],
                ["practice", str(due_office.pk)],
                ["kind", "visit"],
                ["occurred_on", today],
                ["notes", notes],
            ],
        }

    queue = [
        entry(colleague, "k-colleague-0000000000000001", "The colleague's visit."),
        entry(lia, "k-lia-000000000000000000000001", "My own visit."),
    ]
    page.evaluate("(q) => localStorage.setItem('refloop.outreach.queue', JSON.stringify(q))", queue)
    page.reload()
    expect(page.locator("#log-queue li")).to_contain_text("Sent", timeout=SENT_WITHIN_MS)
    expect(page.locator("#log-queue li")).to_have_count(1)
    expect(page.locator("#log-queue")).not_to_contain_text("colleague")
    assert list(Activity.objects.values_list("liaison", "notes")) == [(lia.pk, "My own visit.")]
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('refloop.outreach.queue'))")
    assert [e["key"] for e in kept] == ["k-colleague-0000000000000001"]
    assert "refused" not in kept[0]  # waiting for its author, not refused
