"""Fields every new-referral form shares (staff intake and outbound, the portal, the intake
review): the patient, the referral's reason and codes, the one-time key, and the search for the
referring provider or practice; with how a refused create is shown on the form."""

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.urls import reverse

from refloop.core.errors import InvalidInput
from refloop.core.models import User
from refloop.network.models import Practice, Provider
from refloop.network.selectors import find_referral_sources
from refloop.patients.models import Patient, Sex
from refloop.practice.models import Department
from refloop.referrals.models import Urgency
from refloop.referrals.selectors import visible_patient
from refloop.referrals.services import PATIENT_FIELDS, normalize_icd10
from refloop.web.forms import attach_domain_error

T = TypeVar("T")

# What the services call a field, and the field of these forms that shows its error.
SERVICE_FIELDS = {
    "patient.first_name": "first_name",
    "patient.last_name": "last_name",
    "patient.date_of_birth": "date_of_birth",
    "patient.sex": "sex",
    "patient.phone": "phone",
    "patient.email": "email",
    "patient.address": "address",
    "patient.city": "city",
    "patient.state": "state",
    "patient.postal_code": "postal_code",
    "patient.insurance_payer": "insurance_payer",
    "patient.insurance_member_id": "insurance_member_id",
    "patient.preferred_language": "preferred_language",
    "referring_provider_id": "referring_search",
    "referring_practice_id": "referring_search",
    "receiving_practice_id": "receiving_practice",
    "receiving_provider_id": "receiving_provider",
    "assignee_id": "assignee",
    "department_id": "department",
}


def form_error(error: InvalidInput) -> InvalidInput:
    """A service's error, renamed to the form field that shows it."""
    field = SERVICE_FIELDS.get(error.field) if error.field else None
    return InvalidInput(error.message, field=field or error.field)


def split_codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text or "") if code]


def request_fingerprint(data) -> str:
    """The same form sent twice gives the same fingerprint (the CSRF token aside)."""
    fields = {
        name: data.getlist(name)
        for name in sorted(data)
        if name not in ("csrfmiddlewaretoken", "idempotency_key", "action")
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def show_creation_error(form, error: InvalidInput, *, start_again: str) -> None:
    """A refused create on its form: a reused form says so, anything else sits by its field."""
    if error.field == "Idempotency-Key":
        form.add_error(None, f"This form was already used for another referral. {start_again}")
    else:
        attach_domain_error(form, form_error(error))


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class PatientFields(forms.Form):
    """A new patient's details (or the name and birth date to look one up)."""

    patient_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    first_name = forms.CharField(label="First name", max_length=80)
    last_name = forms.CharField(label="Last name", max_length=80)
    date_of_birth = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, initial=Sex.UNKNOWN)
    phone = forms.CharField(
        label="Phone",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label="Email", required=False)
    insurance_payer = forms.CharField(label="Insurance", max_length=120, required=False)
    insurance_member_id = forms.CharField(label="Member ID", max_length=40, required=False)
    preferred_language = forms.CharField(
        label="Preferred language", max_length=40, initial="English"
    )
    # Never ticked in advance: the box records what the patient said, not a default.
    contact_consent = forms.BooleanField(
        label="The patient agrees to be contacted about this referral",
        required=False,
    )
    address = forms.CharField(label="Street address", max_length=200, required=False)
    city = forms.CharField(label="City", max_length=80, required=False)
    state = forms.CharField(label="State", max_length=2, required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def new_patient_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in PATIENT_FIELDS}
        return {k: v for k, v in data.items() if v not in ("", None) or k == "contact_consent"}

    def patient_for_referral(self) -> Patient | dict | None:
        """The patient on record chosen in the lookup, else the new patient's details;
        None, with an error on the form, when the chosen one is no longer visible."""
        patient_id = self.cleaned_data["patient_id"]
        if not patient_id:
            return self.new_patient_data()
        patient = visible_patient(self.user, patient_id)
        if patient is None:
            self.add_error(None, "The patient chosen is no longer on record; look up again.")
        return patient

    def clean_state(self) -> str:
        return self.cleaned_data["state"].upper()


def _codes(value: str) -> list[str]:
    try:
        return normalize_icd10(split_codes(value))
    except InvalidInput as error:
        raise forms.ValidationError(error.message) from error


class NewReferralFields(PatientFields):
    """What every new-referral form asks besides its own fields: a one-time key (a resubmit
    finds the first referral), the patient, the reason and codes, urgency, department."""

    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)
    reason = forms.CharField(label="Reason for referral", widget=forms.Textarea(attrs={"rows": 3}))
    icd10_codes = forms.CharField(
        label="ICD-10 codes",
        required=False,
        help_text="Separate with commas or spaces, e.g. M54.16, M51.26.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    urgency = forms.ChoiceField(label="Urgency", choices=Urgency.choices, initial=Urgency.ROUTINE)
    department = forms.ModelChoiceField(
        label="Department",
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="Decide later",
    )

    # The fields the creating service takes as they are cleaned; a form adds its own.
    service_fields: tuple[str, ...] = (
        "reason",
        "icd10_codes",
        "urgency",
        "department",
        "idempotency_key",
    )

    def clean_icd10_codes(self) -> list[str]:
        return _codes(self.cleaned_data["icd10_codes"])

    def create_referral(self, create: Callable[..., T], request, *, start_again: str) -> T | None:
        """What `create` (a service creating a referral) returns for this form, called as
        the signed-in user with the patient chosen or typed in and the form's fields; None,
        with the refusal on the form, when the form or the service says no (`start_again`:
        how to begin anew when the form was already used)."""
        if not self.is_valid():
            return None
        patient = self.patient_for_referral()
        try:
            return create(
                acting_user=request.user, patient=patient, **self.referral_fields(request.POST)
            )
        except InvalidInput as error:
            show_creation_error(self, error, start_again=start_again)
            return None

    def referral_fields(self, posted) -> dict:
        """The keyword arguments of the service creating the referral: the cleaned values of
        `service_fields`, and the fingerprint of the `posted` data (with the one-time key, it
        makes a resubmission find the first referral)."""
        cleaned = self.cleaned_data
        fields = {name: cleaned[name] for name in self.service_fields}
        return {**fields, "fingerprint": request_fingerprint(posted)}


class ReferringPartnerSearch(forms.Form):
    """The type-ahead over the directory's providers and practices, and what was chosen.

    The search box asks `intake_provider_search` as the user types; choosing a result
    fills the hidden provider (or, for a practice without a provider, practice) field.
    """

    referring_search = forms.CharField(
        label="Referring provider",
        required=False,
        help_text="Type a provider's or practice's name, an NPI or a city, then choose.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    referring_provider = forms.ModelChoiceField(
        queryset=Provider.objects.select_related("practice"),
        required=False,
        widget=forms.HiddenInput,
    )
    referring_practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referring_search"].widget.attrs.update(
            {
                "hx-get": reverse("intake_provider_search"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#source-results",
                "hx-sync": "this:replace",
                "aria-controls": "source-results",
            }
        )


def source_results(user: User, q: str) -> dict:
    """What the referring-partner search shows for `q` (its type-ahead and a re-shown form)."""
    providers, practices = find_referral_sources(user, q)
    return {
        "providers": providers,
        "practices": practices,
        "count": len(providers) + len(practices),
        "searched": len(q.strip()) >= 2,
    }
