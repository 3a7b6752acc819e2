"""The Content-Security-Policy in a real browser: the main pages of every audience load,
run their scripts (htmx swaps, ECharts with its tooltips, the API documentation) and
trip no violation, and an injected inline script is refused.

A violation is caught twice: by the page's `securitypolicyviolation` events (recorded by a
script DevTools adds before the page's own, which the policy does not govern) and by
Chromium's console message about it.
"""

import pytest

from refloop.analytics.charts import PALETTE
from tests.analytics.test_dashboard_pages import march_history
from tests.browser.charts import point_on
from tests.browser.conftest import sign_in_as
from tests.messaging.helpers import appointment_link

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def march(cora, spine, hand, provider_a, provider_b):
    """A month of referrals, so the dashboard has every chart to draw."""
    return march_history(cora, spine, hand, provider_a, provider_b)


RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watcher:
    """A page whose CSP violations, console errors and uncaught exceptions are collected."""

    def __init__(self, context):
        context.add_init_script(RECORD_VIOLATIONS)
        self.page = context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"{self.page.url}: {text}")
        elif message.type == "error" and not message.location.get("url", "").endswith(
            "/favicon.ico"
        ):
            self.problems.append(f"{self.page.url}: {text}")

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.collect()

    def collect(self) -> None:
        for violation in self.page.evaluate("window.__violations.splice(0)"):
            self.problems.append(f"{self.page.url}: {violation}")


def test_the_staff_pages_run_under_the_policy_without_a_violation(
    context, live_server, ada, march, referral, practice_a
):
    ada.is_staff = ada.is_superuser = True  # the back office too, as the demo's admin
    ada.save()
    sign_in_as(context, live_server, ada)
    watcher = Watcher(context)
    page = watcher.page
    for url in (
        "/referrals/",
        f"/referrals/{referral.pk}/",
        f"/referrals/{referral.pk}/print",
        "/intake/",
        "/intake/documents/",
        "/outbound/",
        "/outbound/new",
        "/audit/",
        "/messages/",
        "/settings/messages/",
        "/portal-invites/",
        "/analytics/referrals/?start=2026-03-01&end=2026-04-01",
        "/analytics/scorecards/",
        f"/analytics/scorecards/{practice_a.pk}/",
        "/outreach/",
        f"/outreach/log/?practice={practice_a.pk}",
        "/admin/",
        "/admin/core/user/",
        f"/admin/core/user/{ada.pk}/change/",
        "/api/v1/docs",
    ):
        watcher.visit(url)
    # htmx: the patient block is fetched and swapped in, the bell's panel loads.
    watcher.visit(f"/referrals/{referral.pk}/")
    page.get_by_role("button", name="Show patient").click()
    page.get_by_text("Quillfeather").first.wait_for()
    page.locator("#bell summary").click()
    page.locator("#bell-panel").get_by_text("Loading").wait_for(state="detached")
    watcher.collect()
    # ECharts draws every chart and writes a tooltip when one is hovered.
    watcher.visit("/analytics/?start=2026-03-01&end=2026-04-01")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg path'))"
    )
    page.mouse.move(
        *point_on(page, page.locator(f'#chart-volume-source svg path[fill="{PALETTE[0]}"]').first)
    )
    page.locator("#chart-volume-source .chart > div").filter(has_text="Referrals").first.wait_for()
    page.mouse.move(10, 10)
    # The referrers table is sorted by an htmx swap.
    page.locator("#referrers").get_by_role("link", name="Practice", exact=True).click()
    page.wait_for_url("**rsort=practice**")
    watcher.collect()
    # The API documentation draws its operations.
    watcher.visit("/api/v1/docs")
    page.locator(".opblock").first.wait_for()
    watcher.collect()
    assert watcher.problems == []


def test_the_portal_patient_and_public_pages_run_under_the_policy(
    context, live_server, pam, referral, cora
):
    watcher = Watcher(context)
    for url in ("/login/", "/refer/", "/refer/form/", "/refer/form/?embed=1", "/refer/embed/"):
        watcher.visit(url)

    token = appointment_link(referral, acting_user=cora)
    watcher.visit(f"/p/{token}/")
    assert watcher.page.get_by_text("Zephyrine").count() > 0

    sign_in_as(context, live_server, pam)
    for url in ("/portal/", f"/portal/referrals/{referral.pk}/", "/portal/referrals/new/"):
        watcher.visit(url)
    assert watcher.problems == []


def test_an_injected_inline_script_is_refused(context, live_server, cora, referral):
    sign_in_as(context, live_server, cora)
    watcher = Watcher(context)
    watcher.visit("/referrals/")
    ran = watcher.page.evaluate(
        """() => {
          window.__ran = false;
          const script = document.createElement("script");
          script.textContent = "window.__ran = true";
          document.body.append(script);
          return window.__ran;
        }"""
    )
    watcher.collect()
    assert ran is False
    assert any("script-src" in problem for problem in watcher.problems), watcher.problems
