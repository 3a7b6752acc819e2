"""The public referral form: for patients, their families and providers without an account."""

import re

from django import forms
from django.utils import timezone

from refloop.core.errors import InvalidInput
from refloop.network.npi import npi_problem
from refloop.practice.models import Department, Organization
from refloop.public.models import HeardAbout, SubmitterRole
from refloop.public.services import Submitter
from refloop.referrals.models import Urgency
from refloop.referrals.services import normalize_icd10

# The honeypot's name: a field people have no reason to fill, and bots like to.
HONEYPOT_FIELD = "website"

URGENCY_CHOICES = [
    (Urgency.ROUTINE.value, "Routine"),
    (Urgency.URGENT.value, "Urgent: a provider asked for a visit within days"),
]


def _text(label: str, max_length: int, *, required: str = "", **attrs) -> forms.CharField:
    """A one-line text field; `required` is the message shown when it is left empty."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=bool(required),
        error_messages={"required": required} if required else None,
        widget=forms.TextInput(attrs=attrs),
    )


class DepartmentField(forms.ModelChoiceField):
    """A department by its name alone."""

    def label_from_instance(self, obj: Department) -> str:
        return obj.name


class PublicReferralForm(forms.Form):
    nonce = forms.CharField(widget=forms.HiddenInput, required=False)
    website = forms.CharField(required=False, label="Leave this field empty")

    submitter_role = forms.ChoiceField(
        label="Who is filling in this form?",
        choices=SubmitterRole.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who is filling in this form."},
    )
    submitter_name = _text("Your name", 120, autocomplete="name")
    submitter_phone = _text("Your phone number", 30, type="tel", autocomplete="tel")
    practice_name = _text("Your practice or clinic", 200, autocomplete="organization")
    npi = _text("Your NPI (optional)", 10, inputmode="numeric", autocomplete="off")
    submitter_fax = _text("Your fax number (optional)", 30, type="tel")

    first_name = _text(
        "Patient's first name", 80, required="Enter the patient's first name.", autocomplete="off"
    )
    last_name = _text(
        "Patient's last name", 80, required="Enter the patient's last name.", autocomplete="off"
    )
    date_of_birth = forms.DateField(
        label="Patient's date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}),
        error_messages={
            "required": "Enter the patient's date of birth.",
            "invalid": "Enter the date of birth as a date, e.g. 1961-04-02.",
        },
    )
    phone = _text("Patient's phone number", 30, type="tel", autocomplete="off")
    email = forms.EmailField(
        label="Patient's email (if no phone)",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    insurance_payer = _text("Insurance (optional)", 120)
    insurance_member_id = _text("Insurance member ID (optional)", 40, autocomplete="off")
    preferred_language = _text("Preferred language", 40)
    contact_consent = forms.BooleanField(
        label="The patient agrees that we may contact them about this referral",
        error_messages={"required": "We can only take the referral if we may contact the patient."},
    )

    reason = forms.CharField(
        label="Reason for the referral",
        help_text="What the problem is and for how long, in your own words.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages={"required": "Say why the patient is referred, in a few words."},
    )
    department = DepartmentField(
        label="Which service is it for?",
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="Not sure: the practice decides",
    )
    urgency = forms.ChoiceField(
        label="How urgent is it?", choices=URGENCY_CHOICES, initial="routine"
    )
    icd10_codes = forms.CharField(
        label="Diagnosis codes, ICD-10 (optional)",
        required=False,
        max_length=200,
        help_text="For providers; separate with commas, e.g. M54.16, M51.26.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    heard_about = forms.ChoiceField(
        label="How did you hear about us?",
        choices=[("", "Choose one"), *HeardAbout.choices],
        error_messages={"required": "Tell us how you heard about us."},
    )
    heard_other = _text("Tell us how you heard about us", 200)
    campaign = _text("Which advertisement, article or event? (optional)", 120)
    referring_doctor = _text("Referring doctor or practice (optional)", 200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["preferred_language"].initial = "English"
        honeypot = self.fields[HONEYPOT_FIELD].widget
        honeypot.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate(timezone=Organization.current().zone)
        if born > today:
            raise forms.ValidationError("The date of birth is in the future; check the year.")
        if born.year < today.year - 120:
            raise forms.ValidationError("Check the year of the date of birth.")
        return born

    def clean_npi(self) -> str:
        npi = re.sub(r"\D", "", self.cleaned_data["npi"])
        if self.cleaned_data["npi"] and (problem := npi_problem(npi)):
            raise forms.ValidationError(problem)
        return npi

    def clean_icd10_codes(self) -> list[str]:
        codes = [c for c in re.split(r"[\s,;]+", self.cleaned_data["icd10_codes"]) if c]
        try:
            return normalize_icd10(codes)
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from error

    def clean(self):
        super().clean()
        data = self.cleaned_data
        role = data.get("submitter_role")
        if role in (SubmitterRole.CAREGIVER, SubmitterRole.PROVIDER):
            if not data.get("submitter_name", "").strip():
                self.add_error("submitter_name", "Give your name, so we know who sent this.")
            if not data.get("submitter_phone", "").strip():
                self.add_error("submitter_phone", "Give a phone number where we can reach you.")
        if role == SubmitterRole.PROVIDER and not data.get("practice_name", "").strip():
            self.add_error("practice_name", "Give the name of your practice or clinic.")
        if (
            "phone" not in self.errors
            and "email" not in self.errors
            and not data.get("phone", "").strip()
            and not data.get("email")
        ):
            self.add_error(
                "phone", "Give the patient's phone number or email, so we can reach them."
            )
        if data.get("heard_about") == HeardAbout.OTHER and not data.get("heard_other", "").strip():
            self.add_error(
                "heard_other",
                "You chose “Other” for how you heard about us: tell us how, in a few words.",
            )
        return data

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def submitter(self) -> Submitter:
        data = self.cleaned_data
        role = data["submitter_role"]
        is_provider = role == SubmitterRole.PROVIDER
        about_someone_else = role != SubmitterRole.PATIENT
        return Submitter(
            role=role,
            heard_about=data["heard_about"],
            heard_other=data["heard_other"] if data["heard_about"] == HeardAbout.OTHER else "",
            campaign=data["campaign"] if data["heard_about"] == HeardAbout.MARKETING else "",
            name=data["submitter_name"].strip() if about_someone_else else "",
            phone=data["submitter_phone"].strip() if about_someone_else else "",
            fax=data["submitter_fax"].strip() if is_provider else "",
            practice_name=data["practice_name"].strip() if is_provider else "",
            npi=data["npi"] if is_provider else "",
            referring_doctor=data["referring_doctor"].strip()
            if data["heard_about"] == HeardAbout.PROVIDER
            else "",
        )

    def patient_data(self) -> dict:
        data = self.cleaned_data
        patient = {
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "date_of_birth": data["date_of_birth"],
            "phone": data["phone"].strip(),
            "email": data["email"],
            "insurance_payer": data["insurance_payer"].strip(),
            "insurance_member_id": data["insurance_member_id"].strip(),
            "preferred_language": data["preferred_language"].strip() or "English",
            "contact_consent": True,
        }
        return {k: v for k, v in patient.items() if v not in ("", None)}

    def show_service_error(self, error: InvalidInput) -> None:
        """A refusal from the referrals service, beside the field it names if this form has it."""
        field = (error.field or "").removeprefix("patient.")
        if field == "source_other":
            field = "heard_other"
        self.add_error(field if field in self.fields else None, error.message)


class FriendReferralForm(PublicReferralForm):
    """The form reached through an advocate's personal link: the same, plus the friend's
    answer to whether the person who gave them the link may be told (no, unless they say yes)."""

    may_thank = forms.ChoiceField(
        label=(
            "May we let the person who gave you this link know that you contacted us, "
            "so we can thank them?"
        ),
        choices=[("no", "No"), ("yes", "Yes, you may tell them my first name")],
        initial="no",
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["heard_about"].initial = HeardAbout.PATIENT

    @property
    def may_name_friend(self) -> bool:
        return self.cleaned_data.get("may_thank") == "yes"
