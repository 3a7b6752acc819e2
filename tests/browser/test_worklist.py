"""The worklist in a real browser: accessibility, keyboard navigation, bulk assign, search,
one line per referral on a desk screen and cards on a phone."""

import datetime as dt

import pytest
from django.utils import timezone

from refloop.demo import factories as f
from refloop.referrals.models import Referral
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three(cora, spine, provider_a):
    return [
        f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
        for _ in range(3)
    ]


def test_the_worklist_is_accessible_for_a_coordinator_and_a_liaison(signed_in, cora, lia, three):
    page = signed_in(cora)
    page.goto("/referrals/?tab=all")
    assert page.get_by_role("heading", level=1, name="Worklist").is_visible()
    assert page.locator("a.row-link").count() == 3
    assert_accessible(page)
    page.goto("/referrals/?tab=all&received_from=2026-03-10&received_to=2026-03-01")
    assert page.locator("#id_received_to_error").is_visible()
    assert_accessible(page)


def test_the_liaison_worklist_is_accessible(signed_in, lia, three):
    page = signed_in(lia)
    page.goto("/referrals/")
    assert page.locator("a.row-link").count() == 3
    assert page.get_by_label("Referral number", exact=True).is_visible()
    assert_accessible(page)


def test_j_and_k_move_the_selection_and_enter_opens_the_referral(signed_in, cora, three):
    page = signed_in(cora)
    page.goto("/referrals/?tab=all&sort=number")
    rows = page.locator("#worklist-table tbody tr")
    ordered = sorted(r.number for r in three)
    page.locator("body").press("j")
    assert "is-current" in rows.nth(0).get_attribute("class")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "is-current" in rows.nth(1).get_attribute("class")
    assert "is-current" not in (rows.nth(0).get_attribute("class") or "")
    wanted = Referral.objects.get(number=ordered[1])
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/referrals/{wanted.pk}/")


def test_j_typed_into_the_search_box_stays_in_the_box(signed_in, cora, three):
    page = signed_in(cora)
    page.goto("/referrals/?tab=all")
    box = page.get_by_label("Referral number or patient name")
    box.click()
    page.keyboard.type("jk")
    assert box.input_value() == "jk"
    assert page.locator("#worklist-table tbody tr.is-current").count() == 0


def test_bulk_assign_through_the_page(signed_in, cora, ada, three):
    page = signed_in(cora)
    page.goto("/referrals/?tab=unassigned")
    page.get_by_label("Select every referral on this page").check()
    page.get_by_label("Assign selected to").select_option(label=ada.get_full_name())
    page.get_by_role("button", name="Assign").click()
    page.get_by_text(f"Assigned 3 referrals to {ada.get_full_name()}.").wait_for()
    assert page.locator("a.row-link").count() == 0
    assert set(Referral.objects.values_list("assignee_id", flat=True)) == {ada.pk}
    assert_accessible(page)


def test_search_by_name_keeps_the_name_out_of_the_address(signed_in, cora, spine, provider_a):
    wanted = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        patient=f.patient_data(first_name="Zelda", last_name="Quartermaine"),
    )
    f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    page = signed_in(cora)
    page.goto("/referrals/?tab=all")
    page.get_by_label("Referral number or patient name").fill("quartermaine")
    page.get_by_role("button", name="Search").click()
    page.get_by_text("Showing matches for your search").wait_for()
    assert page.locator("a.row-link").all_inner_texts() == [wanted.number]
    assert "quartermaine" not in page.url.lower()
    # Sorting while searching keeps the search and still keeps it out of the address.
    page.get_by_role("button", name="Referral", exact=True).click()
    page.get_by_text("Showing matches for your search").wait_for()
    assert page.locator("a.row-link").all_inner_texts() == [wanted.number]
    assert "sort=number" in page.url and "quartermaine" not in page.url.lower()
    assert_accessible(page)


def test_save_and_apply_a_filter(signed_in, cora, three):
    page = signed_in(cora)
    page.goto("/referrals/?tab=all&urgency=stat")
    page.get_by_role("button", name="Saved").click()
    page.get_by_label("Name for these filters").fill("Stat only")
    page.get_by_role("button", name="Save current filters").click()
    page.get_by_text("Saved the filters as “Stat only”.").wait_for()
    page.goto("/referrals/")
    page.get_by_role("button", name="Saved").click()
    page.get_by_role("link", name="Stat only").click()
    page.wait_for_url("**/referrals/?tab=all&urgency=stat")
    assert_accessible(page)


DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def long_names(cora, spine, hand):
    """A morning's worth of referrals with names that wrapped rows onto two lines."""
    long_practice = f.PracticeFactory(
        name="Riverside Family & Internal Medicine Associates of Greater Springfield"
    )
    providers = [f.ProviderFactory(practice=long_practice), f.ProviderFactory()]
    now = timezone.now()
    return [
        f.make_referral(
            acting_user=cora,
            department=hand if i % 2 else spine,
            referring_provider=providers[i % 2],
            urgency=("routine", "urgent", "stat")[i % 3],
            patient=f.patient_data(
                first_name="Maximiliana-Josephine", last_name="Featherstonehaugh-Smythe"
            )
            if i % 4 == 0
            else f.patient_data(),
            now=now - dt.timedelta(hours=5 * i),
        )
        for i in range(24)
    ]


def test_at_1440_by_900_rows_are_one_line_and_at_least_15_show_above_the_fold(
    signed_in, cora, long_names
):
    page = signed_in(cora)
    page.set_viewport_size(DESK)
    page.goto("/referrals/?tab=all")
    heights = page.locator("#worklist-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    line = page.locator("#worklist-table thead th").first.evaluate(
        "th => parseFloat(getComputedStyle(th).lineHeight)"
    )
    assert len(heights) == 24
    assert max(heights) < 2 * line  # one line each, the long names cut short
    above_the_fold = page.locator("#worklist-table tbody tr").evaluate_all(
        "rows => rows.filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert above_the_fold >= 15
    # What was cut short is whole in the title.
    practice = page.locator("td.col-practice .clip[title^='Riverside Family']").first
    assert practice.get_attribute("title").endswith(", MD")  # the practice and the provider
    assert practice.evaluate("e => e.scrollWidth > e.clientWidth")


def test_on_a_phone_the_worklist_is_cards_with_the_filters_behind_a_button(
    signed_in, cora, long_names
):
    page = signed_in(cora)
    page.set_viewport_size(PHONE)
    page.goto("/referrals/?tab=all")
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    # The first screen is referrals, not the filters.
    assert page.locator("#worklist-table tbody tr").first.is_visible()
    order = page.get_by_label("Order", exact=True)
    assert not order.is_visible()
    page.get_by_role("button", name="Filters").click()
    assert order.is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    assert_accessible(page)
    order.select_option(label="Newest first")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sort=-received**")
    newest = max(long_names, key=lambda r: r.received_at)
    assert page.locator("a.row-link").first.inner_text() == newest.number
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
