"""Sign-in, the navigation each role gets, and the notification bell, in a real browser."""

import pytest

from refloop.core.notifications import notify
from tests.browser.conftest import PASSWORD, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_coordinator_signs_in_and_lands_on_the_worklist(page, cora):
    page.goto("/")
    assert "/login/" in page.url
    assert_accessible(page)
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/referrals/")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Worklist").is_visible()
    assert nav.get_by_role("link", name="New referral").is_visible()
    assert nav.get_by_role("link", name="Audit log").count() == 0


def test_a_wrong_password_is_refused_with_a_message_and_keeps_the_username(page, cora):
    page.goto("/login/")
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Username").input_value() == "cora"
    assert_accessible(page)


def test_the_bell_lists_unread_notifications_and_opening_one_marks_it_read(
    signed_in, cora, referral
):
    notify(
        cora,
        kind="referral.assigned",
        text=f"{referral.number} was assigned to you",
        referral=referral,
    )
    page = signed_in(cora)
    page.goto("/password/")
    bell = page.locator("#bell summary")
    assert bell.get_attribute("aria-label") == "Notifications: 1 unread"
    bell.click()
    entry = page.get_by_role("button", name=f"{referral.number} was assigned to you")
    entry.wait_for()
    assert_accessible(page)
    entry.click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    assert cora.notifications.get().read_at is not None
    assert page.locator("#bell summary").get_attribute("aria-label") == "Notifications: 0 unread"
