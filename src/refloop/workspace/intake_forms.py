"""The quick-intake form: a phone or walk-in referral, typed in while the caller waits."""

from django import forms

from refloop.core.models import User
from refloop.referrals.models import ReferralChannel, SourceType
from refloop.referrals.selectors import assignable_staff
from refloop.web.referral_forms import NewReferralFields, ReferringPartnerSearch
from refloop.web.words import person

# Channels that only machines use; a person at the intake desk picks from the rest.
AUTOMATED_CHANNELS = {
    ReferralChannel.PORTAL,
    ReferralChannel.HL7,
    ReferralChannel.FHIR,
    ReferralChannel.API,
    ReferralChannel.IMPORT,
}

SOURCE_LABELS = {
    SourceType.PROVIDER: "A provider or practice",
    SourceType.PATIENT: "Another patient recommended us",
    SourceType.SELF: "The patient (self-referral)",
    SourceType.MARKETING: "Marketing or an event",
    SourceType.OTHER: "Other",
}


class AssigneeChoice(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{person(user)} ({user.get_role_display().lower()})"


class IntakeForm(ReferringPartnerSearch, NewReferralFields):
    channel = forms.ChoiceField(
        label="How did the referral reach us",
        choices=[(c.value, c.label) for c in ReferralChannel if c not in AUTOMATED_CHANNELS],
        initial=ReferralChannel.PHONE,
    )
    source_type = forms.ChoiceField(
        label="Source",
        choices=[("", "Choose who sent the patient"), *SOURCE_LABELS.items()],
        help_text="Who sent the patient to us.",
    )
    source_other = forms.CharField(
        label="Specify other", max_length=200, required=False, help_text="Say who or what it was."
    )
    campaign = forms.CharField(label="Campaign or event", max_length=120, required=False)
    assignee = AssigneeChoice(
        label="Assigned to", queryset=assignable_staff(), required=False, empty_label="Unassigned"
    )

    service_fields = (
        *NewReferralFields.service_fields,
        "channel",
        "source_type",
        "source_other",
        "campaign",
        "referring_provider",
        "referring_practice",
        "assignee",
    )

    field_order = [
        "idempotency_key",
        "channel",
        "source_type",
        "source_other",
        "campaign",
        "referring_search",
        "referring_provider",
        "referring_practice",
    ]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["assignee"].queryset = assignable_staff()

    def clean(self):
        data = super().clean()
        source = data.get("source_type")
        if source == SourceType.OTHER and not (data.get("source_other") or "").strip():
            self.add_error("source_other", "Say what the other source is.")
        provider = data.get("referring_provider")
        if provider is not None:
            data["referring_practice"] = provider.practice
        if (
            source == SourceType.PROVIDER
            and provider is None
            and data.get("referring_practice") is None
        ):
            self.add_error(
                "referring_search",
                "Choose the referring provider or practice from the search results.",
            )
        return data


class PatientLookupForm(forms.Form):
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80)
    date_of_birth = forms.DateField()
