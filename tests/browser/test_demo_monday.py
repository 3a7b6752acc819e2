"""The demo practice as its coordinator finds it on a Monday morning at a desk (1440x900):
today's work first, a full screen of one-line rows, no stale notices, the navigation on
one line. Built with the real seed on a Monday at 09:00 in the practice's zone (the
server's clock travels there and runs on), signed in with the printed password."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from refloop.core.models import Notification, User
from refloop.demo.seed import seed_demo
from refloop.referrals import clocks
from refloop.referrals.models import Referral, State

MONDAY = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)  # 09:00 in America/Chicago
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.time_machine(MONDAY, tick=True),  # the server's clock, from seed to page
]

DESK = {"width": 1440, "height": 900}
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# States in which the practice, not the referring office or the calendar, holds the next move.
OURS_TO_MOVE = {
    State.RECEIVED,
    State.IN_REVIEW,
    State.ACCEPTED,
    State.CONTACTING,
    State.NO_SHOW,
    State.SEEN,
}


@override_settings(PASSWORD_HASHERS=FAST_HASHERS)
def test_the_demo_coordinator_opens_on_todays_work(live_server, context, tmp_path):
    seeded = seed_demo(referrals=150, logins_file=tmp_path / "demo-logins.txt")
    page = context.new_page()
    page.set_viewport_size(DESK)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill(seeded.logins["coordinator"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/referrals/**")
    now = timezone.now()
    coordinator = User.objects.get(username="coordinator")

    # My referrals opens on something to do now, received in the last days.
    first = Referral.objects.get(
        number=page.locator("#worklist-table tbody tr a.row-link").first.inner_text()
    )
    assert first.assignee == coordinator
    assert first.state in OURS_TO_MOVE, first.state  # not waiting on the referrer or a visit
    assert now - first.received_at < dt.timedelta(days=7)
    clock = clocks.clock(first, now)
    assert clock is not None and clock.running

    # My department is there, as the README promises.
    assert page.get_by_role("link", name="My department").count() == 1

    # A whole screen of referrals, one line each (every state: this small practice has
    # fewer than 15 open).
    page.goto(f"{live_server.url}/referrals/?tab=all&state=any")
    rows = page.locator("#worklist-table tbody tr")
    above_the_fold = rows.evaluate_all(
        "rows => rows.filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert above_the_fold >= 15

    # No notice older than a week waits in the bell.
    unread = Notification.objects.filter(user=coordinator, read_at__isnull=True)
    assert not unread.filter(created_at__lt=now - dt.timedelta(days=7)).exists()
    bell = page.locator("header.shell summary[aria-label^='Notifications']")
    assert bell.get_attribute("aria-label") == f"Notifications: {unread.count()} unread"

    # The navigation is one line.
    centres = page.locator("header.shell > nav > ul > li").evaluate_all(
        "items => items.filter(i => i.offsetParent !== null)"
        ".map(i => { const r = i.getBoundingClientRect(); return r.top + r.height / 2; })"
    )
    assert max(centres) - min(centres) < 4
