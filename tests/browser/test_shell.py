"""Sign-in, the navigation each role gets, and the notification bell, in a real browser."""

import pytest

from refloop.core.notifications import notify
from tests.browser.conftest import PASSWORD, TARGET_SIZE, assert_accessible

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


DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def test_at_1440_the_navigation_is_one_line_and_the_chevron_inside_the_user_button(signed_in, ada):
    # The admin sees the most pages; a long name is cut short, not wrapped.
    ada.first_name, ada.last_name = "Alexandrina", "Montgomery-Fitzwilliam"
    ada.save()
    page = signed_in(ada)
    page.set_viewport_size(DESK)
    page.goto("/referrals/")
    bar = page.locator("header.shell > nav > ul > li")
    centres = bar.evaluate_all(
        "items => items.filter(i => i.offsetParent !== null)"
        ".map(i => { const r = i.getBoundingClientRect(); return r.top + r.height / 2; })"
    )
    assert len(centres) >= 8  # the brand, the pages, More, the bell, the user menu
    assert max(centres) - min(centres) < 4
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    user = page.locator("details.user-menu > summary")
    assert user.evaluate("s => s.scrollHeight <= s.clientHeight && s.scrollWidth <= s.clientWidth")
    chevron = user.evaluate("s => getComputedStyle(s, '::after').backgroundImage")
    assert chevron.startswith("url(")  # the chevron is still drawn, inside the button
    # The rest of the pages are one click away under More.
    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="How to refer").click()
    page.wait_for_url("**/refer/")


def test_on_a_phone_the_navigation_is_behind_a_menu_button(signed_in, cora):
    page = signed_in(cora)
    page.set_viewport_size(PHONE)
    page.goto("/referrals/")
    nav = page.get_by_role("navigation", name="Main")
    outbound = nav.get_by_role("link", name="Outbound")
    assert not outbound.is_visible()
    menu = page.locator("details.nav-menu > summary")
    assert menu.is_visible() and menu.inner_text().strip() == "Menu"
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    menu.click()
    assert outbound.is_visible()
    assert nav.get_by_role("link", name="How to refer").is_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    assert not outbound.is_visible()
    menu.click()
    outbound.click()
    page.wait_for_url("**/outbound/")


def test_a_dialogs_close_button_is_a_24_px_target_on_a_phone(signed_in, cora, referral):
    page = signed_in(cora)
    page.set_viewport_size(PHONE)
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_role("button", name="Accept", exact=True).click()
    dialog = page.get_by_role("dialog", name="Accept")
    dialog.wait_for()
    close = dialog.get_by_role("button", name="Close").bounding_box()
    assert close["width"] >= 24 and close["height"] >= 24
    assert_accessible(page, also=TARGET_SIZE)
