"""Reads for the public pages: the referral guide built from the department settings (shared
by the "How to refer" page and its PDF), and the submission card staff see."""

from dataclasses import dataclass, field

from refloop.core import audit
from refloop.core.models import User
from refloop.practice.models import Department, Location, Organization
from refloop.public.models import PublicSubmission, touch
from refloop.referrals.models import Referral, Urgency, kind_label
from refloop.referrals.selectors import FULL, is_visible, referral_access

URGENCY_WORDS: dict[str, str] = {
    Urgency.ROUTINE: "Routine",
    Urgency.URGENT: "Urgent",
    Urgency.STAT: "Same day (stat)",
}


def hours_phrase(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


def first_contact_targets(org: Organization) -> list[tuple[str, str]]:
    """(urgency label, "within N hours") for each urgency, routine first."""
    return [
        (
            URGENCY_WORDS[urgency],
            hours_phrase(int(org.first_contact_sla(urgency).total_seconds()) // 3600),
        )
        for urgency in (Urgency.ROUTINE, Urgency.URGENT, Urgency.STAT)
    ]


def age_range(min_age: int | None, max_age: int | None) -> str:
    if min_age is None and max_age is None:
        return "All ages"
    if max_age is None:
        return f"Ages {min_age} and over"
    if min_age is None or min_age == 0:
        return f"Ages {max_age} and under"
    return f"Ages {min_age} to {max_age}"


@dataclass(frozen=True)
class Place:
    name: str
    address: str
    phone: str
    fax: str


@dataclass(frozen=True)
class DepartmentGuide:
    name: str
    code: str
    treats: str
    specialties: list[str]
    accepted_conditions: list[str]
    excluded_conditions: list[str]
    excluded_keywords: list[str]
    insurances: list[str]  # empty: every insurance
    ages: str
    has_age_limit: bool
    required_documents: list[str]
    contact_name: str
    places: list[Place] = field(default_factory=list)

    @property
    def has_exclusions(self) -> bool:
        return (
            bool(self.excluded_conditions or self.excluded_keywords or self.insurances)
            or self.has_age_limit
        )


@dataclass(frozen=True)
class ReferralGuide:
    organization: Organization
    departments: list[DepartmentGuide]
    first_contact: list[tuple[str, str]]


def _place(location: Location) -> Place:
    town = ", ".join(p for p in (location.city, location.state) if p)
    address = ", ".join(
        p for p in (location.address, f"{town} {location.postal_code}".strip()) if p
    )
    return Place(location.name, address, location.phone, location.fax)


def _contact_name(user: User | None) -> str:
    # A name people can ask for on the phone; never an email address on a public page.
    if user is None or not user.is_active:
        return ""
    return user.get_full_name()


def referral_guide() -> ReferralGuide:
    """Everything the "How to refer" page and one-pager say, from the current settings."""
    org = Organization.current()
    departments = (
        Department.objects.select_related("point_of_contact")
        .prefetch_related("locations")
        .order_by("name")
    )
    guides = [
        DepartmentGuide(
            name=d.name,
            code=d.code,
            treats=d.description.strip(),
            specialties=list(d.accepted_specialties),
            accepted_conditions=list(d.accepted_conditions),
            excluded_conditions=list(d.excluded_conditions),
            excluded_keywords=list(d.excluded_keywords),
            insurances=list(d.accepted_insurances),
            ages=age_range(d.min_age, d.max_age),
            has_age_limit=d.min_age is not None or d.max_age is not None,
            required_documents=[kind_label(k) for k in d.required_documents],
            contact_name=_contact_name(d.point_of_contact),
            places=[_place(loc) for loc in sorted(d.locations.all(), key=lambda x: x.name)],
        )
        for d in departments
    ]
    return ReferralGuide(org, guides, first_contact_targets(org))


def submission_for_staff(user: User, referral: Referral):
    """The public form's record of who sent `referral` (None if it came another way),
    for staff who may see the referral's full detail; the read is audited."""
    if referral_access(user) != FULL or not is_visible(user, referral):
        return None
    submission = (
        PublicSubmission.objects.select_related("matched_provider")
        .filter(referral_id=referral.pk)
        .first()
    )
    if submission is not None:
        audit.record(
            "public_submission.read",
            touch(submission, referral),
            actor=user,
        )
    return submission
