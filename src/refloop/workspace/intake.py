"""Quick intake: the "New referral" page for phone and walk-in referrals, and its helpers
(type-ahead of referring providers, duplicate-patient lookup, department suggestion)."""

from django.contrib import messages
from django.forms.utils import ErrorDict
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.network.models import Practice, Provider
from refloop.practice.models import Organization
from refloop.practice.selectors import suggest_department
from refloop.referrals import services
from refloop.referrals.models import Urgency
from refloop.referrals.selectors import find_patient_matches
from refloop.referrals.services import normalize_icd10
from refloop.web.access import staff_view
from refloop.web.referral_forms import (
    new_idempotency_key,
    source_results,
    split_codes,
)
from refloop.workspace.intake_forms import IntakeForm, PatientLookupForm


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def department_suggestion(reason: str, codes_text: str) -> dict:
    """The suggested department for what was typed so far; codes not yet valid are skipped."""
    codes = []
    for raw in split_codes(codes_text):
        try:
            codes.extend(normalize_icd10([raw]))
        except InvalidInput:
            continue
    department, why = suggest_department(reason=reason or "", icd10_codes=codes)
    return {"suggested_department": department, "suggestion_why": why}


def _hours(delta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"


def phone_script_context(form) -> dict:
    """What the caller is told: who calls the patient back, and within how long."""
    org = Organization.current()
    urgency = form["urgency"].value() or Urgency.ROUTINE
    if urgency not in Urgency.values:
        urgency = Urgency.ROUTINE
    assignee = None
    assignee_id = _int(form["assignee"].value())
    if assignee_id:
        assignee = form.fields["assignee"].queryset.filter(pk=assignee_id).first()
    return {
        "sla_labels": [(u.value, _hours(org.first_contact_sla(u.value))) for u in Urgency],
        "sla_label": _hours(org.first_contact_sla(urgency)),
        "caller_name": (assignee.first_name or assignee.get_username()) if assignee else "",
    }


def chosen_source(data) -> Provider | Practice | None:
    """The referring provider (else practice) the form's hidden fields name, for its card."""
    provider_id = _int(data.get("referring_provider"))
    if provider_id:
        provider = Provider.objects.select_related("practice").filter(pk=provider_id).first()
        if provider is not None:
            return provider
    practice_id = _int(data.get("referring_practice"))
    if practice_id:
        return Practice.objects.filter(pk=practice_id).first()
    return None


def patient_matches_for(request, data) -> dict:
    """The lookup's matches for the typed name and birth date, with the chosen one marked."""
    lookup = PatientLookupForm(data)
    if not lookup.is_valid():
        return {"lookup_done": True, "lookup_incomplete": True, "matches": []}
    matches = find_patient_matches(
        request.user,
        first_name=lookup.cleaned_data["first_name"],
        last_name=lookup.cleaned_data["last_name"],
        date_of_birth=lookup.cleaned_data["date_of_birth"],
    )
    return {
        "lookup_done": True,
        "matches": matches,
        "chosen_patient_id": _int(data.get("patient_id")),
    }


def without_errors(form):
    """A bound form showing what was typed, without complaining about what is still missing."""
    form.full_clean()
    form._errors = ErrorDict()
    return form


def render_intake(request, form, *, status=200, lookup=False, extra=None):
    data = form.data if form.is_bound else {}
    context = {"form": form, "source": chosen_source(data) if form.is_bound else None}
    context.update(extra or {})
    if form.is_bound:
        context.update(department_suggestion(data.get("reason", ""), data.get("icd10_codes", "")))
        if lookup or _int(data.get("patient_id")):
            context.update(patient_matches_for(request, data))
    context.update(phone_script_context(form))
    return render(request, "workspace/intake/page.html", context, status=status)


def _choose_source(data, choice: str) -> None:
    kind, _, pk = choice.partition(":")
    data["referring_provider"] = pk if kind == "provider" else ""
    data["referring_practice"] = pk if kind == "practice" else ""
    if kind == "provider":
        provider = Provider.objects.filter(pk=_int(pk)).first()
        data["referring_practice"] = str(provider.practice_id or "") if provider else ""


@staff_view(Capability.CREATE_REFERRALS)
def intake(request):
    user = request.user
    if request.method != "POST":
        initial = {"idempotency_key": new_idempotency_key()}
        if can(user, Capability.HOLD_REFERRALS):
            initial["assignee"] = user.pk
        return render_intake(request, IntakeForm(user=user, initial=initial))

    data = request.POST.copy()
    # Without JavaScript, the helper buttons submit the whole form here; it comes back as typed.
    if "choose_source" in data:
        _choose_source(data, data["choose_source"])
        return render_intake(request, without_errors(IntakeForm(data, user=user)))
    action = data.get("action", "")
    if action in ("lookup", "find_source"):
        form = without_errors(IntakeForm(data, user=user))
        if action == "find_source":
            return render_intake_with_sources(request, form)
        return render_intake(request, form, lookup=True)

    form = IntakeForm(data, user=user)
    made = form.create_referral(
        services.create_inbound_referral,
        request,
        start_again="Open “New referral” again to record a new one.",
    )
    if made is not None:
        referral, created = made
        if created:
            messages.success(request, f"Referral {referral.number} was recorded.")
        else:
            messages.info(request, f"Referral {referral.number} was already recorded.")
        return redirect("referral_detail", pk=referral.pk)
    return render_intake(request, form, status=422)


def render_intake_with_sources(request, form):
    results = source_results(request.user, form.data.get("referring_search", ""))
    return render_intake(request, form, extra={"source_results": results})


@require_GET
@staff_view(Capability.CREATE_REFERRALS, Capability.VIEW_DIRECTORY)
def provider_search(request):
    """Type-ahead results (htmx): providers by name, NPI or city; practices by name or city."""
    q = request.GET.get("q") or request.GET.get("referring_search") or ""
    return render(request, "web/_source_results.html", source_results(request.user, q))


@require_POST
@staff_view(Capability.CREATE_REFERRALS, Capability.VIEW_REFERRALS)
def patient_lookup(request):
    """Patients already on record with the typed name and birth date (POST: it carries PHI)."""
    return render(
        request,
        "workspace/intake/_patient_matches.html",
        patient_matches_for(request, request.POST),
    )


@require_POST
@staff_view(Capability.CREATE_REFERRALS)
def department_suggestion_view(request):
    """The department suggested for the reason and codes typed so far (POST: clinical text)."""
    return render(
        request,
        "workspace/intake/_department_suggestion.html",
        department_suggestion(request.POST.get("reason", ""), request.POST.get("icd10_codes", "")),
    )


urlpatterns = [
    path("intake/", intake, name="intake"),
    path("intake/providers", provider_search, name="intake_provider_search"),
    path("intake/patients", patient_lookup, name="intake_patient_lookup"),
    path("intake/department", department_suggestion_view, name="intake_department_suggestion"),
]
