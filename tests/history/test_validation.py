"""Checking a history file: every bad row, with the spreadsheet's line and what to fix."""

from datetime import date, datetime

import pytest

from refloop.demo import factories as f
from refloop.history.layout import COLUMN_NAMES, EXAMPLE_ROWS
from refloop.history.validation import check_file, column_letter
from refloop.referrals.models import State

from .conftest import NEW_NPI, csv_bytes, declined_row, good_row, local, xlsx_bytes

pytestmark = pytest.mark.usefixtures("practice_setup")


def problems(rows, **kwargs) -> list[tuple[int | None, str]]:
    checked = check_file(csv_bytes(rows, **kwargs), "history.csv")
    return [(e.line, e.message) for e in checked.errors]


def only_problem(rows) -> tuple[int, str]:
    found = problems(rows)
    assert len(found) == 1, found
    return found[0]


def test_good_rows_check_clean_and_parse_times_in_the_practice_zone():
    checked = check_file(csv_bytes([good_row(), declined_row()]), "history.csv")
    assert checked.errors == []
    first, second = checked.rows
    assert (first.line, second.line) == (2, 3)
    assert first.received_at == local("2025-03-04 09:30")
    assert first.state == State.LOOP_CLOSED
    assert second.state == State.DECLINED
    assert second.date_of_birth == date(1975, 11, 30)
    assert second.received_at == local("2025-03-10 13:45")


def test_the_template_rows_are_valid():
    rows = [dict(row) for row in EXAMPLE_ROWS]
    assert problems(rows) == []


def test_unknown_column_names_it_and_lists_the_known_ones():
    columns = [*COLUMN_NAMES, "favourite_colour"]
    (line, message), *_ = problems([good_row()], columns=columns)
    assert line == 1
    assert "'favourite_colour'" in message and "not in the layout" in message
    assert "referral_number, patient_last_name" in message


def test_missing_required_columns_are_reported_once_not_per_row():
    columns = [c for c in COLUMN_NAMES if c not in ("department", "patient_last_name")]
    found = problems([good_row()] * 5, columns=columns)
    assert found == [
        (
            1,
            "The header has no patient_last_name and department columns; add them (required "
            "columns: patient_last_name, patient_first_name, patient_date_of_birth, "
            "source_type, department, received_at).",
        )
    ]


def test_values_in_a_column_without_a_name_are_refused():
    header, line = csv_bytes([good_row()]).decode().splitlines()
    content = "\r\n".join([header + ",", line + ",surprise", line + ","]).encode()
    unnamed = column_letter(len(COLUMN_NAMES))  # the first column after the layout's
    assert problems_of(content) == [
        (
            1,
            f"Column {unnamed} has values but no name on line 1; give it one of the layout's "
            "names, or delete the column.",
        )
    ]
    beyond = "\r\n".join([header, line, line + ",,extra"]).encode()
    after = column_letter(len(COLUMN_NAMES) + 1)
    assert problems_of(beyond)[0][1].startswith(f"Column {after} has values but no name")


def problems_of(content: bytes) -> list[tuple[int | None, str]]:
    return [(e.line, e.message) for e in check_file(content, "history.csv").errors]


def test_header_names_are_matched_ignoring_case_and_spaces():
    columns = [f" {c.upper()} " for c in COLUMN_NAMES]
    assert problems([good_row()], columns=columns) == []


def test_unparseable_date_names_the_accepted_format_with_its_line():
    rows = [good_row(), good_row(), good_row(accepted_at="next tuesday")]
    line, message = only_problem(rows)
    assert line == 4
    assert message.startswith("accepted_at (next tuesday) is not a date and time;")
    assert "2025-03-04 09:30" in message and "03/04/2025" in message


def test_impossible_date_is_refused():
    line, message = only_problem([good_row(in_review_at="02/30/2025 10:00")])
    assert line == 2 and "in_review_at (02/30/2025 10:00) is not a real date" in message


def test_state_out_of_order_names_both_columns_and_times():
    row = good_row(in_review_at="2025-03-05 09:00", accepted_at="2025-03-04 10:00")
    assert only_problem([row]) == (
        2,
        "accepted_at (2025-03-04 10:00) is before in_review_at (2025-03-05 09:00); "
        "accepted comes after in review.",
    )


def test_a_skipped_step_says_which_column_would_join_them():
    row = declined_row(
        declined_at="", end_reason="", in_review_at="", scheduled_at="03/12/2025 10:00"
    )
    line, message = only_problem([row])
    assert line == 2
    assert "cannot go from received straight to scheduled" in message
    assert "fill in accepted_at" in message


def test_time_before_received_at_is_refused():
    line, message = only_problem([good_row(first_contact_at="2025-03-01 08:00")])
    assert line == 2
    assert message.startswith("first_contact_at (2025-03-01 08:00) is before received_at")


def test_a_terminal_state_followed_by_another_is_refused():
    row = declined_row(declined_at="03/10/2025 15:00", in_review_at="03/11/2025 09:00")
    line, message = only_problem([row])
    assert line == 2
    assert "in_review_at (2025-03-11 09:00) is after declined_at (2025-03-10 15:00)" in message
    assert "declined is final" in message


def test_two_terminal_states_are_refused():
    row = declined_row(cancelled_at="03/12/2025 10:00")
    line, message = only_problem([row])
    assert line == 2
    assert message.startswith("declined_at and cancelled_at are both filled in")


def test_rescheduled_needs_a_no_show_before_it():
    row = good_row(rescheduled_at="2025-03-07 09:00")
    line, message = only_problem([row])
    assert "rescheduled_at (2025-03-07 09:00) comes right after scheduled_at" in message
    assert "no_show_at" in message


def test_a_return_to_an_earlier_state_is_implied():
    # received -> in_review -> pending_info -> (in_review again) -> accepted: the file
    # keeps first times only, so pending_info is followed by accepted.
    row = good_row(pending_info_at="2025-03-04 12:00")
    checked = check_file(csv_bytes([row]), "history.csv")
    assert checked.errors == []
    accepted = next(step for step in checked.rows[0].steps if step[0] == State.ACCEPTED)
    assert accepted[3] == State.IN_REVIEW  # reached from review again


def test_npi_with_a_bad_check_digit():
    line, message = only_problem([good_row(referring_provider_npi="1234567890")])
    assert (line, message) == (2, "NPI 1234567890 fails its check digit; check for a typo.")


def test_npi_not_in_the_directory_needs_a_provider_name():
    line, message = only_problem([good_row(referring_provider_name="")])
    assert line == 2 and f"NPI {NEW_NPI} is not in the directory" in message


def test_npi_in_the_directory_needs_no_name(provider_a):
    row = good_row(referring_provider_npi=provider_a.npi, referring_provider_name="")
    assert problems([row]) == []


def test_a_provider_name_on_another_row_of_the_file_is_enough():
    rows = [good_row(), good_row(referring_provider_name="", patient_first_name="Ann")]
    assert problems(rows) == []


def test_provider_referral_needs_the_practice():
    line, message = only_problem([good_row(referring_practice="")])
    assert line == 2 and message.startswith("referring_practice is empty")


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("department", "cardiology", "department 'cardiology' is not a department here"),
        ("channel", "pigeon", "channel 'pigeon' is not allowed; use one of portal, web_form"),
        ("source_type", "friend", "source_type 'friend' is not a source type; use one of"),
        ("urgency", "asap", "urgency 'asap' is not allowed; use one of routine, urgent, stat"),
        (
            "appointment_outcome",
            "went_well",
            "appointment_outcome 'went_well' is not an outcome; use one of attended",
        ),
        ("coordinator", "nobody", "coordinator 'nobody' is not the username of an active"),
    ],
)
def test_unknown_values_list_what_is_allowed(column, value, expected):
    line, message = only_problem([good_row(), good_row(**{column: value})])
    assert line == 3
    assert expected in message


def test_unknown_department_lists_the_departments():
    _, message = only_problem([good_row(department="cardiology")])
    assert "(hand, spine)" in message


def test_department_by_name_or_code(cora):
    rows = [good_row(department="Hand & Upper Extremity"), good_row(department="SPINE")]
    checked = check_file(csv_bytes(rows), "history.csv")
    assert checked.errors == []


@pytest.mark.parametrize("value", ["-5", "lots", "$240"])
def test_visit_value_must_be_a_non_negative_number(value):
    line, message = only_problem([good_row(visit_value=value)])
    assert line == 2 and message.startswith(f"visit_value ({value})")


def test_visit_value_is_for_an_attended_visit():
    row = good_row(seen_at="", loop_closed_at="", appointment_outcome="")
    _, message = only_problem([row])
    assert message.startswith("visit_value is for an attended visit")


def test_appointment_columns_need_scheduled_at():
    _, message = only_problem([declined_row(visit_value="100")])
    assert "need scheduled_at" in message


def test_attended_outcome_needs_seen_at():
    row = good_row(seen_at="", loop_closed_at="", visit_value="")
    _, message = only_problem([row])
    assert message.startswith("appointment_outcome is attended but seen_at is empty")


def test_end_reason_must_match_the_terminal_state():
    line, message = only_problem([declined_row(end_reason="patient_request")])
    assert line == 2
    assert message.startswith("end_reason 'patient_request' is not a reason for declined")
    assert "outside_scope" in message


def test_end_reason_is_required_for_a_lost_referral():
    _, message = only_problem([declined_row(end_reason="")])
    assert message.startswith("end_reason is empty but declined_at is filled in")


def test_end_reason_without_an_ending_is_refused():
    _, message = only_problem([good_row(end_reason="outside_scope")])
    assert "only for declined, unreachable or cancelled" in message


def test_other_source_needs_its_specification():
    _, message = only_problem([declined_row(source_type="other")])
    assert message == "source_other is empty; say what the 'other' source was."


def test_duplicate_numbers_in_the_file_and_in_the_database(cora, spine):
    existing = f.make_referral(acting_user=cora, department=spine)
    rows = [
        good_row(referral_number="H-1"),
        good_row(referral_number=existing.number),
        good_row(referral_number="H-1"),
    ]
    found = problems(rows)
    assert [line for line, _ in found] == [3, 4]
    assert "already imported" in found[0][1] and existing.number in found[0][1]
    assert found[1][1].startswith("referral_number H-1 is already imported on line 2")


def test_every_bad_row_is_reported_with_its_line():
    rows = [
        good_row(),
        good_row(received_at=""),
        good_row(),
        good_row(department="nope", urgency="whenever"),
        good_row(),
    ]
    found = problems(rows)
    assert [line for line, _ in found] == [3, 5, 5]
    checked = check_file(csv_bytes(rows), "history.csv")
    assert [row.line for row in checked.rows] == [2, 4, 6]
    assert checked.bad_rows == 2


def test_blank_lines_are_skipped_but_still_counted():
    header, good = csv_bytes([good_row()]).decode().splitlines()
    bad = csv_bytes([good_row(urgency="x")]).decode().splitlines()[1]
    content = "\r\n".join([header, good, ",,,", "", bad]).encode()
    checked = check_file(content, "history.csv")
    assert [e.line for e in checked.errors] == [5]
    assert checked.total_rows == 2


def test_messages_never_repeat_the_patient_name_or_birth_date():
    row = good_row(patient_date_of_birth="31/31/1968", received_at="soon")
    for _, message in problems([row]):
        assert "Quillfeather" not in message and "1968" not in message


def test_future_times_are_refused_but_a_future_appointment_is_fine():
    row = good_row(
        seen_at="",
        loop_closed_at="",
        appointment_outcome="",
        visit_value="",
        appointment_at="2099-01-01 09:00",
    )
    assert problems([row]) == []
    _, message = only_problem([good_row(loop_closed_at="2099-01-01 09:00")])
    assert "is in the future" in message


def test_times_with_an_offset_and_iso_t_form():
    row = good_row(received_at="2025-03-04T09:30:00", in_review_at="2025-03-04T12:00:00-05:00")
    checked = check_file(csv_bytes([row]), "history.csv")
    assert checked.errors == []
    assert checked.rows[0].steps[0][2] == local("2025-03-04 11:00")


def test_xlsx_with_real_date_cells_and_numbers():
    row = good_row()
    cells = [row.get(name, "") for name in COLUMN_NAMES]
    cells[COLUMN_NAMES.index("received_at")] = datetime(2025, 3, 4, 9, 30)
    cells[COLUMN_NAMES.index("patient_date_of_birth")] = date(1968, 4, 12)
    cells[COLUMN_NAMES.index("referring_provider_npi")] = int(NEW_NPI)
    cells[COLUMN_NAMES.index("visit_value")] = 240.5
    checked = check_file(xlsx_bytes([list(COLUMN_NAMES), cells]), "history.xlsx")
    assert checked.errors == []
    parsed = checked.rows[0]
    assert parsed.received_at == local("2025-03-04 09:30")
    assert parsed.npi == NEW_NPI and str(parsed.visit_value) == "240.50"


def test_xlsx_time_of_day_cell_is_not_a_date_and_time():
    from datetime import time

    cells = [good_row().get(name, "") for name in COLUMN_NAMES]
    cells[COLUMN_NAMES.index("in_review_at")] = time(11, 0)
    content = xlsx_bytes([list(COLUMN_NAMES), cells])
    checked = check_file(content, "history.xlsx")
    [error] = checked.errors
    assert error.line == 2 and error.message.startswith("in_review_at (")


def test_xlsx_line_numbers_match_the_sheet():
    header = list(COLUMN_NAMES)
    bad = [good_row(urgency="later").get(name, "") for name in COLUMN_NAMES]
    good = [good_row().get(name, "") for name in COLUMN_NAMES]
    content = xlsx_bytes([header, good, [""] * len(header), good, bad])
    checked = check_file(content, "history.xlsx")
    assert [e.line for e in checked.errors] == [5]


def test_csv_with_a_byte_order_mark():
    checked = check_file(csv_bytes([good_row()], bom=True), "history.csv")
    assert checked.errors == []


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("history.pdf", b"%PDF-1.7", "upload the history as .csv (UTF-8) or .xlsx"),
        ("history.xls", b"\xd0\xcf\x11\xe0", "save it from your spreadsheet as .xlsx"),
        ("history.csv", "Müller".encode("latin-1") + b",x\n", "not UTF-8 text"),
        ("history.xlsx", b"referral_number\n", "is not an Excel workbook"),
        ("history.csv", b"", "The file is empty"),
    ],
)
def test_unreadable_files_get_a_clear_error(name, content, expected):
    checked = check_file(content, name)
    assert checked.file_problem
    [(line, message)] = [(e.line, e.message) for e in checked.errors]
    assert line is None and expected in message
