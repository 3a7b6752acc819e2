"""The small forms of the referral detail page: one per transition and per other action.

Each form knows the referral it acts on and turns its cleaned data into the keyword
arguments the service expects; field names follow the services' own, so a service's
InvalidInput lands beside the field it names.
"""

from datetime import datetime
from typing import cast

from django import forms
from django.db import models

from refloop.core import uploads
from refloop.core.errors import DomainError
from refloop.core.models import User
from refloop.core.roles import Role
from refloop.practice.models import Department, Location, Organization
from refloop.referrals.models import (
    AttachmentKind,
    CancelReason,
    ContactChannel,
    ContactOutcome,
    DeclineReason,
    Direction,
    ProgressReport,
    Referral,
    UnreachableReason,
    kind_label,
)
from refloop.referrals.reports import summary_of
from refloop.referrals.selectors import assignable_staff
from refloop.web.words import person, words


def choices_of(choices, *, blank: str | None = None) -> list[tuple[str, str]]:
    options = [(value, words(value)) for value in choices.values]
    return [("", blank), *options] if blank is not None else options


def textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ActionForm(forms.Form):
    """Every action form carries the version of the referral the user was looking at."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    action_to = ""  # the target state, for a move's form (set by detail_actions.bound)
    # A service's field name -> this form's field, where they differ.
    service_fields: dict[str, str | None] = {}

    def __init__(self, *args, referral: Referral, org: Organization, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("expected_version", referral.version)
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.org = org
        self.fields["expected_version"].error_messages["required"] = (
            "This form lost track of the referral's version; reload the page and try again."
        )

    def field_for(self, service_field: str | None) -> str | None:
        if service_field is None:
            return None
        return self.service_fields.get(service_field, service_field)

    def values(self) -> dict:
        """What the service needs, from the cleaned data (expected_version aside)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "expected_version"}


class NoteForm(ActionForm):
    note = forms.CharField(label="Note (optional)", required=False, widget=textarea(2))


class RequestInfoForm(ActionForm):
    missing_info = forms.CharField(
        label="What is missing",
        widget=textarea(),
        help_text="Sent to the referrer, e.g. the recent MRI report and last clinic note.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Triage found required documents missing: the request starts out naming them.
        if not self.is_bound and self.referral.missing_documents:
            self.initial["missing_info"] = missing_documents_request(self.referral)


def missing_documents_request(referral: Referral) -> str:
    department = referral.department.name if referral.department else "the department"
    kinds = ", ".join(kind_label(kind).lower() for kind in referral.missing_documents)
    return (
        f"To review this referral, {department} needs: {kinds}. "
        "Please send them through the portal or by fax."
    )


class AcceptForm(ActionForm):
    department = forms.ModelChoiceField(
        label="Department that will see the patient", queryset=Department.objects.none()
    )
    note = forms.CharField(label="Note (optional)", required=False, widget=textarea(2))
    service_fields = {"department_id": "department"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.referral.direction == Direction.OUTBOUND:
            del self.fields["department"]
        else:
            department = cast(forms.ModelChoiceField, self.fields["department"])
            department.queryset = Department.objects.order_by("name")
            department.initial = self.referral.department_id

    def values(self) -> dict:
        values = {"note": self.cleaned_data["note"]}
        if "department" in self.cleaned_data:
            values["department_id"] = self.cleaned_data["department"].pk
        return values


class ReasonForm(ActionForm):
    reason_choices: type[models.TextChoices] = CancelReason
    reason = forms.ChoiceField(label="Reason")
    reason_detail = forms.CharField(
        label="Details", required=False, widget=textarea(2), help_text="Required for 'Other'."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reason = cast(forms.ChoiceField, self.fields["reason"])
        reason.choices = choices_of(self.reason_choices, blank="Choose a reason")

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned
            and cleaned.get("reason") == "other"
            and not (cleaned.get("reason_detail") or "").strip()
        ):
            self.add_error("reason_detail", "Say what the other reason is.")
        return cleaned


class CancelForm(ReasonForm):
    reason_choices = CancelReason


class UnreachableForm(ReasonForm):
    reason_choices = UnreachableReason


class DeclineForm(ReasonForm):
    reason_choices = DeclineReason
    suggested_alternative = forms.CharField(
        label="Suggested alternative",
        required=False,
        widget=textarea(2),
        help_text="Where the referrer could send the patient instead.",
    )


class _ClinicianChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person(obj)


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{person(obj)} ({obj.role})"


class AppointmentForm(ActionForm):
    """Date and time are entered in the practice's time zone."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))
    clinician = _ClinicianChoice(
        label="Clinician", required=False, queryset=User.objects.none(), empty_label="Not yet"
    )
    location = forms.ModelChoiceField(
        label="Location", required=False, queryset=Location.objects.none(), empty_label="Not yet"
    )
    service_fields: dict[str, str | None] = {
        "appointment": "date",
        "appointment.starts_at": "date",
        "appointment.clinician_id": "clinician",
        "appointment.location_id": "location",
        "appointment.department_id": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time"].label = f"Time ({self.org.time_zone})"
        if self.referral.direction == Direction.OUTBOUND:
            # The visit is at the outside practice; only its date and time are ours to know.
            del self.fields["clinician"]
            del self.fields["location"]
            return
        clinician = cast(forms.ModelChoiceField, self.fields["clinician"])
        clinician.queryset = User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
        cast(forms.ModelChoiceField, self.fields["location"]).queryset = Location.objects.order_by(
            "name"
        )

    def values(self) -> dict:
        data = self.cleaned_data
        booking = {"starts_at": datetime.combine(data["date"], data["time"])}
        if data.get("clinician"):
            booking["clinician_id"] = data["clinician"].pk
        if data.get("location"):
            booking["location_id"] = data["location"].pk
        return {"appointment": booking}


class SeenForm(ActionForm):
    visit_value = forms.DecimalField(
        label="Visit value in $ (optional)",
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="For lifetime-value figures.",
    )
    note = forms.CharField(label="Note (optional)", required=False, widget=textarea(2))


class ReportForm(ActionForm):
    report_summary = forms.CharField(label="Report summary", widget=textarea(4))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["report_summary"]
        if self.referral.direction == Direction.OUTBOUND:
            field.label = "Summary of the report received"
            return
        field.label = "Findings and plan sent to the referrer"
        # The loop closes with the clinician's progress report: start from what it says.
        report = ProgressReport.objects.filter(referral_id=self.referral.pk).first()
        if report is not None and not self.is_bound:
            self.initial.setdefault("report_summary", summary_of(report))


class ContactAttemptForm(ActionForm):
    channel = forms.ChoiceField(label="Channel", choices=choices_of(ContactChannel))
    outcome = forms.ChoiceField(
        label="Outcome", choices=choices_of(ContactOutcome, blank="Choose the outcome")
    )
    note = forms.CharField(label="Note (optional)", required=False, widget=textarea(2))


class AssignForm(ActionForm):
    assignee = _StaffChoice(
        label="Assignee", required=False, queryset=User.objects.none(), empty_label="Unassigned"
    )
    service_fields = {"assignee_id": "assignee"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
        assignee.queryset = assignable_staff()
        assignee.initial = self.referral.assignee_id


class NoteAddForm(ActionForm):
    text = forms.CharField(label="Note", widget=textarea(3), max_length=5000)


class UploadForm(ActionForm):
    file = forms.FileField(label="Document (PDF, TIFF, PNG or JPEG, up to 20 MB)")
    kind = forms.ChoiceField(label="Kind", choices=choices_of(AttachmentKind))
    service_fields = {"upload": "file", "filename": "file"}

    def clean_file(self) -> uploads.CheckedFile:
        """The upload check (core.uploads) here, so a refusal shows beside the field and
        the scan runs before the referral's row is locked."""
        try:
            return uploads.check(self.cleaned_data["file"])
        except DomainError as refusal:
            raise forms.ValidationError(refusal.message) from None
