"""The territory pages: every territory with its liaison and practices (liaisons and admins
read them), and for MANAGE_SETTINGS the forms that create and change them, apply their city
and ZIP rules after a preview, and move practices one by one."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.core.validation import db_id
from refloop.network.models import Practice
from refloop.outreach import territories
from refloop.outreach.models import Relationship, Territory
from refloop.outreach.territory_forms import TerritoryForm
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

PRACTICES_PER_PAGE = 50
SEARCH_RESULTS = 20

read_view = staff_view(Capability.WORK_OUTREACH)
manage_view = staff_view(Capability.MANAGE_SETTINGS)


@require_GET
@read_view
def territory_list(request):
    rows = (
        Territory.objects.select_related("liaison")
        .annotate(practices=Count("relationships"))
        .order_by("name")
    )
    unassigned = Practice.objects.filter(
        Q(relationship__isnull=True) | Q(relationship__territory__isnull=True)
    ).count()
    context = {
        "territories": rows,
        "unassigned": unassigned,
        "can_manage": can(request.user, Capability.MANAGE_SETTINGS),
    }
    return render(request, "outreach/territories/list.html", context)


def _save(request, form: TerritoryForm, territory: Territory | None):
    if not form.is_valid():
        return None
    cities, postal_codes = form.rules()
    try:
        return territories.save_territory(
            acting_user=request.user,
            name=form.cleaned_data["name"],
            liaison=form.cleaned_data["liaison"],
            cities=cities,
            postal_codes=postal_codes,
            territory_id=territory.pk if territory else None,
        )
    except InvalidInput as error:
        attach_domain_error(form, error)
        return None


@require_http_methods(["GET", "POST"])
@manage_view
def territory_new(request):
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
@manage_view
def territory_edit(request, territory_id: int):
    return _edit(request, get_object_or_404(Territory, pk=territory_id))


def _edit(request, territory: Territory | None):
    status = 200
    if request.method == "POST":
        form = TerritoryForm(request.POST)
        saved = _save(request, form, territory)
        if saved is not None:
            messages.success(request, f"The territory {saved.name} was saved.")
            return redirect("outreach_territory", territory_id=saved.pk)
        status = 422
    else:
        form = TerritoryForm.of(territory) if territory else TerritoryForm()
    cities, postal_codes = (
        TerritoryForm.rules_of(form.data or {})
        if form.is_bound
        else ((territory.cities, territory.postal_codes) if territory else ([], []))
    )
    context = {
        "form": form,
        "territory": territory,
        "preview": _preview(cities, postal_codes, territory),
    }
    return render(request, "outreach/territories/edit.html", context, status=status)


def _preview(cities, postal_codes, territory: Territory | None) -> territories.Preview | None:
    try:
        postal_codes = territories.clean_postal_codes(postal_codes)
    except InvalidInput:
        return None
    if not cities and not postal_codes:
        return None
    return territories.preview(territories.clean_cities(cities), postal_codes, territory)


@require_GET
@manage_view
def territory_preview(request):
    """How many practices the rules being typed match (htmx, as the form changes)."""
    wanted = db_id(request.GET.get("territory"))
    territory = Territory.objects.filter(pk=wanted).first() if wanted else None
    cities, postal_codes = TerritoryForm.rules_of(request.GET)
    try:
        territories.clean_postal_codes(postal_codes)
        error = ""
    except InvalidInput as problem:
        error = problem.message
    context = {
        "preview": _preview(cities, postal_codes, territory),
        "error": error,
        "territory": territory,
    }
    return render(request, "outreach/territories/_preview.html", context)


@require_GET
@read_view
def territory(request, territory_id: int):
    found = get_object_or_404(Territory.objects.select_related("liaison"), pk=territory_id)
    can_manage = can(request.user, Capability.MANAGE_SETTINGS)
    members = (
        Relationship.objects.filter(territory=found)
        .select_related("practice")
        .order_by("practice__name", "practice_id")
    )
    q = request.GET.get("q", "").strip()[:100].replace("\x00", "")
    found_practices = []
    if can_manage and q:
        found_practices = list(
            Practice.objects.filter(
                Q(name__icontains=q) | Q(city__icontains=q) | Q(postal_code__startswith=q)
            )
            .select_related("relationship__territory")
            .order_by("name")[:SEARCH_RESULTS]
        )
    context = {
        "territory": found,
        "members": Paginator(members, PRACTICES_PER_PAGE).get_page(request.GET.get("page")),
        "can_manage": can_manage,
        "preview": _preview(found.cities, found.postal_codes, found) if can_manage else None,
        "q": q,
        "found_practices": found_practices,
    }
    return render(request, "outreach/territories/territory.html", context)


@require_POST
@manage_view
def territory_apply(request, territory_id: int):
    found = get_object_or_404(Territory, pk=territory_id)
    added = territories.apply_rules(acting_user=request.user, territory=found)
    messages.success(
        request,
        f"{added} practice{'s' if added != 1 else ''} added to {found.name} by its rules.",
    )
    return redirect("outreach_territory", territory_id=found.pk)


@require_POST
@manage_view
def territory_practices(request, territory_id: int):
    """Add a practice to the territory (moving it out of any other), or take it out."""
    found = get_object_or_404(Territory, pk=territory_id)
    wanted = db_id(request.POST.get("practice"))
    practice = Practice.objects.filter(pk=wanted).first() if wanted else None
    if practice is None:
        messages.error(request, "Choose a practice to add or remove.")
        return redirect("outreach_territory", territory_id=found.pk)
    if request.POST.get("action") == "remove":
        relationship = Relationship.objects.filter(practice=practice).first()
        if relationship is None or relationship.territory_id != found.pk:
            messages.info(request, f"{practice.name} is not in {found.name}.")
        else:
            territories.move_practice(acting_user=request.user, practice=practice, territory=None)
            messages.success(request, f"{practice.name} was taken out of {found.name}.")
    else:
        before = territories.move_practice(
            acting_user=request.user, practice=practice, territory=found
        )
        moved = f", moved from {before.name}" if before and before.pk != found.pk else ""
        messages.success(request, f"{practice.name} is in {found.name}{moved}.")
    return redirect("outreach_territory", territory_id=found.pk)


@require_POST
@manage_view
def practice_territory(request, pk: int):
    """Move a practice to another territory, or out of any, from its relationship page."""
    practice = get_object_or_404(Practice, pk=pk)
    wanted = request.POST.get("territory", "")
    number = db_id(wanted)
    target = Territory.objects.filter(pk=number).first() if number else None
    if wanted and target is None:
        messages.error(request, "Choose one of the territories offered.")
    else:
        territories.move_practice(acting_user=request.user, practice=practice, territory=target)
        messages.success(
            request, f"{practice.name} is now in {target.name if target else 'no territory'}."
        )
    return redirect("outreach_practice", pk=practice.pk)


urlpatterns = [
    path("outreach/territories/", territory_list, name="outreach_territories"),
    path("outreach/territories/new/", territory_new, name="outreach_territory_new"),
    path("outreach/territories/preview", territory_preview, name="outreach_territory_preview"),
    path("outreach/territories/<int:territory_id>/", territory, name="outreach_territory"),
    path(
        "outreach/territories/<int:territory_id>/edit/",
        territory_edit,
        name="outreach_territory_edit",
    ),
    path(
        "outreach/territories/<int:territory_id>/apply",
        territory_apply,
        name="outreach_territory_apply",
    ),
    path(
        "outreach/territories/<int:territory_id>/practices",
        territory_practices,
        name="outreach_territory_practices",
    ),
    path(
        "outreach/practices/<int:pk>/territory",
        practice_territory,
        name="outreach_practice_territory",
    ),
]
