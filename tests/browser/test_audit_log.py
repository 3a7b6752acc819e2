"""The audit viewer in a real browser: filtering through the form, paging, accessibility."""

import datetime as dt

import pytest

from refloop.core import audit
from refloop.core.audit import Touch
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_filters_the_audit_log_and_the_page_stays_accessible(
    signed_in, ada, cora, lia, referral
):
    start = dt.datetime(2026, 7, 1, 15, 0, tzinfo=dt.UTC)
    for i in range(55):
        audit.record(
            "referral.listed",
            Touch("referral", referral.pk, patient_id=referral.patient_id, referral_id=referral.pk),
            actor=cora,
            now=start + dt.timedelta(minutes=i),
            detail={"position": i},
        )
    audit.record("auth.login", Touch("user", lia.pk), actor=lia, now=start)

    page = signed_in(ada)
    page.goto("/audit/")
    assert page.get_by_role("heading", name="Audit log").is_visible()
    assert_accessible(page)

    page.get_by_label("User").select_option(label="cora")
    page.get_by_label("Action").select_option("referral.listed")
    page.get_by_label("Referral number").fill(referral.number)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/audit/?*action=referral.listed*")
    table = page.get_by_role("region", name="Audit entries")
    assert table.get_by_role("row").count() == 51  # header + 50
    assert table.get_by_text("auth.login").count() == 0
    assert table.get_by_role("link", name=referral.number).first.is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Older").click()
    page.wait_for_url("**page=2*")
    assert table.get_by_role("row").count() == 6  # header + the 5 oldest
    assert page.get_by_label("Action").input_value() == "referral.listed"
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    lines = download.value.path().read_text().splitlines()
    assert len(lines) == 56


def test_an_invalid_filter_is_explained_beside_its_field_accessibly(signed_in, ada):
    page = signed_in(ada)
    page.goto("/audit/")
    page.get_by_label("Referral number").fill("R-0000-0000")
    page.get_by_label("From").fill("2026-07-03")
    page.get_by_label("To").fill("2026-07-01")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/audit/?*")
    assert page.get_by_text("No referral has this number.").is_visible()
    assert page.get_by_text("The end date is before the start date.").is_visible()
    assert_accessible(page)


def test_a_coordinator_is_refused_the_audit_log(signed_in, cora):
    page = signed_in(cora)
    page.goto("/audit/")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert_accessible(page)
