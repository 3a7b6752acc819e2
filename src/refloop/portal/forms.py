"""The portal's forms: a referral with its documents, an answer to a request for
information, a message, accepting an invitation, and (for staff) inviting someone."""

from typing import cast

from django import forms

from refloop.core import uploads
from refloop.core.errors import DomainError, InvalidInput
from refloop.core.models import User
from refloop.network.models import Practice, Provider
from refloop.portal import services
from refloop.portal.selectors import practice_providers
from refloop.portal.services import MESSAGE_MAX_CHARS
from refloop.referrals.documents import ACCEPTED_DESCRIPTION
from refloop.referrals.models import AttachmentKind, Referral
from refloop.web.referral_forms import NewReferralFields

# What a referring practice may attach; consult reports come from us.
SENDABLE_KINDS = [
    (AttachmentKind.REFERRAL_LETTER.value, "Referral letter"),
    (AttachmentKind.RECORDS.value, "Clinic notes or records"),
    (AttachmentKind.IMAGING.value, "Imaging report"),
    (AttachmentKind.INSURANCE.value, "Insurance card or authorization"),
    (AttachmentKind.OTHER.value, "Other"),
]
MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class DocumentsField(forms.FileField):
    """Several files at once, each through the upload check (core.uploads); cleans to
    the CheckedFiles, so the service stores them without checking them again."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Attach at most {MAX_FILES} files at a time.")
        checked, problems = [], []
        for number, upload in enumerate(files, start=1):
            super().clean(upload, initial)
            try:
                checked.append(uploads.check(upload))
            except DomainError as refusal:
                # Numbered, not named: file names often carry the patient's.
                where = f"File {number} of {len(files)}: " if len(files) > 1 else ""
                problems.append(where + refusal.message)
        if problems:
            raise forms.ValidationError(problems)
        return checked


def documents_field(*, required: bool, label: str = "Files to attach") -> DocumentsField:
    return DocumentsField(
        label=label,
        required=required,
        help_text=f"{ACCEPTED_DESCRIPTION}, up to 20 MB each; you can choose several files.",
    )


class ProviderChoice(forms.ModelChoiceField):
    def label_from_instance(self, provider: Provider) -> str:
        return f"{provider} · NPI {provider.npi}"


class PortalReferralForm(NewReferralFields):
    """A referral from a partner practice: its provider, the patient, why, and documents."""

    referring_provider = ProviderChoice(
        label="Referring provider",
        queryset=Provider.objects.none(),
        empty_label="Choose the provider",
    )
    documents = documents_field(required=False)
    document_kind = forms.ChoiceField(
        label="What the files are", choices=SENDABLE_KINDS, initial="referral_letter"
    )

    service_fields = (
        *NewReferralFields.service_fields,
        "referring_provider",
        "documents",
        "document_kind",
    )

    field_order = ["idempotency_key", "referring_provider"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # The portal always records a new patient; looking up others' patients is not for it.
        del self.fields["patient_id"]
        providers = practice_providers(user)
        cast(forms.ModelChoiceField, self.fields["referring_provider"]).queryset = providers
        if not providers.exists():
            self.fields["referring_provider"].required = False
            self.fields[
                "referring_provider"
            ].help_text = (
                "Your practice has no providers on file with us; name the provider in the reason."
            )
        department = cast(forms.ModelChoiceField, self.fields["department"])
        department.empty_label = "Not sure: let the practice decide"
        self.fields["department"].help_text = "What each department accepts is listed beside."
        self.fields["reason"].help_text = "The question for the specialist, symptoms and duration."

    def patient_data(self) -> dict:
        return self.new_patient_data()


class AnswerInfoForm(forms.Form):
    """Records sent in answer to a request for information."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    documents = documents_field(required=True, label="Records to send")
    document_kind = forms.ChoiceField(
        label="What the files are", choices=SENDABLE_KINDS, initial="records"
    )
    note = forms.CharField(
        label="Note for the coordinator (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "answer_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["documents"].error_messages["required"] = (
            "Attach the records that were asked for."
        )


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only people at your practice and ours who work this referral can read it.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "message_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["body"].error_messages["required"] = "Write a message before sending."

    def send(self, referral: Referral, request) -> bool:
        """Post the message on the referral as the signed-in user (either side of the
        thread); False, with the refusal on the form, when the form or the service says no."""
        if not self.is_valid():
            return False
        try:
            services.post_message(
                referral.pk,
                acting_user=request.user,
                body=self.cleaned_data["body"],
            )
        except InvalidInput as error:
            self.add_error("body", error.message)
            return False
        return True


class AcceptInviteForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    username = forms.CharField(
        label="Username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
        help_text="What you will sign in with; letters, digits and @ . + - _ only.",
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters, not a common password.",
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        validator = User.username_validator
        try:
            validator(username)
        except forms.ValidationError:
            raise forms.ValidationError(
                "Use only letters, digits and @ . + - _ in the username."
            ) from None
        return username

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if (
            data.get("password")
            and data.get("password_again") is not None
            and data["password"] != data["password_again"]
        ):
            self.add_error("password_again", "The two passwords differ; type the same one twice.")
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    practice = forms.ModelChoiceField(
        label="Practice",
        queryset=Practice.objects.order_by("name", "pk"),
        empty_label="Choose a practice",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
