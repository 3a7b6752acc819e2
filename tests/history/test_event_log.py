"""The event-log layout: one row per state change and one per appointment, the whole
history kept (returns, second no-shows, every appointment when it was for)."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from python_calamine import CalamineWorkbook

from refloop.analytics.models import ReferralFact
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.history.layout import EVENT_LOG_EXAMPLE_ROWS, EVENT_LOG_NAMES
from refloop.history.services import import_history
from refloop.history.validation import check_file
from refloop.referrals.models import Referral

from .conftest import NEW_NPI, csv_bytes, local

pytestmark = pytest.mark.usefixtures("practice_setup")


def log_bytes(rows: list[dict]) -> bytes:
    return csv_bytes(rows, EVENT_LOG_NAMES)


def arrival(key: str, at: str, **details) -> dict:
    row = {
        "referral_key": key,
        "to_state": "received",
        "at": at,
        "patient_last_name": "Quillfeather",
        "patient_first_name": "Zephyrine",
        "patient_date_of_birth": "1968-04-12",
        "source_type": "provider",
        "referring_practice": "Prairie Family Medicine",
        "referring_provider_npi": NEW_NPI,
        "referring_provider_name": "Lee, Morgan",
        "department": "spine",
    }
    row.update(details)
    return row


def move(key: str, to_state: str, at: str, reason: str = "") -> dict:
    return {"referral_key": key, "to_state": to_state, "at": at, "reason": reason}


def booking(key: str, booked_at: str, for_at: str, outcome: str = "", value: str = "") -> dict:
    return {
        "referral_key": key,
        "booked_at": booked_at,
        "appointment_at": for_at,
        "appointment_outcome": outcome,
        "visit_value": value,
    }


def transitions(referral: Referral) -> list[tuple]:
    return list(referral.events.exclude(to_state="").values_list("from_state", "to_state", "at"))


def test_the_template_imports_with_every_return_and_appointment_kept(ada):
    checked = check_file(log_bytes(list(EVENT_LOG_EXAMPLE_ROWS)), "log.csv")
    assert [e.message for e in checked.errors] == []
    result = import_history(checked, acting_user=ada)
    returned, declined = Referral.objects.filter(pk__in=result.referral_ids).order_by("pk")
    assert [(a, b) for a, b, _ in transitions(returned)] == [
        ("", "received"),
        ("received", "in_review"),
        ("in_review", "pending_info"),
        ("pending_info", "in_review"),  # the return to review, kept
        ("in_review", "accepted"),
        ("accepted", "contacting"),
        ("contacting", "scheduled"),
        ("scheduled", "no_show"),
        ("no_show", "scheduled"),
        ("scheduled", "seen"),
        ("seen", "loop_closed"),
    ]
    # The missed visit at the time it was booked for, not when the no-show was recorded.
    assert list(
        returned.appointments.order_by("created_at").values_list(
            "created_at", "starts_at", "outcome", "visit_value"
        )
    ) == [
        (local("2025-03-06 14:20"), local("2025-03-10 09:00"), "no_show", None),
        (local("2025-03-11 09:00"), local("2025-03-18 09:00"), "attended", Decimal("240.00")),
    ]
    assert returned.state == "loop_closed" and returned.first_scheduled_at == local(
        "2025-03-06 14:20"
    )
    # As refloop sets it: outreach began again with the no-show.
    assert returned.outreach_started_at == local("2025-03-10 10:00")
    assert declined.state == "declined" and declined.end_reason == "outside_scope"
    assert declined.events.get(to_state="declined").data["reason"] == "outside_scope"


def test_second_no_shows_and_returns_to_contacting_are_all_kept():
    rows = [
        move("K", "accepted", "2025-03-05 08:00"),
        arrival("K", "2025-03-04 09:30"),
        move("K", "scheduled", "2025-03-05 09:00"),
        booking("K", "2025-03-05 09:00", "2025-03-07 09:00", "no_show"),
        move("K", "no_show", "2025-03-07 10:00"),
        move("K", "scheduled", "2025-03-08 09:00"),
        booking("K", "2025-03-08 09:00", "2025-03-12 09:00", "no_show"),
        move("K", "no_show", "2025-03-12 10:00"),
        move("K", "contacting", "2025-03-13 09:00"),
        move("K", "unreachable", "2025-03-20 09:00", "max_attempts_reached"),
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [e.message for e in checked.errors] == []
    referral = Referral.objects.get(pk=import_history(checked).referral_ids[0])
    moves = [(a, b) for a, b, _ in transitions(referral)]
    assert moves.count(("scheduled", "no_show")) == 2
    # Where it came from is the row before, never guessed.
    assert moves[-2:] == [("no_show", "contacting"), ("contacting", "unreachable")]
    assert referral.appointments.filter(outcome="no_show").count() == 2
    assert ReferralFact.objects.get(referral=referral).no_shows == 2
    assert referral.end_reason == "max_attempts_reached"


def test_a_move_the_lifecycle_does_not_allow_is_named_on_its_line():
    rows = [
        arrival("K", "2025-03-04 09:30"),
        move("K", "seen", "2025-03-05 09:00"),
        arrival("L", "2025-03-04 09:30", patient_first_name="Ben"),
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [(e.line, e.message) for e in checked.errors] == [
        (
            3,
            "to_state seen at 2025-03-05 09:00 follows received (line 2), but a referral "
            "cannot go from received to seen (from received it goes to in_review, "
            "pending_info, accepted, declined, cancelled); correct the times or add the "
            "missing state.",
        )
    ]
    # The other referral is good on its own.
    assert [row.line for row in checked.rows] == [4]


def test_an_appointment_keeps_its_own_department_and_location(hand):
    clinic = f.LocationFactory(name="North Clinic")
    where = {
        "appointment_department": "Hand & Upper Extremity",
        "appointment_location": "north clinic",
    }
    rows = [
        arrival("K", "2025-03-04 09:30"),
        move("K", "accepted", "2025-03-04 12:00"),
        move("K", "scheduled", "2025-03-05 09:00"),
        {**booking("K", "2025-03-05 09:00", "2025-03-09 09:00"), **where},
        arrival("L", "2025-03-04 09:30", patient_first_name="Ben"),
        {**booking("L", "2025-03-05 09:00", "2025-03-09 09:00"), "appointment_location": "Moon"},
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [(e.line, e.message.split(";")[0]) for e in checked.errors] == [
        (7, "appointment_location 'Moon' is not a location here"),
    ]
    referral = Referral.objects.get(pk=import_history(checked, only_good=True).referral_ids[0])
    appointment = referral.appointments.get()
    assert (appointment.department, appointment.location) == (hand, clinic)
    assert referral.department.code == "spine"


def test_a_row_that_cannot_be_read_keeps_its_whole_referral_out():
    rows = [
        arrival("K", "2025-03-04 09:30"),
        move("K", "accepted", "2025-03-05 08:00"),
        {**move("K", "contacting", "2025-03-05 09:00"), "booked_at": "2025-03-05 09:00"},
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [e.line for e in checked.errors] == [4]
    # Imported without that row, the history would be silently short of a step.
    assert checked.rows == []


def test_event_log_rows_that_cannot_be_read_say_what_to_fix():
    rows = [
        move("NOARRIVAL", "accepted", "2025-03-05 08:00"),
        arrival("TWICE", "2025-03-04 09:30"),
        arrival("TWICE", "2025-03-04 10:30"),
        arrival("ENDED", "2025-03-04 09:30"),
        move("ENDED", "declined", "2025-03-05 08:00"),
        {"referral_key": "ENDED"},
        booking("ENDED", "2025-03-03 08:00", "2025-03-09 08:00", "no_show", "10"),
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    messages = {(e.line, e.message.split(";")[0]) for e in checked.errors}
    assert messages == {
        (2, "referral_key NOARRIVAL has no received row"),
        (3, "referral_key TWICE has 2 received rows (lines 3, 4)"),
        (6, "end_reason is empty on this row"),
        (
            7,
            "The row is none of a state change (fill in to_state and at), an appointment "
            "(booked_at and appointment_at) or a contact (contacted_at and contact_outcome).",
        ),
        (8, "visit_value is for an attended visit"),
        (8, "booked_at (2025-03-03 08:00) is before the referral arrived"),
    }
    assert checked.rows == []


def contact(key: str, at: str, outcome: str, channel: str = "") -> dict:
    return {
        "referral_key": key,
        "contacted_at": at,
        "contact_outcome": outcome,
        "contact_channel": channel,
    }


def test_every_contact_attempt_is_kept_and_the_first_one_starts_the_clock():
    rows = [
        arrival("K", "2025-03-04 09:30"),
        move("K", "accepted", "2025-03-04 12:00"),
        contact("K", "2025-03-05 16:00", "reached", "sms"),
        contact("K", "2025-03-05 10:00", "no_answer"),
        move("K", "contacting", "2025-03-05 09:00"),
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [e.message for e in checked.errors] == []
    referral = Referral.objects.get(pk=import_history(checked).referral_ids[0])
    assert list(referral.contact_attempts.values_list("at", "channel", "outcome")) == [
        (local("2025-03-05 10:00"), "phone", "no_answer"),
        (local("2025-03-05 16:00"), "sms", "reached"),
    ]
    assert referral.first_contact_at == local("2025-03-05 10:00")
    assert referral.events.filter(kind="referral.contact_attempted").count() == 2
    assert ReferralFact.objects.get(referral=referral).first_contact_hours == 24.5


def test_contact_rows_are_checked():
    rows = [
        arrival("K", "2025-03-04 09:30"),
        move("K", "declined", "2025-03-04 12:00", "duplicate"),
        contact("K", "2025-03-05 16:00", "reached"),
        contact("K", "2025-03-04 10:00", "waved", "pigeon"),
        {**contact("K", "2025-03-04 10:00", "reached"), "to_state": "accepted"},
    ]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [(e.line, e.message.split(";")[0]) for e in checked.errors] == [
        (
            4,
            "contacted_at (2025-03-05 16:00) is after the referral was declined (2025-03-04 12:00)",
        ),
        (5, "contact_channel 'pigeon' is not a channel"),
        (5, "contact_outcome 'waved' is not an outcome"),
        (6, "The row is more than one thing (to_state, booked_at/appointment_at, contacted_at)"),
    ]


def test_a_reason_in_the_practices_words_is_mapped_in_the_event_log():
    rows = [arrival("K", "2025-03-04 09:30"), move("K", "cancelled", "2025-03-05", "Moved away")]
    checked = check_file(log_bytes(rows), "log.csv")
    assert [(u.kind, u.original, u.count) for u in checked.unknown_values] == [
        ("cancel_reason", "Moved away", 1)
    ]
    mapped = check_file(
        log_bytes(rows), "log.csv", mappings={("cancel_reason", "moved away"): "care_elsewhere"}
    )
    referral = Referral.objects.get(pk=import_history(mapped).referral_ids[0])
    assert referral.end_reason == "care_elsewhere"
    assert referral.events.get(to_state="cancelled").data["reason_detail"] == "Moved away"


def test_progress_is_reported_for_an_event_log():
    seen = []
    rows = [arrival("K", "2025-03-04 09:30"), move("K", "accepted", "2025-03-05")]
    checked = check_file(log_bytes(rows), "log.csv", progress=lambda d, t: seen.append((d, t)))
    import_history(checked, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 2), (1, 1)]


def test_the_event_log_templates_and_their_documentation(client, ada):
    client.force_login(ada)
    page = client.get(reverse("history_import")).content.decode()
    for fmt in ("csv", "xlsx"):
        assert reverse("history_event_log_template", args=[fmt]) in page
    for name in ("referral_key", "to_state", "booked_at"):
        assert f"<code>{name}</code>" in page
    csv_file = client.get(reverse("history_event_log_template", args=["csv"]))
    content = b"".join(csv_file.streaming_content)
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(EVENT_LOG_NAMES)
    assert len(lines) == 1 + len(EVENT_LOG_EXAMPLE_ROWS)
    xlsx_file = client.get(reverse("history_event_log_template", args=["xlsx"]))
    workbook = b"".join(xlsx_file.streaming_content)
    book = CalamineWorkbook.from_filelike(io.BytesIO(workbook))
    assert book.sheet_names == ["Event log", "Columns"]
    assert book.get_sheet_by_index(0).to_python()[0] == list(EVENT_LOG_NAMES)
    assert check_file(workbook, "template.xlsx").errors == []


def test_the_event_log_export_is_offered_on_the_page_and_by_the_command(client, ada, tmp_path):
    import_history(check_file(log_bytes(list(EVENT_LOG_EXAMPLE_ROWS)), "log.csv"))
    client.force_login(ada)
    response = client.get(reverse("history_export_event_log", args=["csv"]))
    assert response["Cache-Control"] == "no-store"
    assert "refloop-event-log-" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(EVENT_LOG_NAMES)
    assert len(lines) == 1 + len(EVENT_LOG_EXAMPLE_ROWS)
    entry = AuditEntry.objects.get(action="history.exported")
    assert entry.actor == ada and entry.detail == {"format": "csv", "rows": 2, "event_log": True}

    path = tmp_path / "log.xlsx"
    call_command("export", "history", str(path), "--event-log", stdout=io.StringIO())
    again = check_file(path.read_bytes(), "log.xlsx")
    # The same referrals, refused only because their numbers are already imported.
    assert {e.message.split(" is ")[-1][:16] for e in again.errors} == {"already imported"}
    assert len(again.errors) == 2
