"""The value-mapping step: a practice's own wording, listed with its counts, mapped once
(on the page or with a mapping file), kept on the timeline, and remembered."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from refloop.core.models import AuditEntry
from refloop.history import mapping
from refloop.history.mapping import UnknownValue
from refloop.history.models import ImportRun, RunStatus, ValueMapping
from refloop.history.services import import_history
from refloop.history.validation import check_file
from refloop.ops.worker import drain_queue
from refloop.referrals.models import Referral, ReferralEvent

from .conftest import csv_bytes, declined_row, good_row

pytestmark = pytest.mark.usefixtures("practice_setup")


def own_words_rows() -> list[dict]:
    """Three rows written in a practice's own vocabulary."""
    return [
        good_row(source_type="Doctor", channel="Fax machine", department="Ortho Spine"),
        good_row(
            patient_first_name="Ben",
            source_type="doctor",  # the same wording, other case: one value, two rows
            urgency="ASAP",
            loop_closed_at="",
            seen_at="",
            appointment_at="",
            appointment_outcome="",
            visit_value="",
            cancelled_at="2025-03-10 10:00",
            end_reason="Patient moved away",
        ),
        declined_row(end_reason="Not our specialty"),
    ]


MAP = {
    ("source_type", "doctor"): "provider",
    ("channel", "fax machine"): "fax",
    ("department", "ortho spine"): "spine",
    ("urgency", "asap"): "urgent",
    ("cancel_reason", "patient moved away"): "care_elsewhere",
    ("decline_reason", "not our specialty"): "outside_scope",
}


def test_every_unknown_value_is_listed_once_with_its_count():
    checked = check_file(csv_bytes(own_words_rows()), "h.csv")
    assert checked.rows == []
    assert checked.unknown_values == [
        UnknownValue("source_type", "Doctor", 2),
        UnknownValue("channel", "Fax machine", 1),
        UnknownValue("department", "Ortho Spine", 1),
        UnknownValue("urgency", "ASAP", 1),
        UnknownValue("decline_reason", "Not our specialty", 1),
        UnknownValue("cancel_reason", "Patient moved away", 1),
    ]
    assert "or map it" in checked.errors[0].message


def test_mapped_values_import_and_keep_the_original_wording_on_the_timeline(ada):
    checked = check_file(csv_bytes(own_words_rows()), "h.csv", mappings=MAP)
    assert [e.message for e in checked.errors] == [] and checked.unknown_values == []
    import_history(checked, acting_user=ada)
    first, cancelled, declined = Referral.objects.order_by("received_at")
    assert (first.source_type, first.channel, first.department.code) == ("provider", "fax", "spine")
    assert (cancelled.urgency, cancelled.end_reason) == ("urgent", "care_elsewhere")
    assert declined.end_reason == "outside_scope"
    arrival = first.events.get(kind="referral.received")
    assert arrival.data["original"] == {
        "source_type": "Doctor",
        "channel": "Fax machine",
        "department": "Ortho Spine",
    }
    ended = cancelled.events.get(kind="referral.cancelled")
    assert ended.data["reason"] == "care_elsewhere"
    assert ended.data["reason_detail"] == "Patient moved away"
    assert declined.events.get(kind="referral.declined").data["reason_detail"] == (
        "Not our specialty"
    )
    # A value refloop knows carries no 'original'.
    plain = import_history(check_file(csv_bytes([good_row(patient_first_name="Cy")]), "p.csv"))
    received = ReferralEvent.objects.get(
        referral_id=plain.referral_ids[0], kind="referral.received"
    )
    assert "original" not in received.data


def test_a_source_mapped_to_other_says_what_it_was():
    row = declined_row(source_type="Health fair")
    checked = check_file(
        csv_bytes([row]), "h.csv", mappings={("source_type", "health fair"): "other"}
    )
    assert (checked.rows[0].source_type, checked.rows[0].source_other) == ("other", "Health fair")
    written = declined_row(source_type="Health fair", source_other="Spring fair, Main St")
    checked = check_file(
        csv_bytes([written]), "h.csv", mappings={("source_type", "health fair"): "other"}
    )
    assert checked.rows[0].source_other == "Spring fair, Main St"


def test_a_remembered_mapping_applies_to_the_next_file(ada):
    entries = {key: (key[1], value) for key, value in MAP.items()}
    assert mapping.remember(entries, acting_user=ada) == len(MAP)
    checked = check_file(csv_bytes(own_words_rows()), "next.csv")
    assert checked.errors == [] and len(checked.rows) == 3
    # Mapping again replaces the value, never adds a second row.
    mapping.remember({("urgency", "asap"): ("Asap", "routine")})
    assert ValueMapping.objects.get(kind="urgency").value == "routine"
    assert ValueMapping.objects.count() == len(MAP)


def test_a_mapping_file_is_checked_value_by_value():
    good = b"kind,original,value\nchannel,Fax machine,FAX\ndepartment,Ortho Spine,spine\n"
    assert mapping.read_mapping_file(good, "m.csv") == {
        ("channel", "fax machine"): ("Fax machine", "fax"),
        ("department", "ortho spine"): ("Ortho Spine", "spine"),
    }
    as_json = json.dumps({"cancel_reason": {"Patient moved away": "care_elsewhere"}}).encode()
    assert mapping.read_mapping_file(as_json, "m.json") == {
        ("cancel_reason", "patient moved away"): ("Patient moved away", "care_elsewhere")
    }
    problems = {
        b"kind,original,value\ncolour,Red,red\n": "kind 'colour' is not one of",
        b"kind,original,value\ndepartment,Ortho,knees\n": "'knees' is not a department",
        b"kind,original,value\ncancel_reason,Moved,declined\n": "not a reason for cancelled",
        b"k,o,v\n": "must be: kind,original,value",
    }
    for content, message in problems.items():
        with pytest.raises(mapping.MappingFileProblem, match=message):
            mapping.read_mapping_file(content, "m.csv")


def run_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", "history", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_lists_values_to_map_then_imports_with_a_mapping_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(own_words_rows()))
    with pytest.raises(CommandError, match="values to map") as refused:
        run_command(str(path))
    assert refused.value.returncode == 1
    assert not Referral.objects.exists() and not ValueMapping.objects.exists()

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "history", str(path), stdout=out, stderr=io.StringIO())
    listed = out.getvalue()
    assert "  source_type 'Doctor': 2 rows (map to one of: " in listed
    assert "cancel_reason,Patient moved away,\n" in listed

    map_file = tmp_path / "map.csv"
    map_file.write_text(
        "kind,original,value\n"
        + "".join(f"{kind},{original},{value}\n" for (kind, original), value in MAP.items())
    )
    out, _ = run_command(str(path), "--map", str(map_file))
    assert "Imported 3 referrals" in out
    assert ValueMapping.objects.count() == len(MAP)

    # Remembered: the next file in the same words needs no mapping file.
    path.write_bytes(csv_bytes([{**row, "patient_last_name": "Next"} for row in own_words_rows()]))
    out, _ = run_command(str(path))
    assert "Imported 3 referrals" in out and Referral.objects.count() == 6


def test_a_bad_mapping_file_stops_the_command_before_anything(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(own_words_rows()))
    map_file = tmp_path / "map.json"
    map_file.write_text(json.dumps({"urgency": {"STAT": "yesterday"}}))
    with pytest.raises(CommandError, match="'yesterday' is not a urgency"):
        run_command(str(path), "--map", str(map_file))
    assert not Referral.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_page_asks_for_each_value_once_then_imports(client, ada):
    client.force_login(ada)
    upload = SimpleUploadedFile("h.csv", csv_bytes(own_words_rows()), "text/csv")
    assert client.post(reverse("history_import"), {"file": upload}).status_code == 302
    drain_queue()
    run = ImportRun.objects.get()
    assert run.status == RunStatus.INVALID
    assert run.unknown_values[0] == {"kind": "source_type", "original": "Doctor", "count": 2}
    page = client.get(reverse("history_run", args=[run.pk])).content.decode()
    assert "Values to map" in page and "Patient moved away" in page
    assert reverse("history_run_map", args=[run.pk]) in page

    choices = {
        f"map-{index}": MAP[unknown["kind"], unknown["original"].casefold()]
        for index, unknown in enumerate(run.unknown_values)
    }
    missing_one = {**choices, "map-0": ""}
    response = client.post(reverse("history_run_map", args=[run.pk]), missing_one)
    assert response.status_code == 422 and not ValueMapping.objects.exists()

    response = client.post(reverse("history_run_map", args=[run.pk]), choices)
    assert response.status_code == 302
    drain_queue()
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.imported_rows == 3
    assert run.unknown_values == [] and ValueMapping.objects.count() == len(MAP)
    assert AuditEntry.objects.filter(action="history.values_mapped").count() == 1
    assert ValueMapping.objects.get(kind="department").mapped_by == ada
