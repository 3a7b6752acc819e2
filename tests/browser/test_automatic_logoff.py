"""The warning before automatic sign-out, in a real browser: it appears a minute before,
"Stay signed in" keeps the session, and once the time is up the page goes to sign in.

The server's clock is moved with time-machine (the live server runs in this process) and
the page's timers with Playwright's clock, so nothing waits in real time.
"""

import datetime as dt

import pytest
import time_machine

from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_page_warns_a_minute_before_and_stay_signed_in_keeps_the_session(
    signed_in, cora, settings
):
    settings.SESSION_IDLE_MINUTES = 3
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with time_machine.travel(start, tick=False) as server_clock:
        page = signed_in(cora)
        page.clock.install()
        page.goto("/referrals/")
        notice = page.locator("#session-notice")
        assert notice.is_hidden()

        server_clock.shift(dt.timedelta(minutes=2, seconds=1))
        page.clock.run_for(121_000)
        notice.wait_for(state="visible")
        assert "signed out in about a minute" in notice.inner_text()
        assert_accessible(page)

        with page.expect_response("**/session/stay"):
            page.get_by_role("button", name="Stay signed in").click()
        notice.wait_for(state="hidden")

        # Three quiet minutes later: the warning, then the sign-in page saying why.
        server_clock.shift(dt.timedelta(minutes=3))
        page.clock.run_for(181_000)
        page.wait_for_url("**/login/**")
        assert "You were signed out after 3 minutes without activity." in page.content()
