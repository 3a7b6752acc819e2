"""The relationship page of a referring practice, and its inline edits (htmx): what the
liaison knows of each person there, and the tier set by hand.

Counts and figures only: no patient and no referral's detail reaches these pages, except
the referring office's survey comments, shown only to users who may see referrals (a comment
may name a patient).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.advocacy import office_selectors
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import ledger, relationships
from refloop.outreach import relationship_services as services
from refloop.outreach.models import Territory
from refloop.outreach.relationship_forms import ContactForm, TierForm
from refloop.outreach.relationships import Contact
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

outreach_view = staff_view(Capability.WORK_OUTREACH)


@require_GET
@outreach_view
def practice(request, pk: int):
    found = get_object_or_404(Practice, pk=pk)
    now = timezone.now()
    page = relationships.relationship_page(found, page=request.GET.get("page"), now=now)
    relationship = page.relationship
    context = {
        "page": page,
        "practice": found,
        "relationship": relationship,
        "tier_form": TierForm(initial={"tier": relationship.tier_override or "computed"}),
        "can_move": can(request.user, Capability.MANAGE_SETTINGS),
        "territories": Territory.objects.order_by("name")
        if can(request.user, Capability.MANAGE_SETTINGS)
        else [],
        "year": page.due.on.year,
    }
    if request.htmx and request.GET.get("page"):
        return render(request, "outreach/relationship/_activities.html", context)
    # This year's gifts and meals per person against the Stark limit (outreach.ledger): the
    # whole page only, not the next page of activities.
    context["gift_rows"] = ledger.practice_gifts(found, page.due.on.year)
    context["gift_year"] = page.due.on.year
    # What the office told us (advocacy.office): scores for whoever sees this page; comments
    # only for those who may see referrals.
    office_scores = office_selectors.quarterly_scores(found.pk, now=now)
    context["office_scores"] = office_scores
    context["office_questions"] = office_scores[-1].averages
    if can(request.user, Capability.VIEW_REFERRALS):
        context["office_comments"] = office_selectors.latest_comments(
            found.pk, actor=request.user, now=now
        )
    return render(request, "outreach/relationship/page.html", context)


@require_POST
@outreach_view
def tier(request, pk: int):
    found = get_object_or_404(Practice, pk=pk)
    form = TierForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose A, B, C, prospect or the computed tier.")
    elif services.set_tier(
        acting_user=request.user, practice=found, tier=form.cleaned_data["tier"]
    ):
        messages.success(request, "The tier was saved.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("outreach_practice", pk=found.pk)


def _contact(kind: str, contact_id: int) -> Contact:
    if kind == "provider":
        provider = Provider.objects.select_related("profile").filter(pk=contact_id).first()
        if provider is None or provider.practice_id is None:
            raise Http404("No such provider at a practice.")
        return relationships.contact_of_provider(provider)
    staff = StaffContact.objects.select_related("profile").filter(pk=contact_id).first()
    if staff is None:
        raise Http404("No such staff contact.")
    return relationships.contact_of_staff(staff)


def _edit(request, kind: str, contact_id: int):
    """GET: the contact's form (in place of its card under htmx); POST: save it and give
    back the card, or the form with what to fix (422)."""
    contact = _contact(kind, contact_id)
    practice_id = contact.person.practice_id
    if request.method == "GET":
        if request.GET.get("cancel"):
            return _card(request, contact)
        return _form(request, ContactForm.of(contact), contact, status=200)
    form = ContactForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            if kind == "provider":
                services.update_provider(
                    acting_user=request.user, provider_id=contact.pk, values=form.values()
                )
            else:
                services.update_staff(
                    acting_user=request.user, staff_id=contact.pk, values=form.values()
                )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            saved = _contact(kind, contact_id)
            if request.htmx:
                return _card(request, saved, saved_now=True)
            messages.success(request, f"{saved.name}: saved.")
            return redirect("outreach_practice", pk=practice_id)
    return _form(request, form, contact, status=422)


def _card(request, contact: Contact, *, saved_now: bool = False):
    context = {"contact": contact, "saved_now": saved_now}
    return render(request, "outreach/relationship/_contact.html", context)


def _form(request, form: ContactForm, contact: Contact, *, status: int):
    context = {"form": form, "contact": contact, "practice": contact.person.practice}
    template = (
        "outreach/relationship/_contact_form.html"
        if request.htmx
        else "outreach/relationship/contact_page.html"
    )
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@outreach_view
def provider(request, provider_id: int):
    return _edit(request, "provider", provider_id)


@require_http_methods(["GET", "POST"])
@outreach_view
def staff(request, staff_id: int):
    return _edit(request, "staff", staff_id)


urlpatterns = [
    path("outreach/practices/<int:pk>/", practice, name="outreach_practice"),
    path("outreach/practices/<int:pk>/tier", tier, name="outreach_practice_tier"),
    path("outreach/providers/<int:provider_id>/profile", provider, name="outreach_provider"),
    path("outreach/staff/<int:staff_id>/profile", staff, name="outreach_staff"),
]
