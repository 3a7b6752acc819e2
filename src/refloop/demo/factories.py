"""factory-boy factories for the domain; the tests and the demo seed share them."""

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from refloop.core.models import User
from refloop.core.roles import Role
from refloop.network.models import Practice, Provider, StaffContact, StaffRole
from refloop.network.npi import check_digit
from refloop.patients.models import Patient
from refloop.practice.models import Department, Location, Organization
from refloop.referrals import transitions
from refloop.referrals.models import Referral, ReferralChannel, SourceType, State
from refloop.referrals.reports import write_progress_report
from refloop.referrals.services import create_inbound_referral


def npi_from(n: int) -> str:
    """A valid NPI (correct check digit) built from a serial number."""
    first_nine = f"1{n % 100_000_000:08d}"
    return first_nine + check_digit(first_nine)


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("pk",)

    pk = 1
    name = "Lakeside Orthopedics & Spine"
    time_zone = "America/Chicago"


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    city = "Springfield"
    state = "IL"


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = Role.COORDINATOR
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def departments(self, create, extracted, **kwargs):
        if create and extracted:
            self.departments.set(extracted)


class PracticeFactory(DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Faker("company")
    city = factory.Faker("city")
    state = "IL"
    phone = factory.Faker("numerify", text="(217) 555-####")
    fax = factory.Faker("numerify", text="(217) 555-####")
    in_network = True


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider

    practice = factory.SubFactory(PracticeFactory)
    npi = factory.Sequence(lambda n: npi_from(234_500 + n))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    credentials = "MD"
    specialty = "Family Medicine"
    taxonomy_code = "207Q00000X"


class StaffContactFactory(DjangoModelFactory):
    class Meta:
        model = StaffContact

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Faker("name")
    role = StaffRole.REFERRAL_COORDINATOR


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=90)
    sex = factory.Iterator(["female", "male"])
    phone = factory.Faker("numerify", text="(217) 555-####")
    insurance_payer = "Blue Cross"


def patient_data(**overrides) -> dict:
    """The patient fields of a new-referral request, as an API client would send them."""
    patient = PatientFactory.build(**overrides)
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth,
        "sex": patient.sex,
        "phone": patient.phone,
        "insurance_payer": patient.insurance_payer,
        "contact_consent": True,
    }


def make_referral(*, acting_user: User, now: dt.datetime | None = None, **fields) -> Referral:
    """A new inbound referral (state received) through the real service."""
    if "referring_provider" not in fields and fields.get("source_type", "provider") == "provider":
        fields["referring_provider"] = ProviderFactory()
    if "department" not in fields:
        fields["department"] = DepartmentFactory(code="spine", name="Spine")
    values = {
        "patient": patient_data(),
        "source_type": SourceType.PROVIDER,
        "channel": ReferralChannel.FAX,
        "reason": "Low back pain radiating to the left leg for six weeks",
        "icd10_codes": ["M54.16"],
        **fields,
    }
    referral, _ = create_inbound_referral(acting_user=acting_user, now=now, **values)
    return referral


# The shortest path from `received` to each inbound state, and what each move needs.
PATH_TO: dict[str, list[str]] = {
    State.RECEIVED: [],
    State.IN_REVIEW: [State.IN_REVIEW],
    State.PENDING_INFO: [State.PENDING_INFO],
    State.ACCEPTED: [State.ACCEPTED],
    State.DECLINED: [State.DECLINED],
    State.CONTACTING: [State.ACCEPTED, State.CONTACTING],
    State.SCHEDULED: [State.ACCEPTED, State.SCHEDULED],
    State.NO_SHOW: [State.ACCEPTED, State.SCHEDULED, State.NO_SHOW],
    State.SEEN: [State.ACCEPTED, State.SCHEDULED, State.SEEN],
    State.LOOP_CLOSED: [State.ACCEPTED, State.SCHEDULED, State.SEEN, State.LOOP_CLOSED],
    State.UNREACHABLE: [State.ACCEPTED, State.CONTACTING, State.UNREACHABLE],
    State.CANCELLED: [State.CANCELLED],
}


def fields_for(to: str, *, at: dt.datetime) -> dict:
    """Valid data for a move to `to` (an appointment a week after `at`, reasons, a report)."""
    return {
        State.PENDING_INFO: {"missing_info": "Recent MRI report and last clinic note"},
        State.DECLINED: {"reason": "outside_scope", "suggested_alternative": "Pain management"},
        State.SCHEDULED: {"appointment": {"starts_at": at + dt.timedelta(days=7)}},
        State.LOOP_CLOSED: {
            "report_summary": "Seen in clinic; plan: physical therapy, review in 6 weeks."
        },
        State.UNREACHABLE: {"reason": "invalid_contact_details"},
        State.CANCELLED: {"reason": "patient_request"},
        State.COMPLETED: {"report_summary": "Consult report received."},
    }.get(to, {})


def advance(
    referral: Referral, to: str, *, acting_user: User, now: dt.datetime | None = None
) -> Referral:
    """Drive a received inbound referral to state `to` through the real transitions."""
    for step in PATH_TO[to]:
        if step == State.LOOP_CLOSED:  # the loop closes with the clinician's progress report
            write_progress_report(
                referral.pk,
                acting_user=acting_user,
                findings="Lumbar radiculopathy, no red flags.",
                plan="Physical therapy for six weeks, then review.",
                now=now,
            )
        referral = transitions.transition(
            referral.pk,
            to=step,
            acting_user=acting_user,
            now=now,
            fields=fields_for(step, at=now or referral.received_at),
        )
    return referral
