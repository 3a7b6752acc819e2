"""The forms of the ledger and event pages; the services (outreach.ledger, outreach.events)
apply the rules."""

from decimal import Decimal
from typing import cast

from django import forms

from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import ledger
from refloop.outreach.models import Attendee, EventKind

Person = Provider | StaffContact


def person_choices(practice: Practice, *, physicians_only: bool = False) -> list[tuple[str, str]]:
    """The people of `practice` as choices ("provider:12", "Ann Lee, MD · physician")."""
    out = []
    for provider in practice.providers.order_by("last_name", "first_name"):
        physician = ledger.is_physician(provider.credentials)
        if physicians_only and not physician:
            continue
        said = "physician: the yearly limit applies" if physician else "no limit"
        out.append((f"provider:{provider.pk}", f"{provider} · {said}"))
    if not physicians_only:
        for staff in practice.staff.order_by("name"):
            out.append((f"staff:{staff.pk}", f"{staff} · no limit"))
    return out


def person_from(value: str) -> Person | None:
    kind, _, pk = value.partition(":")
    if not pk.isdigit():
        return None
    if kind == "provider":
        return Provider.objects.filter(pk=int(pk)).first()
    if kind == "staff":
        return StaffContact.objects.filter(pk=int(pk)).first()
    return None


def _money(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


class GiftForm(forms.Form):
    recipient = forms.ChoiceField(label="Given to", widget=forms.RadioSelect)
    given_on = forms.DateField(label="Given on", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label="What was given",
        choices=ledger.KIND_CHOICES,
        widget=forms.RadioSelect,
        help_text="Cash and cash equivalents are never allowed (42 CFR 411.357(k)(1)).",
    )
    description = forms.CharField(max_length=200, help_text="For example: lunch for the office.")
    value = _money("Value ($)", min_value=Decimal("0.01"), help_text="Its fair market value.")

    physicians_only = False

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
        cast(forms.ChoiceField, self.fields["recipient"]).choices = person_choices(
            practice, physicians_only=self.physicians_only
        )

    def clean_recipient(self) -> Person:
        person = person_from(self.cleaned_data["recipient"])
        if person is None or person.practice_id != self.practice.pk:
            raise forms.ValidationError("Choose someone at this practice.")
        return person


class OverageForm(GiftForm):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How it happened (the exception is for an excess given inadvertently).",
    )

    physicians_only = True


class RepaymentForm(forms.Form):
    repaid_on = forms.DateField(label="Repaid on", widget=forms.DateInput(attrs={"type": "date"}))
    amount = _money("Amount repaid ($)", min_value=Decimal("0.01"))


class LimitForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)
    amount = _money("Limit ($)", min_value=Decimal("0.01"))


class EventForm(forms.Form):
    kind = forms.ChoiceField(choices=EventKind.choices, widget=forms.RadioSelect)
    title = forms.CharField(max_length=200)
    starts_at = forms.DateTimeField(
        label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(max_length=200, required=False)
    total_cost = _money(
        "Total cost ($)",
        min_value=Decimal("0"),
        initial=Decimal("0"),
        help_text="Shared equally among those who came, on the gift ledger.",
    )


class InviteForm(forms.Form):
    people = forms.MultipleChoiceField(label="Invite", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
        cast(forms.ChoiceField, self.fields["people"]).choices = person_choices(practice)

    def chosen(self) -> tuple[list[Provider], list[StaffContact]]:
        people = [person_from(v) for v in self.cleaned_data["people"]]
        return (
            [p for p in people if isinstance(p, Provider)],
            [p for p in people if isinstance(p, StaffContact)],
        )


class AttendanceForm(forms.Form):
    attended = forms.MultipleChoiceField(
        label="Who came", required=False, widget=forms.CheckboxSelectMultiple
    )
    total_cost = _money("Total cost ($)", min_value=Decimal("0"))

    def __init__(self, *args, invitees: list[Attendee], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["attended"]).choices = [
            (str(a.pk), str(a.provider or a.staff)) for a in invitees
        ]
