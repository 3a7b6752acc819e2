"""The form for sending one of our patients to an outside specialist."""

from typing import cast

from django import forms

from refloop.core.models import User
from refloop.network.models import Practice, Provider
from refloop.network.selectors import practices_for_outbound, providers_for_outbound
from refloop.practice.models import Department
from refloop.web.referral_forms import NewReferralFields


def _practice_choices(practices: list[Practice]) -> list:
    in_network = [(str(p.pk), _practice_label(p)) for p in practices if p.in_network]
    outside = [(str(p.pk), _practice_label(p)) for p in practices if not p.in_network]
    groups: list[tuple[str, str | list[tuple[str, str]]]] = [("", "Choose the receiving practice")]
    if in_network:
        groups.append(("In network", in_network))
    if outside:
        groups.append(("Out of network", outside))
    return groups


def _practice_label(practice: Practice) -> str:
    return f"{practice.name}, {practice.city}" if practice.city else practice.name


def _provider_choices(providers: list[Provider]) -> list:
    groups: dict[str, list] = {}
    for provider in providers:
        if provider.practice is None:  # providers_for_outbound lists none without a practice
            continue
        label = f"{provider}" + (f" ({provider.specialty})" if provider.specialty else "")
        groups.setdefault(provider.practice.name, []).append((str(provider.pk), label))
    return [("", "Any provider there"), *groups.items()]


class OutboundForm(NewReferralFields):
    receiving_practice = forms.ChoiceField(label="Receiving practice")
    receiving_provider = forms.ChoiceField(
        label="Receiving provider",
        required=False,
        help_text="Optional; must work at that practice.",
    )
    department = forms.ModelChoiceField(
        label="Department",
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="None",
        help_text="Our department sending the patient.",
    )

    service_fields = (
        *NewReferralFields.service_fields,
        "receiving_practice",
        "receiving_provider",
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.practices = {p.pk: p for p in practices_for_outbound(user)}
        providers = providers_for_outbound(user)
        self.providers = {p.pk: p for p in providers}
        practice_field = cast(forms.ChoiceField, self.fields["receiving_practice"])
        practice_field.choices = _practice_choices(list(self.practices.values()))
        cast(forms.ChoiceField, self.fields["receiving_provider"]).choices = _provider_choices(
            providers
        )

    def clean_receiving_practice(self) -> Practice:
        return self.practices[int(self.cleaned_data["receiving_practice"])]

    def clean_receiving_provider(self) -> Provider | None:
        value = self.cleaned_data["receiving_provider"]
        return self.providers[int(value)] if value else None

    def clean(self):
        super().clean()
        data = self.cleaned_data
        practice, provider = data.get("receiving_practice"), data.get("receiving_provider")
        if practice is not None and provider is not None and provider.practice_id != practice.pk:
            self.add_error(
                "receiving_provider",
                f"{provider} does not work at {practice.name}; choose one who does, or none.",
            )
        return data
