"""Appointments as the moves book and close them: the booking asked for, the appointment it
creates, the one still pending, and its outcome."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Model, QuerySet

from refloop.core.errors import InvalidInput
from refloop.core.models import User
from refloop.core.roles import Role
from refloop.practice.models import Department, Location
from refloop.referrals.models import Appointment, Direction, Referral
from refloop.referrals.writing import aware


@dataclass(frozen=True)
class AppointmentInput:
    starts_at: datetime
    department_id: int | None = None
    location_id: int | None = None
    clinician_id: int | None = None


def book(referral: Referral, booking: AppointmentInput | None, *, now: datetime) -> Appointment:
    """Create the appointment `booking` asks for (at the outside practice, for outbound)."""
    if booking is None:
        raise InvalidInput(
            "appointment is required: give at least its starts_at.", field="appointment"
        )
    starts_at = aware(booking.starts_at, "appointment.starts_at")
    department = _named(
        Department.objects.all(), booking.department_id, "department_id", "department"
    )
    location = _named(Location.objects.all(), booking.location_id, "location_id", "location")
    clinician = _named(
        User.objects.filter(role=Role.CLINICIAN, is_active=True),
        booking.clinician_id,
        "clinician_id",
        "active clinician",
    )
    if department is None:
        department = referral.department
    if referral.direction == Direction.OUTBOUND:
        department = location = clinician = None  # the visit is at the outside practice
    return Appointment.objects.create(
        referral=referral,
        starts_at=starts_at,
        department=department,
        location=location,
        clinician=clinician,
        created_at=now,
    )


def _named[M: Model](rows: QuerySet[M], pk: int | None, field: str, what: str) -> M | None:
    """The row of `rows` the booking's `field` names; None where it names none at all."""
    if pk is None:
        return None
    found = rows.filter(pk=pk).first()
    if found is None:
        raise InvalidInput(f"appointment.{field} names no {what}.", field=f"appointment.{field}")
    return found


def pending(referral: Referral) -> Appointment | None:
    """The latest appointment without an outcome yet."""
    return referral.appointments.filter(outcome="").order_by("-starts_at", "-pk").first()


def set_outcome(appointment: Appointment | None, outcome: str, **extra: object) -> None:
    if appointment is None:
        return
    appointment.outcome = outcome
    for name, value in extra.items():
        setattr(appointment, name, value)
    appointment.save(update_fields=["outcome", *extra])


def event_data(appointment: Appointment) -> dict[str, object]:
    return {"appointment_id": appointment.pk, "starts_at": appointment.starts_at.isoformat()}


def visit_value(value: object) -> Decimal | None:
    """A visit's value for lifetime-value figures, from what was typed or sent."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(
            "visit_value must be an amount such as 180.00.", field="visit_value"
        ) from None
    if amount < 0 or amount >= Decimal("100000000"):
        raise InvalidInput("visit_value must be between 0 and 99,999,999.99.", field="visit_value")
    return amount.quantize(Decimal("0.01"))
