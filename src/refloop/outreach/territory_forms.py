"""The forms of the territory pages; outreach.territories makes the changes."""

from typing import cast

from django import forms
from django.db.models import QuerySet

from refloop.core.models import User
from refloop.core.roles import Capability, roles_with
from refloop.outreach.models import Territory
from refloop.web.words import person


def liaisons() -> QuerySet[User]:
    """Active users whose role does outreach work."""
    return User.objects.filter(
        role__in=roles_with(Capability.WORK_OUTREACH), is_active=True
    ).order_by("last_name", "first_name", "username")


class LiaisonField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person(obj)


def _split(text: str) -> list[str]:
    return [part for part in (p.strip() for p in text.replace("\n", ",").split(",")) if part]


class TerritoryForm(forms.Form):
    name = forms.CharField(max_length=120)
    liaison = LiaisonField(queryset=User.objects.none(), required=False, empty_label="Nobody yet")
    cities = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Separated by commas, e.g. Springfield, Chatham. Any letter case matches.",
    )
    postal_codes = forms.CharField(
        required=False,
        label="ZIP codes or their start",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Separated by commas: 62701 is that ZIP code, 627 every ZIP code starting so.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["liaison"]).queryset = liaisons()

    @classmethod
    def of(cls, territory: Territory) -> "TerritoryForm":
        return cls(
            initial={
                "name": territory.name,
                "liaison": territory.liaison_id,
                "cities": ", ".join(territory.cities),
                "postal_codes": ", ".join(territory.postal_codes),
            }
        )

    def rules(self) -> tuple[list[str], list[str]]:
        data = self.cleaned_data
        return _split(data.get("cities", "")), _split(data.get("postal_codes", ""))

    @staticmethod
    def rules_of(params) -> tuple[list[str], list[str]]:
        return _split(params.get("cities", "")), _split(params.get("postal_codes", ""))
