"""A practice's whole history exported as an event log and imported into an empty database
gives the same metrics, timelines and appointments.

The history is made through the product's own services inside a savepoint (returns to
review and to contacting, two no-shows, a moved appointment, declines, a cancellation, an
unreachable patient, open referrals), its facts built, measured and exported, then rolled
back; the departments and staff stay, as in a fresh installation set up for the import.
"""

import io
from datetime import date, datetime

import pytest
from django.db import transaction
from django.db.models import Q

from refloop.analytics import metrics
from refloop.analytics.facts import rebuild_all
from refloop.analytics.models import ReferralFact
from refloop.demo import factories as f
from refloop.history.export import export_history
from refloop.history.services import import_history
from refloop.history.validation import check_file
from refloop.patients.models import Patient
from refloop.referrals import transitions
from refloop.referrals.models import Appointment, Referral, SourceType
from refloop.referrals.reports import write_progress_report
from refloop.referrals.services import record_contact_attempt
from refloop.referrals.transitions import AppointmentInput

from .conftest import local

pytestmark = pytest.mark.usefixtures("practice_setup")


class Rollback(Exception):
    pass


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    month, day = (4, day) if day <= 30 else (5, day - 30)
    return local(f"2025-{month:02d}-{day:02d} {hour:02d}:{minute:02d}")


NOW = at(50)
MOVED = "referral.rescheduled"


def book(referral_id: int, user, day: int, for_day: int, hour: int = 9, **where) -> None:
    appointment = AppointmentInput(starts_at=at(for_day, hour), **where)
    transitions.schedule_referral(
        referral_id, acting_user=user, appointment=appointment, now=at(day)
    )


def build_history(cora, spine, hand, clinic) -> None:
    make = f.make_referral
    T = transitions

    # Sent back for information and reviewed again; two missed visits; seen; loop closed.
    twice = make(acting_user=cora, department=spine, received_at=at(1), now=at(1))
    record_contact_attempt(
        twice, acting_user=cora, channel="phone", outcome="no_answer", at=at(1, 15), now=at(1, 15)
    )
    T.start_review(twice.pk, acting_user=cora, now=at(1, 10))
    T.request_info(twice.pk, acting_user=cora, missing_info="MRI", now=at(1, 11))
    T.start_review(twice.pk, acting_user=cora, now=at(3))
    T.accept_referral(twice.pk, acting_user=cora, now=at(3, 12))
    T.start_contacting(twice.pk, acting_user=cora, now=at(4))
    book(twice.pk, cora, 4, for_day=8, location_id=clinic.pk)
    T.record_no_show(twice.pk, acting_user=cora, now=at(8, 11))
    book(twice.pk, cora, 9, for_day=14, location_id=clinic.pk)
    T.record_no_show(twice.pk, acting_user=cora, now=at(14, 11))
    T.start_contacting(twice.pk, acting_user=cora, now=at(15))
    book(twice.pk, cora, 16, for_day=22, location_id=clinic.pk, department_id=hand.pk)
    T.mark_seen(twice.pk, acting_user=cora, visit_value="310.00", now=at(22, 10))
    write_progress_report(twice.pk, acting_user=cora, findings="L5.", plan="PT.", now=at(23))
    T.close_loop(twice.pk, acting_user=cora, report_summary="Plan: PT.", now=at(24))

    # Booked, the appointment moved, then seen (the loop still open).
    moved = make(acting_user=cora, department=hand, received_at=at(2), now=at(2), urgency="urgent")
    record_contact_attempt(
        moved, acting_user=cora, channel="phone", outcome="reached", at=at(2, 13), now=at(2, 13)
    )
    T.accept_referral(moved.pk, acting_user=cora, now=at(2, 12))
    book(moved.pk, cora, 3, for_day=10)
    T.reschedule_appointment(
        moved.pk, acting_user=cora, appointment=AppointmentInput(starts_at=at(12, 14)), now=at(5)
    )
    T.mark_seen(moved.pk, acting_user=cora, visit_value="95.50", now=at(12, 15))

    # Declined twice over: once after review, once straight away.
    reviewed = make(
        acting_user=cora,
        department=spine,
        received_at=at(5),
        now=at(5),
        source_type=SourceType.OTHER,
        source_other="Health fair",
        channel="phone",
    )
    T.start_review(reviewed.pk, acting_user=cora, now=at(5, 14))
    T.decline_referral(reviewed.pk, acting_user=cora, reason="outside_scope", now=at(6))
    straight = make(acting_user=cora, department=hand, received_at=at(7), now=at(7))
    T.decline_referral(straight.pk, acting_user=cora, reason="no_capacity", now=at(7, 16))

    # Missed a visit, contacting again, then unreachable.
    lost = make(acting_user=cora, department=spine, received_at=at(9), now=at(9))
    T.accept_referral(lost.pk, acting_user=cora, now=at(9, 12))
    book(lost.pk, cora, 10, for_day=17)
    T.record_no_show(lost.pk, acting_user=cora, now=at(17, 12))
    T.start_contacting(lost.pk, acting_user=cora, now=at(18))
    for hour, channel, outcome in ((10, "phone", "busy"), (15, "sms", "message_sent")):
        record_contact_attempt(
            lost, acting_user=cora, channel=channel, outcome=outcome, at=at(18, hour), now=at(19)
        )
    T.mark_unreachable(lost.pk, acting_user=cora, reason="invalid_contact_details", now=at(25))

    # Cancelled with a visit booked.
    cancelled = make(acting_user=cora, department=hand, received_at=at(11), now=at(11))
    T.accept_referral(cancelled.pk, acting_user=cora, now=at(11, 10))
    book(cancelled.pk, cora, 12, for_day=26)
    T.cancel_referral(cancelled.pk, acting_user=cora, reason="care_elsewhere", now=at(20))

    # Still open: in review, and waiting to be contacted.
    waiting = make(acting_user=cora, department=spine, received_at=at(30), now=at(30))
    T.start_review(waiting.pk, acting_user=cora, now=at(31))
    make(acting_user=cora, department=hand, received_at=at(40), now=at(40), assignee=cora)


def measured(spine, hand, clinic) -> dict:
    """Every metric, the summary and the clocks, for all departments, each, and a location."""
    period = metrics.Period(date(2025, 4, 1), date(2025, 6, 1))
    result = {}
    for name, filters in (
        ("all", metrics.Filters()),
        ("spine", metrics.Filters(department=spine.pk)),
        ("hand", metrics.Filters(department=hand.pk)),
        ("clinic", metrics.Filters(location=clinic.pk)),
    ):
        scope = metrics.Scope.of(period, filters, now=NOW)
        result[name] = {
            "metrics": metrics.compute(scope),
            "summary": metrics._summary(scope),
            "clocks": metrics.clocks(scope),
        }
    return result


def histories() -> dict[str, dict]:
    """Each referral's state changes (with the reason of an end) and appointments."""
    result = {}
    for referral in Referral.objects.select_related("department"):
        # Every state change, contact attempt and moved appointment, in order (the layout
        # carries no notes, messages or documents).
        moves = [
            (event.kind, event.from_state, event.to_state, event.at, event.data.get("reason"))
            for event in referral.events.filter(
                Q(to_state__gt="") | Q(kind__in=["referral.contact_attempted", MOVED])
            ).order_by("at", "pk")
        ]
        contacts = list(referral.contact_attempts.values_list("at", "channel", "outcome"))
        appointments = list(
            Appointment.objects.filter(referral=referral)
            .order_by("created_at", "pk")
            .values_list(
                "created_at",
                "starts_at",
                "outcome",
                "visit_value",
                "department__code",
                "location__name",
            )
        )
        result[referral.number] = {
            "state": referral.state,
            "moves": moves,
            "appointments": appointments,
            "contacts": contacts,
            "fields": (
                referral.accepted_at,
                referral.first_contact_at,
                referral.first_scheduled_at,
                referral.outreach_started_at,
                referral.seen_at,
                referral.closed_at,
                referral.state_changed_at,
                referral.end_reason,
            ),
        }
    return result


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_event_log_imports_as_the_same_history(fmt, cora, spine, hand, ada):
    clinic = f.LocationFactory(name="=Main Street Clinic")  # a name that looks like a formula
    try:
        with transaction.atomic():
            build_history(cora, spine, hand, clinic)
            rebuild_all()
            before_metrics = measured(spine, hand, clinic)
            before = histories()
            out = io.BytesIO()
            assert export_history(out, fmt, acting_user=ada, event_log=True) == 8
            raise Rollback
    except Rollback:
        pass
    assert not Referral.objects.exists() and not Patient.objects.exists()
    assert not ReferralFact.objects.exists()

    checked = check_file(out.getvalue(), f"history.{fmt}")
    assert [e.message for e in checked.errors] == []
    import_history(checked, acting_user=ada, now=NOW)
    after = histories()
    assert after.keys() == before.keys()
    for number, history in before.items():
        assert after[number] == history, number
    assert measured(spine, hand, clinic) == before_metrics
    # The history is varied enough to mean something.
    figures = before_metrics["all"]
    assert figures["summary"]["volume"] == 8 and figures["summary"]["reached_no_show"] == 2
    assert figures["clocks"]["first_contact_hours"]["count"] == 3
    assert sum(len(h["appointments"]) for h in before.values()) == 7
    assert sum(len(h["contacts"]) for h in before.values()) == 4
    assert before_metrics["clinic"]["summary"]["volume"] == 1
    assert sum(kind == MOVED for h in before.values() for kind, *_ in h["moves"]) == 1
