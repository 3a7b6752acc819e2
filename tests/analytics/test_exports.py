"""Exports of the analytics tables: small-cell suppression (the rule worked through by
hand), the CSV and XLSX files, and who may download them.

The history for the downloads is March 2026 in the practice's time zone: twelve
referrals by fax from Dr A of Prairie Family Medicine, three of them seen ($120 each);
and three self-referrals by phone, one of them declined. An analyst's export shows the
three self-referrals as "<11"; a coordinator's shows 3.
"""

import csv
import io
import zipfile

import pytest
import time_machine
from django.urls import reverse
from python_calamine import CalamineWorkbook

from refloop.analytics import dashboard, suppression
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.analytics.suppression import SMALL, SUPPRESSED, Basis, Cell, Total, hide
from refloop.analytics.tables import TABLES, suppress, tables
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from tests.analytics.history import History, local

MARCH = {"start": "2026-03-01", "end": "2026-04-01"}


def row(*values, table="t", r=0) -> dict[Cell, object]:
    return {Cell(table, r, c): v for c, v in enumerate(values)}


def c(r: int, col: int, table="t") -> Cell:
    return Cell(table, r, col)


# ---- the rule, unit by unit -----------------------------------------------------------


def test_counts_of_one_to_ten_are_small_and_zero_is_not():
    assert [n for n in range(-1, 13) if suppression.is_small(n)] == list(range(1, 11))
    assert not suppression.is_small(None)


def test_a_small_count_reads_less_than_eleven_and_zero_stays_zero():
    values = row(0, 1, 10, 11, None, 250)
    assert hide(values, values, {}, []) == {c(0, 1): SMALL, c(0, 2): SMALL}


def test_a_figure_over_a_small_or_unknown_count_is_suppressed():
    values = row(40, 0.25, 7.5, 3.0, 12.0, None)
    derived = {
        c(0, 1): Basis(counts=(10, 40)),  # 10 of 40: the numerator is small
        c(0, 2): Basis(counts=(11,)),  # a median over 11: shown
        c(0, 3): Basis(counts=(None,)),  # over a count nobody gave: hidden
        c(0, 4): Basis(counts=(0, 30)),  # over 0 and 30: shown
        c(0, 5): Basis(counts=(3,)),  # no figure at all: nothing to hide
    }
    assert hide(values, [c(0, 0)], derived, []) == {c(0, 1): SUPPRESSED, c(0, 3): SUPPRESSED}


def test_a_figure_computed_from_a_hidden_cell_is_suppressed():
    # seen 4 of 40 referrals: the rate would give the 4 back.
    values = row(40, 4, 0.1)
    hidden = hide(values, [c(0, 0), c(0, 1)], {c(0, 2): Basis(cells=(c(0, 0), c(0, 1)))}, [])
    assert hidden == {c(0, 1): SMALL, c(0, 2): SUPPRESSED}


def test_one_small_cell_in_a_row_with_a_total_hides_the_next_smallest_nonzero_cell():
    # provider 25, patient 4, self 0, marketing 13, other 30; total 72. Alone, the 4
    # would be 72 - 25 - 0 - 13 - 30. The next smallest is the 0, but a hidden zero gives
    # the 4 back to whoever guesses it, so the 13 goes.
    values = row(25, 4, 0, 13, 30, 72)
    parts = [c(0, i) for i in range(5)]
    hidden = hide(values, values, {}, [Total(c(0, 5), tuple(parts))])
    assert hidden == {c(0, 1): SMALL, c(0, 3): SUPPRESSED}


def test_two_small_cells_in_a_row_protect_each_other():
    values = row(25, 4, 6, 30, 65)
    hidden = hide(values, values, {}, [Total(c(0, 4), tuple(c(0, i) for i in range(4)))])
    assert hidden == {c(0, 1): SMALL, c(0, 2): SMALL}


def test_a_small_total_needs_no_complement():
    values = row(7, 0, 0, 7)
    hidden = hide(values, values, {}, [Total(c(0, 3), (c(0, 0), c(0, 1), c(0, 2)))])
    assert hidden == {c(0, 0): SMALL, c(0, 3): SMALL}


def test_complements_cascade_through_rows_and_columns():
    # Worked example: a 2 x 2 table with its margins.
    #            spine  hand | total
    #   March        3    20 |    23
    #   April       15    12 |    27
    #   total       18    32 |    50
    # The 3 is small. Row March: its complement is the 20. Column spine: the 15. Then
    # column hand has one hidden cell (the 20): the 12 goes too. Every margin stays.
    values = {
        **row(3, 20, 23, r=0),
        **row(15, 12, 27, r=1),
        **row(18, 32, 50, r=2),
    }
    totals = [
        Total(c(0, 2), (c(0, 0), c(0, 1))),
        Total(c(1, 2), (c(1, 0), c(1, 1))),
        Total(c(2, 2), (c(2, 0), c(2, 1))),
        Total(c(2, 0), (c(0, 0), c(1, 0))),
        Total(c(2, 1), (c(0, 1), c(1, 1))),
        Total(c(2, 2), (c(0, 2), c(1, 2))),
    ]
    hidden = hide(values, values, {}, totals)
    assert hidden == {
        c(0, 0): SMALL,
        c(0, 1): SUPPRESSED,
        c(1, 0): SUPPRESSED,
        c(1, 1): SUPPRESSED,
    }


def test_a_rate_next_to_a_complementary_cell_is_suppressed_too():
    # attended 4, no-show 20, appointments 24, show rate 4/24. The 4 is small; the 20
    # is its complement; the rate would give either back.
    values = row(4, 20, 24, 4 / 24)
    hidden = hide(
        values,
        [c(0, 0), c(0, 1), c(0, 2)],
        {c(0, 3): Basis(cells=(c(0, 0), c(0, 2)))},
        [Total(c(0, 2), (c(0, 0), c(0, 1)))],
    )
    assert hidden == {c(0, 0): SMALL, c(0, 1): SUPPRESSED, c(0, 3): SUPPRESSED}


def test_a_figure_shown_in_two_tables_is_hidden_in_both():
    # The summary's 30 no-shows is the show-rate table's 30, whose row complement it is.
    values = {Cell("summary", 0, 0): 30, **row(5, 30, 35, table="show")}
    tie = Total(Cell("summary", 0, 0), (Cell("show", 0, 1),))
    hidden = hide(
        values, values, {}, [Total(c(0, 2, "show"), (c(0, 0, "show"), c(0, 1, "show"))), tie]
    )
    assert hidden == {
        c(0, 0, "show"): SMALL,
        c(0, 1, "show"): SUPPRESSED,
        Cell("summary", 0, 0): SUPPRESSED,
    }


def test_a_lone_hidden_part_with_nothing_left_to_hide_takes_its_total():
    # "Other practices" 40 (0, 0) is the sum of one practice's 40 (0, 1), which a
    # complement hides (40 + 3 = 43): the only cell left to hide is the 40 it adds up to.
    values = {c(0, 0): 40, c(0, 1): 40, c(1, 0): 3, c(1, 1): 43}
    totals = [Total(c(1, 1), (c(0, 1), c(1, 0))), Total(c(0, 0), (c(0, 1),))]
    assert hide(values, values, {}, totals) == {
        c(1, 0): SMALL,
        c(0, 1): SUPPRESSED,
        c(0, 0): SUPPRESSED,
    }


def test_a_hidden_subtotal_whose_parts_are_all_shown_takes_one_of_them():
    # Flows: Prairie to Spine 30 and to Hand 12 make Prairie's 42; with Self's 3 the
    # grand total is 45. The 3 would be 45 - 42, so the 42 goes; the 42 would be
    # 30 + 12, so its smaller part, the 12, goes as well. The 30 stays.
    values = {c(0, 2): 30, c(1, 2): 12, c(2, 2): 42, c(3, 2): 3, c(4, 2): 45}
    totals = [
        Total(c(2, 2), (c(0, 2), c(1, 2))),
        Total(c(4, 2), (c(2, 2), c(3, 2))),
    ]
    assert hide(values, values, {}, totals) == {
        c(3, 2): SMALL,
        c(2, 2): SUPPRESSED,
        c(1, 2): SUPPRESSED,
    }


# ---- the tables of a dashboard ----------------------------------------------------------


@pytest.fixture
def spring(cora, spine, hand, practice_a):
    h = History(cora, spine)
    dr_a = f.ProviderFactory(practice=practice_a)
    for day in range(1, 13):
        steps = ()
        if day <= 3:
            steps = (
                ("contact", 2),
                ("accepted", 3),
                ("scheduled", 4, {"appointment_hours": 100}),
                ("seen", 100, {"visit_value": "120.00"}),
            )
        h.referral(f"2026-03-{day:02d} 09:00", *steps, provider=dr_a)
    h.referral("2026-03-20 10:00", source="self", channel="phone", department=hand)
    h.referral("2026-03-21 10:00", source="self", channel="phone", department=hand)
    h.referral(
        "2026-03-22 10:00",
        ("in_review", 1),
        ("declined", 2),
        source="self",
        channel="phone",
        department=hand,
    )
    h.rebuild()


def march_tables(**filters):
    period = Period(local("2026-03-01 00:00").date(), local("2026-04-01 00:00").date())
    scope = Scope.of(period, Filters(**filters), now=local("2026-05-01 12:00"))
    return {t.key: t for t in tables(dashboard.build(scope))}


def test_every_dashboard_table_is_exported_in_order(spring):
    found = march_tables()
    assert list(found) == list(TABLES)
    for table in found.values():
        assert len(table.title) <= 31
        assert all(len(r) == len(table.headers) for r in table.rows), table.key


def test_volume_by_source_type_suppresses_a_small_cell_and_its_complements(spring):
    exact = march_tables()["volume_by_source_type"]
    assert exact.headers == (
        "month",
        "provider",
        "patient",
        "self",
        "marketing",
        "other",
        "total",
        "days counted",
    )
    assert exact.rows == (
        ("2026-03", 12, 0, 3, 0, 0, 15, "whole month"),
        ("total", 12, 0, 3, 0, 0, 15, ""),
    )
    hidden = {t.key: t for t in suppress(list(march_tables().values()))}["volume_by_source_type"]
    # The 3 is small; the 12 beside it would give it back from the total of 15, and the
    # column total 12 would give the 12 back. The volume (15) stays.
    assert hidden.rows == (
        ("2026-03", SUPPRESSED, 0, SMALL, 0, 0, 15, "whole month"),
        ("total", SUPPRESSED, 0, SMALL, 0, 0, 15, ""),
    )
    assert hidden.suppressed and not exact.suppressed


def test_summary_figures_over_fewer_than_eleven_referrals_are_suppressed(spring):
    summary = {t.key: t for t in suppress(list(march_tables().values()))}["summary"]
    figures = {(metric, label): value for metric, label, value in summary.rows}
    assert figures[("volume", "referrals received")] == 15
    assert figures[("conversion", "referrals seen")] == SMALL
    assert figures[("conversion", "conversion rate")] == SUPPRESSED
    assert figures[("time_to_first_contact", "median hours")] == SUPPRESSED
    assert figures[("lost", "referrals lost")] == SMALL
    assert figures[("leakage", "outbound referrals sent")] == 0


def test_concentration_ranks_providers_without_naming_them(spring):
    table = march_tables()["concentration"]
    assert table.headers == ("rank", "referrals", "cumulative share", "in the top 20%")
    assert table.rows == ((1, 12, 1.0, "yes"), ("all", 12, None, ""))


def test_bottleneck_sentences_resting_on_small_counts_are_suppressed(spring):
    exact = march_tables()["bottlenecks"]
    assert exact.rows and all(isinstance(r[0], str) for r in exact.rows)
    hidden = {t.key: t for t in suppress(list(march_tables().values()))}["bottlenecks"]
    assert all(r == (SUPPRESSED,) for r in hidden.rows)


def test_bottleneck_sentences_on_large_counts_are_shown_to_analysts(spring):
    period = Period(local("2026-03-01 00:00").date(), local("2026-04-01 00:00").date())
    board = dashboard.build(Scope.of(period, now=local("2026-05-01 12:00")))
    board["bottlenecks"] = {
        "stage": "scheduled",
        "stages": [
            {
                "stage": "scheduled",
                "count": 14,
                "median_hours": 96.0,
                "previous_count": 12,
                "previous_median_hours": 50.0,
            }
        ],
        "sentences": [
            "The wait that grew most is for their appointment: a median 4.0 days, up from 2.1 (14 referrals).",
            "Most lost referrals are lost in review: 12 of 14, against 11 in the previous period.",
            "Referrals to Spine wait a median 5.0 days for their appointment, up from 2.0.",
        ],
        "lost_by_stage": {"in_review": 12, "received": 2},
        "previous_lost_by_stage": {"in_review": 11},
    }
    hidden = {t.key: t for t in suppress(tables(board))}["bottlenecks"]
    assert [r[0] for r in hidden.rows] == [*board["bottlenecks"]["sentences"][:2], SUPPRESSED]


def test_a_change_the_finder_names_rests_on_its_own_counts(spring):
    """A change is shown to analysts when the referrals before and since it and, for a
    rate, the events counted are all large or zero; a rate resting on a few no-shows is
    hidden."""
    period = Period(local("2026-03-01 00:00").date(), local("2026-04-01 00:00").date())
    board = dashboard.build(Scope.of(period, now=local("2026-05-01 12:00")))
    wait = "Since 9 Mar, referrals to Spine wait a median 3.1 days for first contact, up from 1.4 (SLA 48 h; 14 referrals affected)."
    missed = "Since 9 Mar, appointments at Northside end in a no-show 20% of the time, up from 0% (4 of 20 appointments)."
    change = {"over_sla": False, "sla_hours": None, "p": 0.001, "before": 0.0, "after": 0.2}
    board["bottlenecks"] = {
        "stage": "first_contact",
        "stages": [],
        "sentences": [wait, missed],
        "findings": [
            change
            | {"sentence": wait, "measure": "first_contact", "stage": "first_contact"}
            | {"count_before": 30, "count_after": 14, "events_before": None, "events_after": None},
            change
            | {"sentence": missed, "measure": "no_show", "stage": None}
            | {"count_before": 40, "count_after": 20, "events_before": 0, "events_after": 4},
        ],
        "lost_by_stage": {},
        "previous_lost_by_stage": {},
    }
    hidden = {t.key: t for t in suppress(tables(board))}["bottlenecks"]
    assert [r[0] for r in hidden.rows] == [wait, SUPPRESSED]


def test_a_median_over_fewer_than_eleven_referrals_is_suppressed(spring):
    period = Period(local("2026-03-01 00:00").date(), local("2026-04-01 00:00").date())
    board = dashboard.build(Scope.of(period, now=local("2026-05-01 12:00")))
    prairie = next(r for r in board["referrers"] if r["practice"] == "Prairie Family Medicine")
    assert 0 < prairie["contacted"] < 11
    hidden = {t.key: t for t in suppress(tables(board))}
    assert hidden["referrers"].rows[0][11] == SUPPRESSED
    # Over 11 or more (here, as if 12 were contacted), it is shown.
    prairie["contacted"] = 12
    for t in suppress(tables(board)):
        if t.key == "referrers":
            assert t.rows[0][11] == 2.0


# ---- the downloads --------------------------------------------------------------------


def download(client, user, name, **params):
    client.force_login(user)
    if name == "all":
        return client.get(reverse("analytics_export_xlsx"), params)
    return client.get(reverse("analytics_export_csv", args=[name]), params)


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_an_analysts_csv_shows_small_cells_as_less_than_eleven(client, spring, andy, cora):
    analyst = read_csv(download(client, andy, "volume_by_source_type", **MARCH))
    coordinator = read_csv(download(client, cora, "volume_by_source_type", **MARCH))
    assert analyst[0] == [
        "month",
        "provider",
        "patient",
        "self",
        "marketing",
        "other",
        "total",
        "days counted",
    ]
    assert analyst[1] == ["2026-03", "suppressed", "0", "<11", "0", "0", "15", "whole month"]
    assert coordinator[1] == ["2026-03", "12", "0", "3", "0", "0", "15", "whole month"]


def test_an_analyst_cannot_turn_suppression_off(client, spring, andy):
    rows = read_csv(download(client, andy, "volume_by_channel", **MARCH, suppress="0"))
    assert "<11" in rows[1]


def test_other_roles_may_ask_for_suppression(client, spring, cora):
    rows = read_csv(download(client, cora, "volume_by_channel", **MARCH, suppress="1"))
    assert "<11" in rows[1]


def test_csv_numbers_have_a_dot_decimal_and_the_file_a_dated_name(client, spring, cora):
    response = download(client, cora, "lost_by_outcome", **MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="refloop-lost-by-outcome-2026-03-01-to-2026-04-01.csv"'
    )
    rows = read_csv(response)
    assert rows[0] == ["outcome", "referrals", "share of lost"]
    assert ["declined", "1", "1"] in rows
    summary = read_csv(download(client, cora, "summary", **MARCH))
    assert ["conversion", "conversion rate", "0.2"] in summary


def test_without_dates_the_export_covers_the_last_twelve_months(client, spring, lia):
    with time_machine.travel(local("2026-05-01 12:00"), tick=False):
        response = download(client, lia, "funnel")
    assert response.status_code == 200
    assert "refloop-funnel-2025-05-02-to-2026-05-02.csv" in response["Content-Disposition"]


def test_the_xlsx_has_an_about_sheet_and_one_sheet_per_table(client, spring, andy):
    response = download(client, andy, "all", **MARCH, source_type="self")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="refloop-analytics-2026-03-01-to-2026-04-01.xlsx"'
    )
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["About", *TABLES.values()]
    about = {r[0]: r[1] for r in book.get_sheet_by_name("About").to_python()}
    assert str(about["Period from"]) == "2026-03-01"
    assert str(about["Period to (not included)"]) == "2026-04-01"
    assert about["Filter: source_type"] == "self"
    assert about["Small cells suppressed"].startswith("yes")
    assert "Generated at" in about
    volume = book.get_sheet_by_name(TABLES["volume_by_source_type"]).to_python()
    assert volume[0][:3] == ["month", "provider", "patient"]
    assert volume[1] == ["2026-03", 0, 0, "<11", 0, 0, "<11", "whole month"]
    assert isinstance(volume[1][1], int | float)


def test_the_xlsx_header_row_is_bold_and_numbers_are_numbers(client, spring, cora):
    response = download(client, cora, "all", **MARCH)
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    about = {r[0]: r[1] for r in book.get_sheet_by_name("About").to_python()}
    assert about["Small cells suppressed"].startswith("no")
    referrers = book.get_sheet_by_name(TABLES["referrers"]).to_python()
    practice = next(r for r in referrers if r[0] == "Prairie Family Medicine")
    assert practice[2] == 12 and practice[10] == 0.25
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        styles = archive.read("xl/styles.xml").decode()
        sheet = archive.read("xl/worksheets/sheet2.xml").decode()
    assert "<b/>" in styles
    first_header = sheet.split("<c ", 2)[1]
    assert ' s="1"' in first_header  # the bold format


def test_no_patient_appears_in_any_export(client, cora, spine):
    h = History(cora, spine)
    patient = f.patient_data(first_name="Zephyrine", last_name="Quillfeather")
    h.referral("2026-03-03 09:00", ("contact", 1), patient=patient)
    h.rebuild()
    response = download(client, cora, "all", **MARCH)
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    text = repr([book.get_sheet_by_name(name).to_python() for name in book.sheet_names])
    assert "Quillfeather" not in text and "Zephyrine" not in text
    for key in TABLES:
        assert b"Quillfeather" not in download(client, cora, key, **MARCH).content


def test_each_export_is_audited_without_patient_data(client, spring, andy):
    download(client, andy, "funnel", **MARCH, urgency="routine")
    download(client, andy, "all", **MARCH)
    csv_entry, xlsx_entry = AuditEntry.objects.filter(action="analytics.exported").order_by("pk")
    assert (csv_entry.actor, csv_entry.object_type, csv_entry.object_id) == (
        andy,
        "analytics_table",
        "funnel",
    )
    assert csv_entry.patient_id is None and csv_entry.referral_id is None
    assert csv_entry.detail == {
        "table": "funnel",
        "format": "csv",
        "start": "2026-03-01",
        "end": "2026-04-01",
        "filters": {"urgency": "routine"},
        "suppressed": True,
    }
    assert (xlsx_entry.object_id, xlsx_entry.detail["format"]) == ("all", "xlsx")


def test_liaisons_may_export_and_portal_users_may_not(client, spring, lia, pam):
    assert download(client, lia, "referrers", **MARCH).status_code == 200
    assert download(client, lia, "all", **MARCH).status_code == 200
    assert download(client, pam, "referrers", **MARCH).status_code == 403
    assert download(client, pam, "all", **MARCH).status_code == 403
    assert not AuditEntry.objects.filter(action="analytics.exported", actor=pam).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("analytics_export_xlsx"), MARCH)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_bad_start_answers_400_naming_it(client, org, cora):
    response = download(client, cora, "funnel", start="March", end="2026-04-01")
    assert response.status_code == 400
    assert response.content.decode().startswith("start is not a date")
    assert not AuditEntry.objects.filter(action="analytics.exported").exists()


def test_a_bad_filter_answers_400_naming_it(client, org, cora):
    response = download(client, cora, "all", **MARCH, urgency="soon")
    assert response.status_code == 400
    assert "urgency" in response.content.decode()


def test_an_unknown_table_is_not_found(client, org, cora):
    assert download(client, cora, "patients", **MARCH).status_code == 404


def test_a_complement_is_hidden_in_every_table_that_shows_it(client, spring, andy):
    # 15 referrals, 3 of them self-referrals: the 12 from Prairie is 15 - 3, so it is
    # hidden wherever it appears: by source type, by channel, among the referrers, in
    # the flows, as the top provider's count.
    response = download(client, andy, "all", **MARCH)
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))

    def sheet(key):
        return book.get_sheet_by_name(TABLES[key]).to_python()

    assert sheet("volume_by_source_type")[1][1:4] == ["suppressed", 0, "<11"]
    assert sheet("volume_by_channel")[1][5] == "suppressed"
    prairie = next(r for r in sheet("referrers") if r[0] == "Prairie Family Medicine")
    assert prairie[2] == "suppressed"
    assert ["Prairie Family Medicine", "Spine", "suppressed"] in sheet("flows")
    assert sheet("concentration")[1][:3] == [1, "suppressed", "suppressed"]
    assert ["volume", "referrals received", 15] in sheet("summary")


def test_text_that_looks_like_a_formula_stays_text(client, cora, spine):
    practice = f.PracticeFactory(name='=HYPERLINK("http://example.com")')
    h = History(cora, spine)
    h.referral("2026-03-03 09:00", provider=f.ProviderFactory(practice=practice))
    h.rebuild()
    rows = read_csv(download(client, cora, "segments", **MARCH))
    assert ["new", '\'=HYPERLINK("http://example.com")'] in rows
    response = download(client, cora, "all", **MARCH)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheets = [
            archive.read(name).decode() for name in archive.namelist() if "worksheets" in name
        ]
    assert not any("<f>" in sheet for sheet in sheets)
