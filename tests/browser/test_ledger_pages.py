"""The gift ledger and events pages in a browser, at a desk and on a phone (390 px): a
liaison records a gift, is refused one past the limit, and every page passes axe-core."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refloop.demo import factories as f
from refloop.outreach import events, ledger
from refloop.outreach.models import EventKind, GiftEntry, GiftKind
from tests.browser.conftest import TARGET_SIZE, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PAST_THE_EDGE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('main *')]
    .filter((el) => !el.closest('.table-scroll') && el.getBoundingClientRect().right > width + 1)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')).slice(0, 8);
}"""


def fits_and_passes_axe(page) -> None:
    for size in (DESK, PHONE):
        page.set_viewport_size(size)
        past = page.evaluate(PAST_THE_EDGE)
        assert not past, f"{page.url} at {size['width']}px: past the edge: {past}"
        assert_accessible(page, also=TARGET_SIZE)


def test_a_liaison_records_gifts_and_every_ledger_page_passes_axe(
    signed_in, lia, ada, org, practice_a
):
    doctor = f.ProviderFactory(
        practice=practice_a, credentials="MD", first_name="Ines", last_name="Varga"
    )
    today = ledger.today()
    ledger.record_gift(
        acting_user=lia,
        recipient=doctor,
        given_on=today,
        kind=GiftKind.GIFT,
        description="Book on spine care",
        value=ledger.limit_for(today.year) - Decimal("10.00"),
    )
    event = events.create_event(
        acting_user=lia,
        kind=EventKind.LUNCH_AND_LEARN,
        title="Back pain: when to refer",
        starts_at=timezone.now() + dt.timedelta(days=3),
        host_practice=practice_a,
    )
    events.invite(acting_user=lia, event=event, providers=[doctor])

    page = signed_in(lia)
    page.goto(f"{reverse('ledger_record')}?practice={practice_a.pk}")
    fits_and_passes_axe(page)
    page.get_by_label(f"{doctor} · physician: the yearly limit applies").check()
    page.get_by_role("radio", name="Meal", exact=True).check()
    page.get_by_label("Description").fill("Lunch for the office")
    page.get_by_label("Value ($)").fill("10.01")
    page.get_by_role("button", name="Record").click()
    page.get_by_role("alert").filter(has_text="past the limit").wait_for()
    assert GiftEntry.objects.count() == 1
    fits_and_passes_axe(page)

    page.get_by_label("Value ($)").fill("10.00")
    page.get_by_role("button", name="Record").click()
    page.wait_for_url(f"**{reverse('ledger')}?year={today.year}")
    assert GiftEntry.objects.count() == 2
    assert "Lunch for the office" in page.content()
    fits_and_passes_axe(page)

    for url in (
        reverse("ledger_report"),
        reverse("ledger_overages"),
        reverse("events"),
        reverse("event_new"),
        reverse("event", args=[event.pk]),
    ):
        page.goto(url)
        fits_and_passes_axe(page)

    admin = signed_in(ada)
    admin.goto(reverse("settings_stark_limits"))
    fits_and_passes_axe(admin)
