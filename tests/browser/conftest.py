"""Browser tests: Debian's headless Chromium driven by Playwright against a live refloop.

Chromium comes from the system (`apt-get install chromium`); nothing is downloaded.
REFLOOP_CHROMIUM points at another binary if needed.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
PASSWORD = "correct horse battery staple"
BLOCKING_IMPACTS = {"serious", "critical"}


def chromium_path() -> str:
    path = os.environ.get("REFLOOP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Browser tests need Chromium: `apt-get install chromium` (Debian) or set "
            "REFLOOP_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, live_server):
    # Reduced motion turns off Pico's 0.2 s colour transitions, so axe never measures the
    # contrast of a link caught halfway between two colours.
    ctx = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1400, "height": 900},
        reduced_motion="reduce",
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


def sign_in_as(context, live_server, user) -> None:
    """Put a signed-in session for `user` in the browser (for tests that aren't about sign-in)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context.add_cookies(
        [{"name": "sessionid", "value": session.session_key, "url": live_server.url}]
    )


@pytest.fixture
def signed_in(context, live_server):
    """signed_in(user) -> a page whose browser is signed in as `user`."""

    def open_as(user):
        sign_in_as(context, live_server, user)
        return context.new_page()

    return open_as


# Rules axe-core leaves off unless asked: WCAG 2.2's target size (24 x 24 px, or room
# around a smaller target), which the every-page test asks for at both screen sizes.
TARGET_SIZE = ("target-size",)


def axe_violations(page, *, also: tuple[str, ...] = ()) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now, with the
    rules `also` names switched on besides the default ones."""
    # Evaluated through DevTools rather than added as a <script>: the page's
    # Content-Security-Policy refuses inline scripts, rightly.
    page.evaluate(AXE_SOURCE.read_text())
    options = {"resultTypes": ["violations"], "rules": {rule: {"enabled": True} for rule in also}}
    result = page.evaluate("async (options) => await axe.run(document, options)", options)
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page, *, also: tuple[str, ...] = ()) -> None:
    violations = axe_violations(page, also=also)
    summary = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in violations
    ]
    assert not violations, f"axe-core on {page.url}:\n" + json.dumps(summary, indent=2)
