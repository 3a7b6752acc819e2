"""The worklist's forms: filters (query string), search (POST body), bulk assign, saved filters."""

from typing import cast

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from refloop.core.models import User
from refloop.core.roles import Capability, ReferralScope, referral_scope, roles_with
from refloop.network.models import Practice
from refloop.practice.models import Department
from refloop.referrals import lifecycle
from refloop.referrals.models import (
    Direction,
    Fit,
    ReferralChannel,
    SourceType,
    State,
    Urgency,
)
from refloop.referrals.selectors import assignable_staff
from refloop.web.words import person

OPEN, CLOSED, ANY = "open", "closed", "any"
INBOUND_STATES = [s for s in State if s in lifecycle.INBOUND]

# The query parameters the filter form owns: none of them carries patient data, so
# they may stay in the URL, in saved filters and in links.
FILTER_PARAMS = (
    "state",
    "urgency",
    "department",
    "source_type",
    "practice",
    "channel",
    "assignee",
    "fit",
    "received_from",
    "received_to",
)


def states_for(choice: str) -> tuple[str, ...]:
    if choice == CLOSED:
        return tuple(lifecycle.terminal_states(Direction.INBOUND))
    if choice == ANY:
        return ()
    if choice in lifecycle.INBOUND:
        return (choice,)
    return tuple(lifecycle.open_states(Direction.INBOUND))


def bulk_assignees():
    """Who the worklist hands referrals to in bulk: staff who work referrals (clinicians
    are assigned one at a time, from the referral's page)."""
    return assignable_staff().filter(role__in=roles_with(Capability.WORK_REFERRALS))


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return person(user)


class QuickSelect(forms.Select):
    """A select whose options are built in Python.

    The stock widget renders a template per option; with a directory of practices and
    the staff list that was most of the worklist's render time.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = [option for _, group, _ in widget["optgroups"] for option in group]
        return format_html(
            "<select{}>{}</select>",
            flatatt({**widget["attrs"], "name": widget["name"]}),
            format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((o["value"], " selected" if o["selected"] else "", o["label"]) for o in options),
            ),
        )


def _blank(label: str, choices) -> list:
    return [("", label), *[(c.value, c.label) for c in choices]]


class FilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False,
        widget=QuickSelect,
        choices=[
            (OPEN, "Open (any open state)"),
            (CLOSED, "Closed (any final state)"),
            (ANY, "Any state"),
            *[(s.value, s.label) for s in INBOUND_STATES],
        ],
    )
    urgency = forms.ChoiceField(
        required=False, choices=_blank("Any urgency", Urgency), widget=QuickSelect
    )
    department = forms.ModelChoiceField(
        required=False,
        queryset=Department.objects.order_by("name"),
        empty_label="Any department",
        widget=QuickSelect,
    )
    source_type = forms.ChoiceField(
        required=False,
        label="Source",
        choices=_blank("Any source", SourceType),
        widget=QuickSelect,
    )
    practice = forms.ModelChoiceField(
        required=False,
        label="Referring practice",
        queryset=Practice.objects.order_by("name"),
        empty_label="Any practice",
        widget=QuickSelect,
    )
    channel = forms.ChoiceField(
        required=False, choices=_blank("Any channel", ReferralChannel), widget=QuickSelect
    )
    assignee = StaffChoiceField(
        required=False,
        queryset=assignable_staff(),
        empty_label="Anyone",
        widget=QuickSelect,
    )
    fit = forms.ChoiceField(
        required=False, label="Fit", choices=_blank("Any fit", Fit), widget=QuickSelect
    )
    received_from = forms.DateField(
        required=False, label="Received from", widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        required=False, label="Received to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if referral_scope(user) == ReferralScope.DEPARTMENTS:
            # A clinician's worklist holds only their departments; offer only those.
            department = cast(forms.ModelChoiceField, self.fields["department"])
            department.queryset = user.departments.order_by("name")

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "The end date is before the start date.")
        return data


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")

    def __init__(self, *args, patient_names: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["q"]
        if patient_names:
            field.label = "Referral number or patient name"
        else:
            field.label = "Referral number"
        field.widget.attrs.update(
            {"type": "search", "autocomplete": "off", "placeholder": f"{field.label}…"}
        )


class BulkAssignForm(forms.Form):
    UNASSIGN = "none"

    assignee = forms.ChoiceField(label="Assign selected to", widget=QuickSelect)

    def __init__(self, *args, **kwargs):
        # Its own ids: the filter form beside it has an "assignee" field too.
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        self.staff = list(bulk_assignees())
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Choose a person…"),
            *[(str(u.pk), person(u)) for u in self.staff],
            (self.UNASSIGN, "Nobody (unassign)"),
        ]

    def chosen(self) -> User | None:
        value = self.cleaned_data["assignee"]
        return next((u for u in self.staff if str(u.pk) == value), None)


class SavedFilterForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name for these filters")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the saved filter a name.")
        return name
