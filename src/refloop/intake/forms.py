"""The review form: what was read from a packet, as editable fields with their confidence."""

from django import forms

from refloop.core.errors import InvalidInput
from refloop.intake.models import FIELD_NAMES, IntakeCandidate
from refloop.intake.review import extracted_values, parse_date
from refloop.referrals.models import Urgency
from refloop.web.referral_forms import ReferringPartnerSearch

MAX_FILES = 20
# Below this confidence a field is flagged even when the engine did not ask for review.
LOW_CONFIDENCE = 0.6


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once and cleans each."""

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            return [super().clean(None, initial)]  # raises "required"
        return [super(MultipleFileField, self).clean(one, initial) for one in files]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Fax packets or scanned documents",
        help_text="PDF, TIFF, PNG or JPEG; several at once if you like.",
        error_messages={"required": "Choose at least one file."},
        widget=MultipleFileInput(attrs={"accept": ".pdf,.tif,.tiff,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_FILES} files at a time.")
        return files


def iso_date(value: str) -> str:
    """A read date as a date field shows it; one that is no date is left for the coordinator."""
    try:
        return parse_date(value, "patient_date_of_birth").isoformat()
    except InvalidInput:
        return ""


LABELS = {
    "patient_first_name": "First name",
    "patient_last_name": "Last name",
    "patient_date_of_birth": "Date of birth",
    "patient_phone": "Phone",
    "provider_name": "Provider name",
    "provider_npi": "NPI",
    "provider_phone": "Provider phone",
    "provider_fax": "Provider fax",
    "reason": "Reason for referral",
    "icd10_codes": "ICD-10 codes",
    "urgency": "Urgency",
    "insurance": "Insurance",
}


def text(label: str, *, required: bool = False, max_length: int = 120, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", **attrs}),
    )


def page_box(box) -> str | None:
    """ "x0,y0,x1,y1" (fractions of the page) where a field was read, for the page's
    highlight; None where the reading has no box or a malformed one."""
    if not isinstance(box, list | tuple) or len(box) != 4:
        return None
    if not all(isinstance(v, int | float) and 0 <= v <= 1 for v in box):
        return None
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return None
    return ",".join(f"{v:.4f}" for v in box)


class ReviewForm(ReferringPartnerSearch):
    """Starts from the extracted values; each field says how sure the reading was."""

    patient_first_name = text(LABELS["patient_first_name"], required=True, max_length=80)
    patient_last_name = text(LABELS["patient_last_name"], required=True, max_length=80)
    patient_date_of_birth = forms.DateField(
        label=LABELS["patient_date_of_birth"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    patient_phone = text(LABELS["patient_phone"], max_length=30, type="tel")
    insurance = text(LABELS["insurance"])
    reason = forms.CharField(label=LABELS["reason"], widget=forms.Textarea(attrs={"rows": 3}))
    icd10_codes = text(LABELS["icd10_codes"], max_length=200)
    urgency = forms.ChoiceField(
        label=LABELS["urgency"], choices=Urgency.choices, initial=Urgency.ROUTINE
    )
    provider_name = text(LABELS["provider_name"], max_length=160)
    provider_npi = text(LABELS["provider_npi"], max_length=10, inputmode="numeric")
    provider_phone = text(LABELS["provider_phone"], max_length=30, type="tel")
    provider_fax = text(LABELS["provider_fax"], max_length=30, type="tel")
    add_provider = forms.BooleanField(
        label="Add this provider to the directory when creating the referral", required=False
    )
    practice_name = text("Their practice", max_length=200)
    practice_city = text("City", max_length=80)

    def __init__(self, *args, candidate: IntakeCandidate, **kwargs):
        self.candidate = candidate
        kwargs.setdefault("label_suffix", "")
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_for(candidate))
        super().__init__(*args, **kwargs)
        search = self.fields["referring_search"]
        search.label, search.help_text = (
            "Find another provider",
            "A name, an NPI or a city, then choose.",
        )
        self.flag_uncertain_fields()

    @staticmethod
    def initial_for(candidate: IntakeCandidate) -> dict:
        initial = extracted_values(candidate)
        initial["patient_date_of_birth"] = iso_date(initial["patient_date_of_birth"])
        if initial["urgency"].lower() in Urgency.values:
            initial["urgency"] = initial["urgency"].lower()
        else:
            initial["urgency"] = Urgency.ROUTINE
        proposal = candidate.proposed_provider or {}
        initial["referring_provider"] = candidate.matched_provider_id
        initial["add_provider"] = bool(proposal) and candidate.matched_provider_id is None
        initial["practice_name"] = str(proposal.get("practice") or "")
        initial["practice_city"] = str(proposal.get("city") or "")
        return initial

    def confidence(self, name: str) -> dict:
        read = self.candidate.fields.get(name) or {}
        value = read.get("confidence")
        confidence = float(value) if isinstance(value, int | float) else None
        flagged = bool(read.get("review")) or (
            confidence is not None and confidence < LOW_CONFIDENCE
        )
        return {
            "percent": round(confidence * 100) if confidence is not None else None,
            "review": flagged,
            "page": read.get("page"),
            "found": bool(str(read.get("value") or "").strip()),
            "box": page_box(read.get("box")),
        }

    def flag_uncertain_fields(self) -> None:
        for name in FIELD_NAMES:
            read = self.confidence(name)
            if read["review"]:
                self.fields[name].widget.attrs["data-review"] = "true"
            if read["percent"] is None and not read["found"]:
                help_text = "Not found on the pages."
            elif read["percent"] is None:
                help_text = "Read from the pages."
            else:
                help_text = f"Read with {read['percent']} % confidence."
            if read["review"]:
                help_text += " Check this against the page."
            self.fields[name].help_text = help_text

    def extracted_fields(self) -> list[dict]:
        """The extracted fields in FIELD_NAMES order, each with its bound field and reading."""
        return [
            {"field": self[name], "name": name, **self.confidence(name)} for name in FIELD_NAMES
        ]

    def values(self) -> dict[str, str]:
        """The confirmed values as the review service takes them (strings)."""
        data = {name: self.cleaned_data.get(name) for name in FIELD_NAMES}
        born = data["patient_date_of_birth"]
        data["patient_date_of_birth"] = born.isoformat() if born else ""
        return {name: "" if value is None else str(value) for name, value in data.items()}
