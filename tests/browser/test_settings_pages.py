"""The Settings pages in a browser: reached from the navigation, accessible on a desktop and
on a phone, including the forms as they come back with errors."""

import pytest
from django.urls import reverse

from refloop.core.models import User
from tests.browser.conftest import PASSWORD, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def pages(spine, cora, cliff):
    return [
        reverse("settings_home"),
        reverse("settings_practice"),
        reverse("settings_location_new"),
        reverse("settings_sla"),
        reverse("settings_departments"),
        reverse("settings_department", args=[spine.pk]),
        reverse("settings_users"),
        reverse("settings_user_new"),
        reverse("settings_user", args=[cora.pk]),
        reverse("message_settings"),
        reverse("message_template", args=["patient.scheduled", "email"]),
    ]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_every_settings_page_passes_axe(signed_in, ada, pages, size):
    page = signed_in(ada)
    page.set_viewport_size(size)
    for url in pages:
        page.goto(url)
        assert_accessible(page)
        # The page's own content fits (the shell's navigation is the shell's business).
        width = page.evaluate("document.querySelector('main').scrollWidth")
        assert width <= size["width"], f"{url}: its content is {width} px wide at {size['width']}"


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_forms_with_errors_pass_axe(signed_in, ada, cora, size):
    page = signed_in(ada)
    page.set_viewport_size(size)
    page.goto(reverse("settings_practice"))
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("is not a known time zone").is_visible()
    assert_accessible(page)
    page.goto(reverse("settings_user_new"))
    page.get_by_label("Username").fill("cora")
    page.get_by_label("First name").fill("Cora")
    page.get_by_label("Last name").fill("Again")
    page.get_by_label("Email").fill("cora2@example.org")
    page.get_by_role("button", name="Add the user and send the link").click()
    assert page.get_by_text("The username cora is already taken; choose another.").is_visible()
    assert_accessible(page)


def fill_new_user(page) -> None:
    page.get_by_label("Username").fill("nora")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Vance")
    page.get_by_label("Email").fill("nora@example.org")
    page.get_by_label("Clinician").check()
    page.get_by_label("Spine").check()
    page.get_by_role("button", name="Add the user and send the link").click()


def test_an_admin_confirms_who_they_are_and_adds_a_user(signed_in, ada, spine):
    page = signed_in(ada)
    page.goto(reverse("notifications"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")
    page.get_by_role("link", name="Users and roles").click()
    page.get_by_role("button", name="Add a user").click()  # a link in a button's look
    fill_new_user(page)
    # This browser's session was not opened by typing a password: it asks for one first.
    assert not User.objects.filter(username="nora").exists()
    assert page.get_by_label("First name").input_value() == "Nora"  # what was typed stays
    page.get_by_role("link", name="confirm it is you").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm with password").click()
    page.wait_for_url(f"**{reverse('settings_user_new')}")
    fill_new_user(page)
    nora = User.objects.get(username="nora")
    page.wait_for_url(f"**{reverse('settings_user', args=[nora.pk])}")
    assert page.get_by_role("heading", name="Nora Vance").is_visible()
    assert page.get_by_text(
        "A link to choose a password was emailed to nora@example.org"
    ).is_visible()
    assert list(nora.departments.all()) == [spine]
