"""The service-recovery pages: the case list (mine, all, overdue), a complaint recorded from a
phone call, and a case with its clocks, its timeline and its moves (advocacy.cases.MOVES).
Every case shown is audited (`case.listed`, `case.read`)."""

from typing import cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from refloop.advocacy import case_clocks, cases, portal_feedback
from refloop.advocacy.models import (
    AdvocacyEvent,
    Case,
    CaseCategory,
    CaseOutcome,
    CaseSource,
    CaseState,
)
from refloop.core import audit
from refloop.core.errors import DomainError
from refloop.core.models import User
from refloop.core.roles import Capability, roles_with
from refloop.referrals.selectors import visible_referrals
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error
from refloop.web.words import person

feedback_view = staff_view(Capability.HANDLE_FEEDBACK)
SHOWN = 200
TABS = (("mine", "My cases"), ("all", "All open cases"), ("overdue", "Overdue"))
# The sources a person records by hand on the new-case page.
BY_HAND = (CaseSource.PHONE, CaseSource.IN_PERSON)


def case_handlers() -> QuerySet[User]:
    """Who may own a case: active users who handle patient feedback."""
    return User.objects.filter(
        is_active=True, role__in=roles_with(Capability.HANDLE_FEEDBACK)
    ).order_by("first_name", "last_name", "username")


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person(obj)


def patient_name(case: Case) -> str:
    patient = case.patient
    if patient is None:
        return ""
    return f"{patient.first_name} {patient.last_name}".strip()


# ---------------------------------------------------------------- the list


def filtered(params, user: User, now) -> tuple[dict, QuerySet[Case]]:
    chosen = {
        "show": params.get("show") if params.get("show") in dict(TABS) else "mine",
        "state": params.get("state", ""),
        "category": params.get("category", ""),
    }
    if chosen["state"] not in (*CaseState.values, "any"):
        chosen["state"] = ""
    if chosen["category"] not in CaseCategory.values:
        chosen["category"] = ""
    found = Case.objects.select_related("owner", "patient", "department")
    if chosen["show"] == "mine":
        found = found.filter(owner=user)
    elif chosen["show"] == "overdue":
        found = found.filter(case_clocks.overdue_filter(now))
    if chosen["state"] == "":
        found = found.filter(state__in=[CaseState.OPEN, CaseState.ACKNOWLEDGED])
    elif chosen["state"] != "any":
        found = found.filter(state=chosen["state"])
    if chosen["category"]:
        found = found.filter(category=chosen["category"])
    return chosen, found.order_by("resolve_by", "pk")


@require_http_methods(["GET"])
@feedback_view
def case_list(request):
    now = timezone.now()
    chosen, found = filtered(request.GET, request.user, now)
    rows = list(found[: SHOWN + 1])
    shown = rows[:SHOWN]
    if shown:
        audit.record_many(
            "case.listed", [c.audit_touch() for c in shown], actor=request.user, now=now
        )
    context = {
        "chosen": chosen,
        "rows": [
            {
                "case": case,
                "owner": person(case.owner) or "Unassigned",
                "patient": patient_name(case),
                "clock": case_clocks.running_clock(case, now=now),
            }
            for case in shown
        ],
        "more": len(rows) > SHOWN,
        "tabs": [
            {
                "label": label,
                "query": urlencode({"show": key}),
                "current": chosen["show"] == key,
            }
            for key, label in TABS
        ],
        "states": [("", "Open or acknowledged"), *CaseState.choices, ("any", "Any state")],
        "categories": CaseCategory.choices,
    }
    return render(request, "advocacy/cases.html", context)


# ---------------------------------------------------------------- a complaint by hand


class NewCaseForm(forms.Form):
    source = forms.ChoiceField(
        choices=[(s.value, s.label) for s in BY_HAND], initial=CaseSource.PHONE, label="Heard"
    )
    category = forms.ChoiceField(choices=CaseCategory.choices)
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=cases.SUMMARY_MAX,
        label="What the person said",
    )
    referral_number = forms.CharField(
        required=False,
        max_length=12,
        label="Referral number (optional)",
        help_text="Its number (like R-7K3M-Q9PD): links the case to the patient and their department.",
    )
    owner = OwnerField(
        queryset=User.objects.none(),
        required=False,
        empty_label="As usual (the referral's assignee or the department's contact)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = case_handlers()


@require_http_methods(["GET", "POST"])
@feedback_view
def case_new(request):
    status = 200
    if request.method == "POST":
        form = NewCaseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            number = data["referral_number"].strip().upper()
            referral = None
            if number:
                referral = visible_referrals(request.user).filter(number=number).first()
                if referral is None:
                    form.add_error(
                        "referral_number",
                        "No referral you can see has that number: check it, or leave it empty.",
                    )
            if not form.errors:
                try:
                    case = cases.open_case(
                        acting_user=request.user,
                        source=data["source"],
                        category=data["category"],
                        summary=data["summary"],
                        referral=referral,
                        owner=data["owner"],
                        now=timezone.now(),
                    )
                except DomainError as error:
                    attach_domain_error(form, error)
                else:
                    messages.success(request, f"Case {case.number} opened.")
                    return redirect("advocacy_case", pk=case.pk)
        status = 400
    else:
        form = NewCaseForm()
    return render(request, "advocacy/case_new.html", {"form": form}, status=status)


# ---------------------------------------------------------------- a case


_SAID = {
    "case.opened": "opened the case",
    "case.acknowledged": "acknowledged it",
    "case.reassigned": "gave it to {to}",
    "case.resolved": "resolved it: {outcome}",
    "case.closed": "closed it",
    "case.reopened": "reopened it: {reason}",
    "case.acknowledge_overdue": "Not acknowledged within one business day: escalated",
    "case.resolve_overdue": "Not resolved within seven days: escalated",
}


_OPENED_BY_SURVEY: dict[str, str] = {
    CaseSource.LOW_SCORE: "A low survey score opened the case",
    CaseSource.COMMENT: "A survey comment that reads as a complaint opened the case",
}


def timeline(case: Case) -> list[dict]:
    """The case's events in words, each with who and when."""
    events = list(
        AdvocacyEvent.objects.filter(case=case).select_related("actor").order_by("at", "pk")
    )
    people = User.objects.in_bulk(
        [e.data.get("to") for e in events if e.kind == "case.reassigned" and e.data.get("to")]
    )
    out = []
    for event in events:
        to = people.get(event.data.get("to")) if event.kind == "case.reassigned" else None
        said = _SAID.get(event.kind, event.kind).format(
            to=person(to) or "nobody (unassigned)",
            outcome=CaseOutcome(event.data["outcome"]).label.lower()
            if event.data.get("outcome") in CaseOutcome.values
            else "",
            reason=event.data.get("reason", ""),
        )
        if event.kind.endswith("_overdue"):
            who = ""
        elif event.kind == "case.opened" and event.actor is None:
            who, said = "", _OPENED_BY_SURVEY.get(case.source, "Opened automatically")
        else:
            who = person(event.actor) or (
                "The referring office" if case.source == CaseSource.PORTAL else "refloop"
            )
        out.append({"event": event, "who": who, "said": said, "note": event.data.get("note", "")})
    return out


class MoveForm(forms.Form):
    move = forms.ChoiceField(choices=[(k, m.label) for k, m in cases.MOVES.items()])
    note = forms.CharField(required=False, max_length=500)
    owner = OwnerField(queryset=User.objects.none(), required=False)
    outcome = forms.ChoiceField(choices=CaseOutcome.choices, required=False)
    action_taken = forms.CharField(required=False, max_length=cases.SUMMARY_MAX)
    reason = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = case_handlers()


@require_http_methods(["GET", "POST"])
@feedback_view
def case_detail(request, pk: int):
    case = get_object_or_404(
        Case.objects.select_related(
            "owner", "patient", "referral", "department", "referring_practice"
        ),
        pk=pk,
    )
    now = timezone.now()
    status = 200
    if request.method == "POST":
        form = MoveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            key = data.pop("move")
            try:
                cases.apply_move(key, case, acting_user=request.user, now=now, **data)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, f"Case {case.number}: {cases.MOVES[key].label.lower()} done."
                )
            return redirect("advocacy_case", pk=case.pk)
        messages.error(request, "That move was not understood: try again from the buttons below.")
        status = 400
    audit.record("case.read", case.audit_touch(), actor=request.user, now=now)
    context = {
        "case": case,
        "patient": patient_name(case),
        "owner": person(case.owner) or "Unassigned",
        "clock": case_clocks.running_clock(case, now=now),
        "timeline": timeline(case),
        "moves": {m.key: m for m in cases.moves_for(case, request.user)},
        "owners": [(u.pk, person(u)) for u in case_handlers()],
        "outcomes": CaseOutcome.choices,
    }
    return render(request, "advocacy/case.html", context, status=status)


urlpatterns = portal_feedback.urlpatterns + [
    path("feedback/cases/", case_list, name="advocacy_cases"),
    path("feedback/cases/new/", case_new, name="advocacy_case_new"),
    path("feedback/cases/<int:pk>/", case_detail, name="advocacy_case"),
]
