"""Export then import into a database without those referrals reproduces them.

The referrals are made through the product's own services inside a savepoint, exported,
and rolled back; the departments and staff stay, as they would in a fresh installation
set up for the import.
"""

import io
from datetime import datetime, timedelta

import pytest
from django.db import transaction

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.history.export import export_history
from refloop.history.services import import_history
from refloop.history.validation import check_file
from refloop.patients.models import Patient
from refloop.referrals import transitions
from refloop.referrals.models import Referral, SourceType
from refloop.referrals.reports import write_progress_report
from refloop.referrals.services import record_contact_attempt
from refloop.referrals.transitions import AppointmentInput

from .conftest import local

pytestmark = pytest.mark.usefixtures("practice_setup")


class Rollback(Exception):
    pass


def at(day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return local(f"2025-04-{day:02d} {hour:02d}:{minute:02d}:{second:02d}")


def build_history(cora, spine, hand) -> None:
    """Referrals in many states, made the way the product makes them."""
    make = f.make_referral
    seen = make(acting_user=cora, department=spine, received_at=at(1), now=at(1))
    record_contact_attempt(
        seen, acting_user=cora, channel="phone", outcome="no_answer", at=at(2, 10), now=at(2, 10)
    )
    transitions.accept_referral(seen.pk, acting_user=cora, now=at(2, 9))
    transitions.start_contacting(seen.pk, acting_user=cora, now=at(2, 11))
    booking = AppointmentInput(starts_at=at(10, 8, 30))
    transitions.schedule_referral(seen.pk, acting_user=cora, appointment=booking, now=at(3))
    transitions.record_no_show(seen.pk, acting_user=cora, now=at(10, 12))
    rebooking = AppointmentInput(starts_at=at(20, 14, 15))
    transitions.schedule_referral(seen.pk, acting_user=cora, appointment=rebooking, now=at(11))
    transitions.mark_seen(seen.pk, acting_user=cora, visit_value="320.50", now=at(20, 15, 0, 7))
    write_progress_report(seen.pk, acting_user=cora, findings="L5.", plan="PT.", now=at(21))
    transitions.close_loop(seen.pk, acting_user=cora, report_summary="Plan: PT.", now=at(22))

    pending = make(
        acting_user=cora, department=hand, received_at=at(4), now=at(4), urgency="urgent"
    )
    transitions.start_review(pending.pk, acting_user=cora, now=at(4, 10))
    transitions.request_info(pending.pk, acting_user=cora, missing_info="MRI", now=at(4, 11))
    transitions.start_review(pending.pk, acting_user=cora, now=at(6))
    transitions.accept_referral(pending.pk, acting_user=cora, now=at(7))

    declined = make(
        acting_user=cora,
        department=spine,
        received_at=at(5),
        now=at(5),
        source_type=SourceType.OTHER,
        source_other="Health fair",
        channel="phone",
    )
    transitions.decline_referral(declined.pk, acting_user=cora, reason="outside_scope", now=at(6))

    cancelled = make(acting_user=cora, department=spine, received_at=at(8), now=at(8))
    f.advance(cancelled, "scheduled", acting_user=cora, now=at(9))
    transitions.cancel_referral(cancelled.pk, acting_user=cora, reason="care_elsewhere", now=at(12))

    unreachable = make(acting_user=cora, department=hand, received_at=at(13), now=at(13))
    f.advance(unreachable, "unreachable", acting_user=cora, now=at(14))

    make(acting_user=cora, department=spine, received_at=at(15), now=at(15), assignee=cora)


def snapshot() -> dict[str, dict]:
    """What a referral is, as the history layout carries it (times to the second)."""
    seconds = lambda value: value.replace(microsecond=0) if value else None  # noqa: E731
    result = {}
    for referral in Referral.objects.select_related(
        "patient", "department", "referring_practice", "referring_provider", "assignee"
    ):
        moves = {}
        for to_state, when in referral.events.exclude(to_state="").values_list("to_state", "at"):
            moves.setdefault(to_state, seconds(when))
        latest = referral.appointments.order_by("created_at", "pk").last()
        result[referral.number] = {
            "state": referral.state,
            "patient": (
                referral.patient.last_name,
                referral.patient.first_name,
                referral.patient.date_of_birth,
            ),
            "source": (referral.source_type, referral.source_other, referral.channel),
            "practice": referral.referring_practice.name if referral.referring_practice else "",
            "npi": referral.referring_provider.npi if referral.referring_provider else "",
            "department": referral.department.code,
            "urgency": referral.urgency,
            "assignee": referral.assignee_id,
            "end_reason": referral.end_reason,
            "times": {
                name: seconds(getattr(referral, name))
                for name in (
                    "received_at",
                    "accepted_at",
                    "first_contact_at",
                    "first_scheduled_at",
                    "seen_at",
                    "closed_at",
                    "state_changed_at",
                )
            },
            "moves": moves,
            "appointment": (
                (seconds(latest.starts_at), latest.outcome, latest.visit_value) if latest else None
            ),
        }
    return result


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_reproduces_the_referrals(fmt, cora, spine, hand, ada):
    try:
        with transaction.atomic():
            build_history(cora, spine, hand)
            before = snapshot()
            out = io.BytesIO()
            assert export_history(out, fmt, acting_user=ada) == 6
            raise Rollback
    except Rollback:
        pass
    assert not Referral.objects.exists() and not Patient.objects.exists()

    checked = check_file(out.getvalue(), f"export.{fmt}")
    assert [e.message for e in checked.errors] == []
    import_history(checked, acting_user=ada)
    after = snapshot()
    assert after.keys() == before.keys()
    for number, referral in before.items():
        assert after[number] == referral, number


def test_export_is_audited_and_admin_only(ada, cora):
    from refloop.core.errors import NotAllowed

    export_history(io.BytesIO(), "csv", acting_user=ada)
    entry = AuditEntry.objects.get(action="history.exported")
    assert entry.actor == ada and entry.detail == {"format": "csv", "rows": 0}
    with pytest.raises(NotAllowed):
        export_history(io.BytesIO(), "csv", acting_user=cora)


def test_exported_names_that_look_like_formulas_are_guarded_and_come_back(cora, spine):
    patient = f.patient_data(last_name="=SUM(A1)", first_name="+Ann")
    f.make_referral(acting_user=cora, department=spine, patient=patient)
    out = io.BytesIO()
    export_history(out, "csv")
    text = out.getvalue().decode("utf-8-sig")
    assert "'=SUM(A1)" in text and "'+Ann" in text
    row = check_file(out.getvalue(), "export.csv").rows
    assert row == []  # already imported: the number exists
    checked = check_file(text.replace("R-", "X-").encode(), "export.csv")
    assert (checked.rows[0].last_name, checked.rows[0].first_name) == ("=SUM(A1)", "+Ann")


def test_times_in_the_repeated_autumn_hour_keep_their_offset(cora, spine):
    # 2025-11-02 01:30 happens twice in Chicago; the second one is 07:30 UTC.
    second = datetime.fromisoformat("2025-11-02T07:30:00+00:00")
    f.make_referral(acting_user=cora, department=spine, received_at=second, now=second)
    out = io.BytesIO()
    export_history(out, "csv")
    assert "2025-11-02 01:30:00-06:00" in out.getvalue().decode("utf-8-sig")
    text = out.getvalue().decode("utf-8-sig").replace("R-", "X-")
    assert check_file(text.encode(), "e.csv").rows[0].received_at == second
    # Without the offset, 01:30 is the first of the two: an hour earlier.
    naive = text.replace("01:30:00-06:00", "01:30")
    assert check_file(naive.encode(), "e.csv").rows[0].received_at == second - timedelta(hours=1)
