"""The forms of the relationship page; relationship_services makes the changes."""

from django import forms

from refloop.network.models import Channel
from refloop.outreach.models import Tier
from refloop.outreach.relationship_services import COMPUTED
from refloop.outreach.relationships import DAYS, INFLUENCE, Contact

TIER_CHOICES = [
    (COMPUTED, "As computed"),
    (Tier.A, "A"),
    (Tier.B, "B"),
    (Tier.C, "C"),
    (Tier.PROSPECT, "Prospect"),
]


class ContactForm(forms.Form):
    influence = forms.TypedChoiceField(
        choices=[(n, f"{n}: {words}") for n, words in INFLUENCE.items()],
        coerce=int,
        label="Influence on where referrals go",
    )
    preferred_channel = forms.ChoiceField(
        choices=[("", "No preference"), *Channel.choices],
        required=False,
        label="Preferred channel",
    )
    best_time = forms.CharField(
        max_length=120, required=False, label="Best time", help_text="e.g. after 3 pm"
    )
    office_days = forms.MultipleChoiceField(
        choices=DAYS, required=False, widget=forms.CheckboxSelectMultiple, label="Days in office"
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Getting to know you",
        help_text="Never a patient's name or health details.",
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.auto_id = f"{contact.dom_id}-%s"
        if contact.kind != "provider":
            del self.fields["office_days"]

    @classmethod
    def of(cls, contact: Contact) -> "ContactForm":
        person = contact.person
        initial = {
            "influence": contact.influence,
            "preferred_channel": person.preferred_channel,
            "best_time": person.best_time,
            "office_days": list(contact.office_days),
            "notes": person.notes,
        }
        return cls(initial=initial, contact=contact)

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.setdefault("office_days", [])
        return data


class TierForm(forms.Form):
    tier = forms.ChoiceField(choices=TIER_CHOICES, label="Tier")
