"""The monthly management report (PDF), its download and the `refloop analytics` command.

March 2026 has 15 referrals: 12 from practice A by fax (two of them seen) and 3
self-referrals by phone; February 2026 has 2 from A; March 2025 has none, but the data
starts in January 2025 (one self-referral), so both months are compared. So the analyst's
copy shows the 15 received but hides the 3 self-referrals ("<11") and, because the 15
would give them back by subtraction, the 12 from providers ("suppressed").
"""

import datetime as dt
import io

import pypdfium2
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from refloop.analytics import pdf, report
from refloop.analytics.metrics import Period
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging.models import Message
from tests.analytics.history import History, local

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
NOW = local("2026-04-02 10:00")
PAGES = {
    1: ("Monthly referral report", "March 2026", "Contents"),
    2: ("Headline figures", "February 2026", "March 2025", "Bottlenecks"),
    3: ("Funnel", "Volume by source", "Volume by channel"),
    4: ("First-contact targets (SLA)", "Top referrers", "Declining referrers"),
    5: ("Referral network segments", "Leakage", "Lifetime value by source"),
}


def sched(hours, visit):
    return ("scheduled", hours, {"appointment_hours": visit})


@pytest.fixture
def month(cora, spine, settings, tmp_path):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.FAX_OUTBOX_DIR = tmp_path / "fax"
    practice = f.PracticeFactory(name="Prairie Family Medicine")
    provider = f.ProviderFactory(practice=practice)
    h = History(cora, spine)
    h.referral("2025-01-15 09:00", source="self", channel="phone")  # the data's first day
    for day in (3, 17):
        h.referral(f"2026-02-{day:02d} 09:00", ("contact", 3), provider=provider)
    for i in range(12):
        steps = [("contact", 2 + i)]
        if i < 2:
            steps += [("accepted", 20), sched(21, 72), ("seen", 72)]
        h.referral(f"2026-03-{2 + i:02d} 09:00", *steps, provider=provider)
    for day in (5, 12, 19):
        h.referral(f"2026-03-{day:02d} 09:00", ("contact", 1), source="self", channel="phone")
    h.rebuild()
    return practice


def text_of(content: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(io.BytesIO(content))
    return [page.get_textpage().get_text_range() for page in document]


def section(found: report.Report, title: str) -> report.Section:
    return next(s for s in found.sections if s.title == title)


def test_the_report_has_a_cover_and_each_section_on_its_page(org, month):
    found = report.build(MARCH, now=NOW)
    pages = text_of(pdf.report_pdf(found))
    assert len(pages) == len(PAGES)
    assert org.name in pages[0]
    for number, expected in PAGES.items():
        for text in expected:
            assert text in pages[number - 1], (number, text)
    # The contents give each section's page.
    assert "Top referrers" in pages[0] and "page 4" in pages[0]


def test_the_full_copy_shows_every_count(month):
    found = report.build(MARCH, now=NOW)
    headline = section(found, "Headline figures").parts[0]
    received = next(row for row in headline.rows if row[0] == "Referrals received")
    assert received[1:] == ["15", "2", "0"]
    assert section(found, "Volume by source").parts[0].bars == [
        ("Provider", 12, "12"),
        ("Self", 3, "3"),
    ]
    top = section(found, "Top referrers").parts[0]
    assert top.rows[0][:2] == ["Prairie Family Medicine", "12"]
    assert not any("<11" in page for page in text_of(pdf.report_pdf(found)))


def test_the_analysts_copy_hides_small_counts_and_what_gives_them_back(month):
    found = report.build(MARCH, now=NOW, suppressed=True)
    headline = section(found, "Headline figures").parts[0]
    rows = {row[0]: row[1:] for row in headline.rows}
    assert rows["Referrals received"] == ["15", "<11", "0"]
    assert rows["Seen (conversion)"][0] == "suppressed"  # 2 seen of 15
    assert section(found, "Volume by source").parts[0].bars == [
        ("Provider", 0, "suppressed"),  # 15 - 12 would give the 3 back
        ("Self", 0, "<11"),
    ]
    pages = text_of(pdf.report_pdf(found))
    assert "<11" in pages[1] and "Small cells suppressed" in pages[0]
    assert found.file_name == "referral-report-2026-03-suppressed.pdf"


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_analyst_downloads_the_suppressed_copy(client, andy, month, at_now):
    client.force_login(andy)
    response = client.get(reverse("analytics_report_pdf", args=["2026-03"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "referral-report-2026-03-suppressed.pdf" in response["Content-Disposition"]
    assert "<11" in "".join(text_of(response.content))
    entry = AuditEntry.objects.get(action="analytics.report_downloaded")
    assert entry.actor == andy and entry.object_id == "2026-03"
    assert entry.detail == {"month": "2026-03", "suppressed": True}
    assert entry.patient_id is None


def test_others_get_the_full_copy_unless_they_ask(client, ada, month, at_now):
    client.force_login(ada)
    url = reverse("analytics_report_pdf", args=["2026-03"])
    assert "<11" not in "".join(text_of(client.get(url).content))
    assert "<11" in "".join(text_of(client.get(url + "?suppress=1").content))


def test_the_report_reads_suppress_as_the_exports_do(client, ada, month, at_now):
    client.force_login(ada)
    url = reverse("analytics_report_pdf", args=["2026-03"])
    assert "<11" in "".join(text_of(client.get(url + "?suppress=yes").content))
    assert "<11" not in "".join(text_of(client.get(url + "?suppress=0").content))
    response = client.get(url + "?suppress=maybe")
    assert response.status_code == 422
    assert "suppress must be 1" in response.content.decode()


def test_the_analyst_gets_the_suppressed_copy_even_asking_for_none(client, andy, month, at_now):
    client.force_login(andy)
    url = reverse("analytics_report_pdf", args=["2026-03"])
    assert "<11" in "".join(text_of(client.get(url + "?suppress=0").content))


def test_a_clinician_may_download_a_portal_user_may_not(client, cliff, pam, month, at_now):
    url = reverse("analytics_report_pdf", args=["2026-03"])
    client.force_login(cliff)
    assert client.get(url).status_code == 200
    client.force_login(pam)
    assert client.get(url).status_code == 403


def test_a_mistyped_month_is_a_sentence(client, ada, month, at_now):
    client.force_login(ada)
    response = client.get("/analytics/report/2026-13.pdf")
    assert response.status_code == 422
    assert "Write the month as YYYY-MM" in response.content.decode()


# ---- the command --------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("analytics", *args, stdout=out)
    return out.getvalue()


def test_the_command_writes_the_report(month, tmp_path):
    out = tmp_path / "report.pdf"
    said = run("report", "--month", "2026-03", "--out", str(out))
    assert "March 2026" in said and str(out) in said
    pages = text_of(out.read_bytes())
    assert len(pages) == len(PAGES) and "<11" not in "".join(pages)
    run("report", "--month", "2026-03", "--out", str(out), "--suppress")
    assert "<11" in "".join(text_of(out.read_bytes()))
    entry = AuditEntry.objects.filter(action="analytics.report_written").last()
    assert entry.actor is None and entry.channel == "cli"


def test_the_command_refuses_a_bad_month(month, tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM"):
        run("report", "--month", "March", "--out", str(tmp_path / "r.pdf"))


def test_the_command_rebuilds_the_facts_with_progress(month):
    said = run("rebuild")
    assert "18 of 18 referrals" in said and "Rebuilt the analytics facts of 18 referrals." in said


def test_the_command_queues_a_months_scorecards_once(month):
    listed = run("scorecards", "--month", "2026-03")
    assert "Prairie Family Medicine: 12 referrals" in listed and "--queue" in listed
    assert not Message.objects.exists()
    first = run("scorecards", "--month", "2026-03", "--queue")
    assert "1 queued, 0 already queued" in first
    second = run("scorecards", "--month", "2026-03", "--queue")
    assert "0 queued, 1 already queued" in second
    message = Message.objects.get()
    assert message.rule == "referrer.monthly_scorecard" and "March 2026" in message.subject


def test_months_the_data_covers_only_in_part_are_not_compared(cora, spine):
    h = History(cora, spine)
    h.referral("2026-02-17 09:00", ("contact", 3))  # the data starts mid-February
    h.referral("2026-03-02 09:00", ("contact", 2))
    h.rebuild()
    found = report.build(MARCH, now=NOW)
    headline = section(found, "Headline figures")
    table = headline.parts[0]
    assert table.headers[1:] == [
        "March 2026",
        "February 2026: not compared",
        "March 2025: not compared",
    ]
    received = next(row for row in table.rows if row[0] == "Referrals received")
    assert received[1:] == ["1", "–", "–"]  # not "1 against 1 in February"
    assert "the data starts on 17 Feb 2026" in headline.intro


def test_the_current_month_is_reported_to_date_and_not_compared(cora, spine):
    h = History(cora, spine)
    h.referral("2025-01-15 09:00", ("contact", 3))
    h.referral("2026-03-02 09:00", ("contact", 2))
    h.rebuild()
    found = report.build(MARCH, now=local("2026-03-05 10:00"))
    headline = section(found, "Headline figures")
    assert headline.parts[0].headers[1] == "March 2026 (1–5 Mar, partial)"
    assert headline.parts[0].headers[2] == "February 2026: not compared"
    assert "this month is counted only to date" in headline.intro


def test_the_funnel_shows_milestones_that_only_go_down_then_the_detours(month):
    rows = section(report.build(MARCH, now=NOW), "Funnel").parts[0].rows
    stages = [row[0] for row in rows]
    # 15 received, 2 accepted, scheduled and seen; none closed; no detour taken in March.
    assert stages == ["Received", "Accepted", "Scheduled", "Seen", "Loop closed"]
    assert [row[1] for row in rows] == ["15", "2", "2", "2", "0"]
