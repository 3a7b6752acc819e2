"""The forms of the Settings pages; the services (settings_services) make the changes."""

from zoneinfo import available_timezones

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet

from refloop.core.models import User
from refloop.core.roles import Capability, Role, roles_with
from refloop.practice.models import (
    Department,
    Location,
    Organization,
    validate_logo,
    validate_time_zone,
)
from refloop.referrals.models import AttachmentKind, kind_label
from refloop.web.words import person
from refloop.workspace.settings_services import STAFF_ROLES

ROLE_WORDS = {
    Role.ADMIN: "Admin: settings, users, the audit log, and all referral work",
    Role.COORDINATOR: "Coordinator: works referrals (intake, contact, scheduling)",
    Role.CLINICIAN: "Clinician: decisions and reports for their departments",
    Role.LIAISON: "Liaison: referring practices and analytics, no patient details",
    Role.ANALYST: "Analyst: de-identified analytics only",
}


def staff_users() -> QuerySet[User]:
    return User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by(
        "last_name", "first_name", "username"
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person(obj)


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return person(obj)


def time_zones() -> list[str]:
    """The zones the time-zone field suggests (every zone named Area/City)."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


class PracticeForm(forms.Form):
    name = forms.CharField(max_length=200, label="Practice name")
    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="Every time shown and every period boundary uses it, e.g. America/Chicago.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    phone = forms.CharField(max_length=30, required=False, label="Main phone")
    fax = forms.CharField(max_length=30, required=False, label="Main fax")
    logo = forms.FileField(
        required=False,
        validators=[validate_logo],
        help_text="PNG or JPEG under 512 KB, shown in the header and on the sign-in page.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")

    @classmethod
    def for_organization(cls, org: Organization) -> "PracticeForm":
        return cls(initial={f: getattr(org, f) for f in ("name", "time_zone", "phone", "fax")})

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter the practice's name.")
        return name


class LocationForm(forms.ModelForm):
    """Where patients are seen: the address on appointment letters and the public page."""

    class Meta:
        model = Location
        fields = ["name", "address", "city", "state", "postal_code", "phone", "fax"]
        labels = {"address": "Street address", "state": "State (2 letters)", "postal_code": "ZIP"}

    def clean_state(self):
        state = self.cleaned_data["state"].strip().upper()
        if state and not (len(state) == 2 and state.isalpha()):
            raise forms.ValidationError("Use the two-letter state code, e.g. IL.")
        return state


def _hours(label: str, help_text: str, *, most: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        validators=[MinValueValidator(1), MaxValueValidator(most)],
        widget=forms.NumberInput(attrs={"min": 1, "max": most, "inputmode": "numeric"}),
    )


class SlaForm(forms.Form):
    sla_stat_hours = _hours(
        "First contact, stat (hours)", "After a stat referral is received.", most=168
    )
    sla_urgent_hours = _hours("First contact, urgent (hours)", "After an urgent one.", most=720)
    sla_routine_hours = _hours("First contact, routine (hours)", "After a routine one.", most=720)
    report_within_hours = _hours(
        "Consult report (hours after the visit)",
        "When the loop with the referring provider should be closed; 168 is a week.",
        most=2160,
    )
    max_contact_attempts = _hours(
        "Contact attempts before unreachable",
        "Unsuccessful attempts to reach the patient before the referral can be marked unreachable.",
        most=10,
    )

    @classmethod
    def for_organization(cls, org: Organization) -> "SlaForm":
        return cls(initial={name: getattr(org, name) for name in cls.base_fields})


class MfaPolicyForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=[
            (r.value, r.value.capitalize())
            for r in STAFF_ROLES
            if r not in roles_with(Capability.MANAGE_SETTINGS)
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Roles that must sign in with a second factor",
        help_text="Admins always must. Someone of a role ticked here is asked to set one up "
        "at their next sign-in.",
    )


class DepartmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What it treats, in words for referring practices and patients.",
    )
    # Querysets are lazy and copied for each form: each form reads the users of its time.
    point_of_contact = StaffChoiceField(
        queryset=staff_users(),
        required=False,
        help_text="Receives SLA escalations and alerts about unassigned referrals.",
    )
    members = StaffMultipleChoiceField(
        queryset=staff_users(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Clinicians see their departments' referrals; coordinators get a "
        "“My department” tab.",
    )

    @classmethod
    def for_department(cls, department: Department) -> "DepartmentForm":
        return cls(
            initial={
                "name": department.name,
                "description": department.description,
                "point_of_contact": department.point_of_contact_id,
                "members": list(department.staff.values_list("pk", flat=True)),
            }
        )


class ListField(forms.CharField):
    """A list kept as JSON on the model, typed as words separated by commas."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [item.strip() for item in (value or "").split(",") if item.strip()]


def _list(label: str, help_text: str) -> ListField:
    return ListField(required=False, label=label, help_text=help_text)


def _age(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        label=label,
        validators=[MinValueValidator(0), MaxValueValidator(130)],
        widget=forms.NumberInput(attrs={"min": 0, "max": 130, "inputmode": "numeric"}),
    )


# What triage checks a referral against (refloop.referrals.triage).
CRITERIA = (
    "accepted_conditions",
    "excluded_conditions",
    "accepted_keywords",
    "excluded_keywords",
    "accepted_insurances",
    "min_age",
    "max_age",
    "required_documents",
)


class DepartmentEditForm(DepartmentForm):
    """A department with its intake criteria, which triage checks every referral against."""

    accepted_conditions = _list("Conditions it accepts", "ICD-10 prefixes, e.g. M54, M51.")
    excluded_conditions = _list("Conditions it does not take", "ICD-10 prefixes, e.g. M54.5.")
    accepted_keywords = _list(
        "Words that point here", "In a referral's reason, e.g. sciatica, back pain."
    )
    excluded_keywords = _list("Words that mean not a fit", "E.g. pregnant.")
    accepted_insurances = _list("Insurances it accepts", "Payer names; empty means all.")
    min_age = _age("Youngest patient (years)")
    max_age = _age("Oldest patient (years)")
    required_documents = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(k.value, kind_label(k.value)) for k in AttachmentKind if k != "consult_report"],
        label="Documents a referral must include",
    )

    @classmethod
    def with_criteria(cls, department: Department) -> "DepartmentEditForm":
        initial = cls.for_department(department).initial
        return cls(initial={**initial, **{name: getattr(department, name) for name in CRITERIA}})

    def clean(self):
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_age"), cleaned.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", "The oldest age must not be below the youngest.")
        return cleaned


class NewDepartmentForm(DepartmentForm):
    code = forms.SlugField(
        max_length=30,
        label="Short code",
        help_text="Letters, digits and hyphens, e.g. spine; used in links and exports and "
        "not changed later.",
    )

    field_order = ["name", "code", "description", "point_of_contact", "members"]


class StaffUserForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(
        help_text="The link to choose a password goes here, and so do notices."
    )
    role = forms.ChoiceField(
        choices=[(r.value, ROLE_WORDS.get(r, r.value)) for r in STAFF_ROLES],
        widget=forms.RadioSelect,
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Clinicians see the referrals of their departments.",
    )
    compliance_officer = forms.BooleanField(
        required=False,
        label="Compliance officer",
        help_text=(
            "May record a gift past a physician's yearly limit under the repayment exception, "
            "and its repayment (42 CFR 411.357(k)(3)). No role has this by itself."
        ),
    )

    @classmethod
    def for_user(cls, user: User) -> "StaffUserForm":
        return cls(
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "role": user.role,
                "departments": list(user.departments.values_list("pk", flat=True)),
                "compliance_officer": user.compliance_officer,
            }
        )


class NewStaffUserForm(StaffUserForm):
    # Compliance officer is granted on the user's own page, once the account exists.
    compliance_officer = None  # type: ignore[assignment]  # Django's way to drop a field
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="What they type to sign in: letters, digits and . @ + - _ only.",
        error_messages={"invalid": "Use letters, digits and . @ + - _ only."},
    )

    field_order = ["username", "first_name", "last_name", "email", "role", "departments"]

    def clean_username(self):
        # The service refuses it too; said here as well so it shows before any confirmation.
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                f"The username {username} is already taken; choose another."
            )
        return username
