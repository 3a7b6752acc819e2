"""Referrer scorecards on a small history whose figures are worked out here by hand.

March 2026 in the practice's time zone (America/Chicago; daylight saving starts 8 March,
so hours are elapsed hours). Practice A (provider PA), practice B (provider PB), C (PC,
no address on file) and one self-referral:

A0  received 15 Oct 2025: nothing since (only in the 12 months and the trend)
A4  received 25 Feb 09:00: accepted +1, scheduled +2 (visit +120 = 2 Mar), seen +120,
    loop closed +320 (report 200 h after the visit: not within 7 days)
A1  received 2 Mar 09:00: contact +4, accepted +5, scheduled +6 (visit +120), seen +120,
    loop closed +144 (report 24 h after the visit)
A2  received 10 Mar 09:00: contact +10, accepted +11, scheduled +12 (visit +48), no-show +48
A3  received 20 Mar 09:00: contact +2; still open
A5  received 1 Apr 00:00: outside March and outside the 12 months to March
B1  received 5 Mar 09:00: accepted +1, scheduled +2 (visit +72), seen +72, closed +96
C1  received 6 Mar 09:00: nothing since
S1  received 15 Mar 09:00, self: contact +1, cancelled +3

Practice A in March: 3 referrals (A1-A3); seen 1 of 3; first contact [2, 4, 10] median 4;
appointment [48, 120] median 84; seen in March A4 and A1: report [24, 200] median 112,
closed within 7 days 1 of 2; appointments in March A4 attended, A1 attended, A2 no-show:
show rate 2 of 3.

All referrers in March: 6 referrals (A1-A3, B1, C1, S1); seen 2 of 6 (A1, B1); first
contact [1, 2, 4, 10] median 3; appointment [48, 72, 120] median 72; seen in March A4, A1,
B1: report [24, 24, 200] median 24, closed 2 of 3; show rate 3 of 4 (A4, A1, B1; A2 missed).
"""

import datetime as dt
import io

import pypdfium2
import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from refloop.analytics import pdf, scorecards
from refloop.analytics.metrics import Period
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging import automation
from refloop.messaging.dispatch import dispatch_all_due
from refloop.messaging.models import Message, RuleSetting, Status
from tests.analytics.history import History, local

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
# The first week of April, 10:00 in Chicago: the monthly send's time.
NOW = local("2026-04-02 10:00")
PATIENT = {"first_name": "Zephyrine", "last_name": "Quillfeather"}
RULE = "referrer.monthly_scorecard"


def sched(hours, visit):
    return ("scheduled", hours, {"appointment_hours": visit})


@pytest.fixture(autouse=True)
def _transports(settings, tmp_path):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.FAX_OUTBOX_DIR = tmp_path / "fax"
    settings.LETTER_DIR = tmp_path / "letters"


@pytest.fixture
def network(cora, spine):
    a = f.PracticeFactory(
        name="Prairie Family Medicine", email="office@prairie.example", preferred_channel="email"
    )
    b = f.PracticeFactory(name="Riverside Internal Medicine")  # a fax number, no email
    c = f.PracticeFactory(name="Quiet Hollow Clinic", fax="", phone="", email="", address="")
    f.PracticeFactory(name="Never Referred Clinic")
    pa, pb, pc = (f.ProviderFactory(practice=p, email="", fax="") for p in (a, b, c))
    h = History(cora, spine)
    h.referral("2025-10-15 09:00", provider=pa)
    h.referral(
        "2026-02-25 09:00",
        ("accepted", 1),
        sched(2, 120),
        ("seen", 120),
        ("loop_closed", 320),
        provider=pa,
    )
    h.referral(
        "2026-03-02 09:00",
        ("contact", 4),
        ("accepted", 5),
        sched(6, 120),
        ("seen", 120),
        ("loop_closed", 144),
        provider=pa,
        patient=f.patient_data(**PATIENT),
    )
    h.referral(
        "2026-03-10 09:00",
        ("contact", 10),
        ("accepted", 11),
        sched(12, 48),
        ("no_show", 48),
        provider=pa,
    )
    h.referral("2026-03-20 09:00", ("contact", 2), provider=pa)
    h.referral("2026-04-01 00:00", provider=pa)
    h.referral(
        "2026-03-05 09:00",
        ("accepted", 1),
        sched(2, 72),
        ("seen", 72),
        ("loop_closed", 96),
        provider=pb,
    )
    h.referral("2026-03-06 09:00", provider=pc)
    h.referral("2026-03-15 09:00", ("contact", 1), ("cancelled", 3), source="self")
    h.rebuild()
    return {"a": a, "b": b, "c": c}


def card_for(practice) -> scorecards.Scorecard:
    return scorecards.build(practice, MARCH, now=NOW)


def pdf_text(content: bytes) -> tuple[int, str]:
    document = pypdfium2.PdfDocument(io.BytesIO(content))
    return len(document), "\n".join(page.get_textpage().get_text_range() for page in document)


# ---- the figures ----------------------------------------------------------------------


def test_a_practices_figures_are_about_the_patients_it_sent(network):
    mine = card_for(network["a"]).mine
    assert (mine.referrals, mine.seen) == (3, 1)
    assert mine.conversion == pytest.approx(1 / 3)
    assert (mine.contacted, mine.median_hours_to_first_contact) == (3, pytest.approx(4))
    assert (mine.booked, mine.median_hours_to_appointment) == (2, pytest.approx(84))
    # Report time is over the patients seen in March (A4 from February included).
    assert (mine.reported, mine.median_hours_to_report) == (2, pytest.approx(112))
    assert (mine.attended, mine.appointments) == (2, 3)
    assert (mine.seen_in_period, mine.closed_within_7_days) == (2, 1)
    assert mine.loop_closure == 0.5


def test_the_comparison_is_every_referral_the_practice_received(network):
    everyone = card_for(network["a"]).everyone
    assert (everyone.referrals, everyone.seen) == (6, 2)
    assert everyone.median_hours_to_first_contact == pytest.approx(3)
    assert everyone.median_hours_to_appointment == pytest.approx(72)
    assert everyone.median_hours_to_report == pytest.approx(24)
    assert (everyone.attended, everyone.appointments) == (3, 4)
    assert (everyone.seen_in_period, everyone.closed_within_7_days) == (2 + 1, 2)


def test_twelve_months_of_context_and_the_monthly_trend(network):
    card = card_for(network["a"])
    assert card.year == Period(dt.date(2025, 4, 1), dt.date(2026, 4, 1))
    assert card.mine_year.referrals == 5  # A0, A4, A1, A2, A3: not A5 in April
    assert card.everyone_year.referrals == 8
    # The history starts in October 2025: the months before it have no data, and say so.
    assert card.trend_labels[0] == "Apr 2025 (no data)" and card.trend_labels[-1] == "Mar 2026"
    assert 0 in card.trend_partial and 11 not in card.trend_partial
    trend = dict(card.trend)
    assert (trend[202510], trend[202602], trend[202603]) == (1, 1, 3)
    assert sum(trend.values()) == 5


def test_the_table_in_words_with_counts_beside_each_share(network):
    rows = {row.label: row.cells for row in card_for(network["a"]).rows}
    assert rows["Referrals received"] == ("3", "6", "5", "8")
    assert rows["Seen by us"][:2] == ("33% (1 of 3)", "33% (2 of 6)")
    assert rows["Time to first contact"][:2] == ("4.0 hours", "3.0 hours")
    assert rows["Time to appointment"][:2] == ("3.5 days", "3.0 days")
    assert rows["Time to report"][:2] == ("4.7 days", "24.0 hours")
    assert rows["Show rate"][:2] == ("67% (2 of 3)", "75% (3 of 4)")
    assert rows["Loop closed within 7 days"][:2] == ("50% (1 of 2)", "67% (2 of 3)")


def test_few_referrals_are_said_not_hidden(network):
    card = card_for(network["a"])
    assert card.small and card.note == "Figures based on fewer than 11 referrals vary a lot."
    assert card.mine.referrals == 3


def test_the_default_period_is_the_last_full_local_month(org):
    assert scorecards.last_full_month(local("2026-04-01 00:30")) == MARCH
    # 1 April 03:00 UTC is still 31 March in Chicago.
    late = dt.datetime(2026, 4, 1, 3, 0, tzinfo=dt.UTC)
    assert scorecards.last_full_month(late) == Period(dt.date(2026, 2, 1), MARCH.start)


def test_a_month_is_written_yyyy_mm(db):
    assert scorecards.parse_month("2026-12") == Period(dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    for bad in ("2026-13", "March", "2026-3", ""):
        with pytest.raises(Exception, match="YYYY-MM"):
            scorecards.parse_month(bad)


# ---- the PDF ------------------------------------------------------------------------------


def test_the_pdf_is_one_page_with_the_practice_and_its_figures(network):
    pages, text = pdf_text(pdf.scorecard_pdf(card_for(network["a"])))
    assert pages == 1
    for expected in (
        "Prairie Family Medicine",
        "March 2026",
        "33% (1 of 3)",
        "67% (2 of 3)",
        "50% (1 of 2)",
        "4.7 days",
        "Figures based on fewer than 11 referrals vary a lot.",
        "All referrers",
    ):
        assert expected in text, expected
    assert "Quillfeather" not in text and "R-" not in text


# ---- the monthly send ---------------------------------------------------------------------


def test_the_monthly_send_queues_one_scorecard_per_practice_that_referred(network):
    assert automation.send_monthly_scorecards(now=NOW) == 3
    rows = {m.recipient: m for m in Message.objects.filter(rule=RULE)}
    a, b, c = network["a"], network["b"], network["c"]
    assert set(rows) == {f"practice:{p.pk}" for p in (a, b, c)}  # not the one that never referred
    by_email, by_fax, nowhere = (rows[f"practice:{p.pk}"] for p in (a, b, c))
    assert (by_email.channel, by_email.address, by_email.status) == (
        "email",
        "office@prairie.example",
        Status.DUE,
    )
    assert "March 2026" in by_email.subject and "Attached is your scorecard" in by_email.body
    assert by_email.clinical is False and by_email.referral_id is None
    assert by_fax.channel == "fax" and by_fax.status == Status.DUE
    assert nowhere.status == Status.CANCELLED
    assert nowhere.reason == "No way to reach the recipient is on file."
    # The PDF is drawn when the message leaves, for the practice and month of the row.
    ((name, content, mimetype),) = automation.attachments_for(by_email, now=NOW)
    assert (name, mimetype) == ("referral-scorecard-2026-03.pdf", "application/pdf")
    assert "Prairie Family Medicine" in pdf_text(content)[1]


def test_the_email_carries_the_pdf_and_the_fax_its_pages(network, settings):
    automation.send_monthly_scorecards(now=NOW)
    dispatch_all_due(now=NOW)
    assert set(Message.objects.filter(rule=RULE).values_list("status", flat=True)) == {
        Status.SENT,
        Status.CANCELLED,
    }
    (email,) = mail.outbox
    assert email.to == ["office@prairie.example"]
    ((name, content, mimetype),) = email.attachments
    assert (name, mimetype) == ("referral-scorecard-2026-03.pdf", "application/pdf")
    pages, text = pdf_text(content)
    assert pages == 1 and "Prairie Family Medicine" in text and "33% (1 of 3)" in text
    fax = Message.objects.get(rule=RULE, recipient=f"practice:{network['b'].pk}")
    pages, text = pdf_text((settings.FAX_OUTBOX_DIR / f"refloop-message-{fax.pk}.pdf").read_bytes())
    assert pages == 2  # the cover with the message, then the scorecard
    assert "Pages: 2 including this cover" in text
    assert "Riverside Internal Medicine" in text and "Referral scorecard" in text


def test_a_letter_carries_the_scorecard_after_the_letter(network, settings):
    practice = network["b"]
    practice.fax, practice.address, practice.city = "", "1 Main St", "Springfield"
    practice.save()
    automation.send_monthly_scorecards(now=NOW)
    dispatch_all_due(now=NOW)
    letter = Message.objects.get(rule=RULE, recipient=f"practice:{practice.pk}")
    assert (letter.channel, letter.status) == ("letter", Status.SENT)
    pages, text = pdf_text((settings.LETTER_DIR / f"refloop-message-{letter.pk}.pdf").read_bytes())
    assert pages == 2 and "Referral scorecard" in text


def test_running_the_sweep_again_queues_nothing_more(network):
    assert automation.send_monthly_scorecards(now=NOW) == 3
    assert automation.send_monthly_scorecards(now=NOW + dt.timedelta(hours=3)) == 0
    assert automation.send_monthly_scorecards(now=NOW + dt.timedelta(days=2)) == 0
    assert Message.objects.filter(rule=RULE).count() == 3


def test_the_existing_monthly_sweep_sends_the_scorecards_too(network):
    automation.send_monthly_digests(now=NOW)
    assert Message.objects.filter(rule=RULE).count() == 3


def test_a_rule_switched_off_queues_nothing(network):
    RuleSetting.objects.create(key=RULE, enabled=False, updated_at=NOW)
    assert automation.send_monthly_scorecards(now=NOW) == 0
    automation.send_monthly_digests(now=NOW)
    assert not Message.objects.filter(rule=RULE).exists()


def test_the_send_is_retimed_after_the_month_begins(network):
    # 30 hours after midnight on the 1st: 06:00 on 2 April, Chicago time.
    RuleSetting.objects.create(key=RULE, offset_minutes=30 * 60, updated_at=NOW)
    early = local("2026-04-01 08:00")
    automation.send_monthly_scorecards(now=early)
    message = Message.objects.get(rule=RULE, recipient=f"practice:{network['a'].pk}")
    assert message.due_at == local("2026-04-02 08:00")  # 06:00 is quiet hours: 08:00


def test_nothing_is_sent_after_the_first_week(network):
    assert automation.send_monthly_scorecards(now=local("2026-04-08 10:00")) == 0


# ---- the pages ----------------------------------------------------------------------------


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def scorecard_url(practice, **params):
    url = reverse("analytics_scorecard", args=[practice.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_the_page_shows_last_month_against_all_referrers(client, ada, network, at_now):
    client.force_login(ada)
    page = client.get(scorecard_url(network["a"])).content.decode()
    assert "Referral scorecard: Prairie Family Medicine" in page
    assert "March 2026" in page and "33% (1 of 3)" in page and "75% (3 of 4)" in page
    assert "Figures based on fewer than 11 referrals vary a lot." in page
    assert 'class="chart"' in page  # the charts, with their numbers as tables
    assert "Quillfeather" not in page
    assert reverse("analytics_scorecard_pdf", args=[network["a"].pk]) in page


def test_the_page_takes_a_period(client, ada, network, at_now):
    client.force_login(ada)
    page = client.get(scorecard_url(network["a"], start="2026-02-01", end="2026-04-01"))
    text = page.content.decode()
    assert page.status_code == 200 and "1 Feb 2026 to 31 Mar 2026" in text
    # Two months: A4 (February) counts among the practice's 4 referrals, seen 2 of 4.
    assert "50% (2 of 4)" in text


def test_a_bad_period_is_a_sentence_to_fix(client, ada, network, at_now):
    client.force_login(ada)
    response = client.get(scorecard_url(network["a"], start="2026-04-01", end="2026-03-01"))
    assert response.status_code == 422
    assert "end must be after start" in response.content.decode()


def test_the_index_lists_practices_with_last_months_volume(client, lia, network, at_now):
    client.force_login(lia)
    page = client.get(reverse("analytics_scorecards")).content.decode()
    assert page.index("Prairie Family Medicine") < page.index("Never Referred Clinic")
    assert scorecard_url(network["a"]) in page
    assert reverse("analytics_report_pdf", args=["2026-03"]) in page


def test_the_pdf_download_is_one_page(client, andy, network, at_now):
    client.force_login(andy)
    response = client.get(reverse("analytics_scorecard_pdf", args=[network["a"].pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "scorecard-prairie-family-medicine-2026-03.pdf" in response["Content-Disposition"]
    pages, text = pdf_text(response.content)
    assert pages == 1 and "Prairie Family Medicine" in text


def test_a_portal_user_is_refused_everywhere(client, pam, network, at_now):
    client.force_login(pam)
    a = network["a"]
    for url in (
        reverse("analytics_scorecards"),
        scorecard_url(a),
        reverse("analytics_scorecard_pdf", args=[a.pk]),
        reverse("analytics_report_pdf", args=["2026-03"]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("analytics_scorecard_send", args=[a.pk])).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="analytics.").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, network):
    response = client.get(scorecard_url(network["a"]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_analyst_may_view_but_not_send(client, andy, network, at_now):
    client.force_login(andy)
    page = client.get(scorecard_url(network["a"]))
    assert page.status_code == 200
    assert "Send the March 2026 scorecard now" not in page.content.decode()
    send = reverse("analytics_scorecard_send", args=[network["a"].pk])
    assert client.post(send).status_code == 403
    assert not Message.objects.filter(rule=RULE).exists()


def test_send_now_queues_once_and_says_so_the_second_time(client, ada, network, at_now):
    client.force_login(ada)
    a = network["a"]
    page = client.get(scorecard_url(a)).content.decode()
    assert "Send the March 2026 scorecard now" in page
    assert "It would go by email to office@prairie.example" in page
    send = reverse("analytics_scorecard_send", args=[a.pk])
    first = client.post(send, follow=True).content.decode()
    assert "was queued to go by email to office@prairie.example" in first
    second = client.post(send, follow=True).content.decode()
    assert "was already queued" in second
    assert Message.objects.filter(rule=RULE).count() == 1
    entries = AuditEntry.objects.filter(action="analytics.scorecard_queued").order_by("pk")
    assert [e.detail["already_queued"] for e in entries] == [False, True]


def test_send_now_without_an_address_offers_the_download(client, ada, network, at_now):
    client.force_login(ada)
    c = network["c"]
    page = client.get(scorecard_url(c)).content.decode()
    assert "No way to reach the recipient is on file." in page
    assert "to send it yourself" in page
    answer = client.post(reverse("analytics_scorecard_send", args=[c.pk]), follow=True)
    text = answer.content.decode()
    assert "could not be queued" in text and "Download the March 2026 scorecard" in text
    message = Message.objects.get(rule=RULE)
    assert (message.status, message.reason) == (
        Status.CANCELLED,
        "No way to reach the recipient is on file.",
    )


def test_send_now_when_the_rule_is_off_says_so(client, ada, network, at_now):
    RuleSetting.objects.create(key=RULE, enabled=False, updated_at=NOW)
    client.force_login(ada)
    answer = client.post(reverse("analytics_scorecard_send", args=[network["a"].pk]), follow=True)
    assert "switched off under Message settings" in answer.content.decode()
    assert not Message.objects.exists()


def test_views_and_downloads_are_audited_without_patient_data(client, andy, network, at_now):
    client.force_login(andy)
    a = network["a"]
    client.get(scorecard_url(a))
    client.get(reverse("analytics_scorecard_pdf", args=[a.pk]))
    client.get(reverse("analytics_scorecards"))
    viewed = AuditEntry.objects.get(action="analytics.scorecard_viewed")
    downloaded = AuditEntry.objects.get(action="analytics.scorecard_downloaded")
    for entry in (viewed, downloaded):
        assert entry.actor == andy
        assert (entry.object_type, entry.object_id) == ("practice", str(a.pk))
        assert entry.patient_id is None and entry.referral_id is None
        assert entry.detail == {"start": "2026-03-01", "end": "2026-04-01"}
    assert AuditEntry.objects.filter(action="analytics.scorecards_listed").count() == 1


def test_an_unknown_practice_is_not_found(client, ada, network, at_now):
    client.force_login(ada)
    assert client.get(reverse("analytics_scorecard", args=[999_999])).status_code == 404


def test_an_analysts_scorecard_hides_small_cells_by_the_exports_rule(client, andy, network, at_now):
    client.force_login(andy)
    page = client.get(scorecard_url(network["a"])).content.decode()
    # Practice A sent 3 in March, 5 in the year: each is written <11, every share and
    # median resting on them "suppressed"; nothing exact about the practice remains.
    assert "33% (1 of 3)" not in page and "67% (2 of 3)" not in page
    assert page.count("&lt;11") >= 4 and "suppressed" in page
    assert 'class="chart"' not in page  # a chart would draw the small counts
    response = client.get(reverse("analytics_scorecard_pdf", args=[network["a"].pk]))
    pages, text = pdf_text(response.content)
    assert pages == 1 and "<11" in text and "1 of 3" not in text
    assert "month by month" not in text


def test_others_see_the_exact_scorecard(network):
    rows = {row.label: row.cells for row in card_for(network["a"]).rows}
    suppressed = scorecards.build(network["a"], MARCH, now=NOW, suppressed=True)
    hidden = {row.label: row.cells for row in suppressed.rows}
    assert rows["Referrals received"] == ("3", "6", "5", "8")
    assert hidden["Referrals received"] == ("<11", "<11", "<11", "<11")
    assert set(hidden["Seen by us"]) == {"suppressed"}
