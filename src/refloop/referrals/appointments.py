"""Appointments as the moves book and close them: the booking asked for, the appointment it
creates, the one still pending, and its outcome."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

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
    department = referral.department
    if booking.department_id is not None:
        department = Department.objects.filter(pk=booking.department_id).first()
        if department is None:
            raise InvalidInput(
                "appointment.department_id names no department.", field="appointment.department_id"
            )
    location = None
    if booking.location_id is not None:
        location = Location.objects.filter(pk=booking.location_id).first()
        if location is None:
            raise InvalidInput(
                "appointment.location_id names no location.", field="appointment.location_id"
            )
    clinician = None
    if booking.clinician_id is not None:
        clinician = User.objects.filter(
            pk=booking.clinician_id, role=Role.CLINICIAN, is_active=True
        ).first()
        if clinician is None:
            raise InvalidInput(
                "appointment.clinician_id names no active clinician.",
                field="appointment.clinician_id",
            )
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
