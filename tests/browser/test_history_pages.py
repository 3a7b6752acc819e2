"""The history pages in Chromium: axe-core finds no serious or critical problem, and an
upload goes from the form to its outcome through the page alone (the worker run inline)."""

import pytest

from refloop.history.models import ImportRun
from refloop.ops.worker import drain_queue
from tests.browser.conftest import assert_accessible
from tests.history.conftest import csv_bytes, good_row, practice_setup  # noqa: F401 (a fixture)

# Here with the other browser tests: one Playwright per test process (a second session
# fixture in another folder started a second one and failed).

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("practice_setup"),
]


def test_upload_progress_and_outcome_pages_are_accessible(signed_in, live_server, ada, tmp_path):
    page = signed_in(ada)
    page.goto(f"{live_server.url}/analytics/history/")
    assert_accessible(page)

    bad = tmp_path / "history.csv"
    bad.write_bytes(csv_bytes([good_row(), good_row(urgency="soon")]))
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url("**/analytics/history/runs/*/")
    assert page.locator("progress").count() == 1
    assert_accessible(page)

    drain_queue()  # the worker; the page polls and reloads once the run is over
    page.get_by_text("Nothing was imported").wait_for()
    assert page.get_by_role("cell", name="3", exact=True).count() == 1
    assert_accessible(page)
    assert ImportRun.objects.get().status == "invalid"
