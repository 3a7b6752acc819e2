"""The coordinator worklist: inbound referrals by tab, filtered, sorted, paged; bulk assign;
saved filters per user.

No patient data in URLs: the tab, the filters and the sort carry none (states, codes,
ids of departments, practices and staff, dates a referral was received), so they are
GET parameters that can be bookmarked, saved and linked. The free-text search may hold
a patient's name, so it travels only in a POST body: the search form posts to the
current URL, and while a search is active every sort and page control is a submit
button of that form (`formaction` names the new query string, the text stays in the
body). Changing a filter or tab is a plain link or GET form and clears the search.
The search text is never saved with a filter.

Tabs: "My referrals" (assigned to me), "My department" (the departments the user
belongs to; shown only to users who belong to one, which makes it the clinician's
default; coordinators and admins are not tied to departments, and the department
filter does that job for them), "Unassigned", and "All" (everything the role may
see; hidden for clinicians, whose "All" would be their departments again). Liaisons
get "All" only, as summaries without patient names and without the name search.

The default order is what needs action first (referrals.selectors.next_action_order:
a running clock overdue, then due soon, then urgency, then age); every column with a
sort key orders the other way round on a second click.

"Last action" is the time of the newest timeline event: every service write appends
one (transitions, assignment, contact attempts, notes, documents, SLA breaches) and
carries the time the action happened, unlike `updated_at`, which is wall-clock time
of the save and misses nothing but misdates backfilled or imported history.
"""

from collections.abc import Set as AbstractSet
from urllib.parse import urlencode

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from refloop.core.errors import DomainError
from refloop.core.roles import Capability, ReferralScope, can, referral_scope
from refloop.practice.models import Organization
from refloop.referrals.selectors import (
    DUE_SORT,
    WORKLIST_SORTS,
    ReferralFilters,
    sees_clinical_detail,
    visible_referrals,
    worklist_referrals,
)
from refloop.referrals.services import assign_referral
from refloop.web.access import staff_view
from refloop.web.words import person
from refloop.workspace.models import SavedFilter
from refloop.workspace.worklist_forms import (
    FILTER_PARAMS,
    BulkAssignForm,
    FilterForm,
    SavedFilterForm,
    SearchForm,
    states_for,
)
from refloop.workspace.worklist_rows import rows_for

PAGE_SIZE = 50
SEARCH_FORM_ID = "worklist-search"

TAB_LABELS = {
    "mine": "My referrals",
    "department": "My department",
    "unassigned": "Unassigned",
    "all": "All",
}

COLUMNS = (  # (sort key or None, heading, needs patient access)
    ("number", "Referral", False),
    ("patient", "Patient", True),
    (DUE_SORT, "Due", False),
    ("urgency", "Urgency", False),
    ("state", "State", False),
    ("department", "Department", False),
    ("practice", "Referred by", False),
    ("assignee", "Assignee", False),
    ("received", "Received", False),
    ("last_action", "Last action", False),
)
# The same orders as a list, for the sort menu beside the filters (on a phone the
# column headings are not shown). Each (value, label).
SORT_CHOICES = (
    (DUE_SORT, "Needs action first"),
    ("-received", "Newest first"),
    ("received", "Oldest first"),
    ("urgency", "Most urgent first"),
    ("-last_action", "Latest action first"),
    ("number", "Referral number"),
    ("patient", "Patient name"),
    ("department", "Department"),
    ("practice", "Referring practice"),
    ("assignee", "Assignee"),
    ("state", "State"),
)


def tabs_for(user) -> list[str]:
    if not sees_clinical_detail(user):
        return ["all"]
    tabs = ["mine"]
    if user.departments.exists():
        tabs.append("department")
    tabs.append("unassigned")
    if referral_scope(user) != ReferralScope.DEPARTMENTS:
        tabs.append("all")
    return tabs


def default_tab(user, tabs: list[str]) -> str:
    if referral_scope(user) == ReferralScope.DEPARTMENTS and "department" in tabs:
        return "department"
    return tabs[0]


def list_params(query: QueryDict, *, user) -> dict[str, str]:
    """The tab, filter and sort parameters of a query string, unknown keys dropped.

    Never the search text: that one is not a query parameter at all.
    """
    keys = ("tab", *FILTER_PARAMS, "sort")
    params = {k: query.get(k, "").strip() for k in keys}
    if params["sort"].lstrip("-") not in WORKLIST_SORTS:
        params["sort"] = ""
    if params["sort"].lstrip("-") == "patient" and not sees_clinical_detail(user):
        params["sort"] = ""
    return {k: v for k, v in params.items() if v}


def worklist_url(params: dict, **changes) -> str:
    """The worklist's address with these parameters (never relative: the page is also
    rendered in answer to the bulk-assign and saved-filter posts)."""
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v not in ("", None)})
    return reverse("worklist") + ("?" + query if query else "")


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def render_worklist(
    request,
    *,
    bulk_form: BulkAssignForm | None = None,
    selected: AbstractSet[int] = frozenset(),
    save_form: SavedFilterForm | None = None,
    status: int = 200,
):
    user = request.user
    detail = sees_clinical_detail(user)
    params = list_params(request.GET, user=user)
    tabs = tabs_for(user)
    asked = params.get("tab", "")
    tab = asked if asked in tabs else default_tab(user, tabs)
    params["tab"] = tab

    filter_form = FilterForm(request.GET, user=user)
    filter_form.is_valid()
    data = filter_form.cleaned_data
    filters = ReferralFilters(
        states=states_for(data.get("state") or ""),
        urgency=data.get("urgency") or None,
        department_id=data["department"].pk if data.get("department") else None,
        source_type=data.get("source_type") or None,
        referring_practice_id=data["practice"].pk if data.get("practice") else None,
        channel=data.get("channel") or None,
        assignee_id=data["assignee"].pk if data.get("assignee") else None,
        fit=data.get("fit") or None,
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
    )

    searching = request.method == "POST" and "q" in request.POST
    search_form = SearchForm(request.POST if searching else None, patient_names=detail)
    text = search_form.cleaned_data.get("q", "") if searching and search_form.is_valid() else ""

    sort = params.get("sort") or DUE_SORT
    number = _page_number(request.GET.get("page"))
    now = timezone.now()

    def fetch(page_number: int):
        return worklist_referrals(
            user,
            filters,
            scope=tab,
            text=text,
            sort=sort,
            limit=PAGE_SIZE,
            offset=(page_number - 1) * PAGE_SIZE,
            now=now,
        )

    page = fetch(number)
    pages = max(1, -(-page.total // PAGE_SIZE))
    if page.exact and number > pages:
        number = pages
        page = fetch(number)
    has_next = number < pages or not page.exact

    can_bulk = can(user, Capability.WORK_REFERRALS)
    if can_bulk and bulk_form is None:
        bulk_form = BulkAssignForm()
    saved = [
        {"filter": s, "url": worklist_url(s.params)} for s in SavedFilter.objects.filter(user=user)
    ]
    columns = []
    for key, heading, needs_detail in COLUMNS:
        if needs_detail and not detail:
            continue
        column = {"heading": heading, "key": key}
        if key:
            current = sort.lstrip("-") == key
            descending = sort.startswith("-")
            column["aria_sort"] = ("descending" if descending else "ascending") if current else ""
            next_sort = f"-{key}" if current and not descending else key
            column["url"] = worklist_url(params, sort=next_sort)
        columns.append(column)

    active_filters = sum(1 for key in FILTER_PARAMS if params.get(key))
    sorts = [
        {"value": value, "label": label, "current": value == sort}
        for value, label in SORT_CHOICES
        if value != "patient" or detail
    ]
    if not any(choice["current"] for choice in sorts):  # a column's other direction
        key = sort.lstrip("-")
        label = next(c["heading"] for c in columns if c["key"] == key)
        order = "descending" if sort.startswith("-") else "ascending"
        sorts.append({"value": sort, "label": f"{label}, {order}", "current": True})

    context = {
        "params": params,
        "active_filters": active_filters,
        "sorts": sorts,
        "list_url": worklist_url(params),
        "qs": "?" + urlencode(params),
        "tabs": [
            {
                "key": t,
                "label": TAB_LABELS[t],
                "url": worklist_url(params, tab=t),
                "current": t == tab,
            }
            for t in tabs
        ],
        "filter_form": filter_form,
        "search_form": search_form,
        "search_form_id": SEARCH_FORM_ID,
        "searching": bool(text),
        "show_patient": detail,
        "columns": columns,
        "rows": rows_for(page.items, Organization.current(), now, patients=detail),
        "page": page,
        "page_number": number,
        "pages": pages,
        "first_row": page.offset + 1 if page.items else 0,
        "last_row": page.offset + len(page.items),
        "prev_url": worklist_url(params, page=number - 1) if number > 1 else "",
        "next_url": worklist_url(params, page=number + 1) if has_next else "",
        "can_bulk": can_bulk,
        "bulk_form": bulk_form,
        "selected": selected,
        "saved": saved,
        "save_form": save_form or SavedFilterForm(),
    }
    return render(request, "workspace/worklist/page.html", context, status=status)


@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def page(request):
    """GET lists with the URL's filters; POST does the same with a search text in the body."""
    return render_worklist(request)


def _picked(values: list[str]) -> dict[int, int | None]:
    """Checkbox values "<id>:<version>" as {id: version the page showed}."""
    picked: dict[int, int | None] = {}
    for value in values:
        pk, _, version = value.partition(":")
        if pk.isdigit():
            picked[int(pk)] = int(version) if version.isdigit() else None
    return picked


@require_POST
@staff_view(Capability.WORK_REFERRALS)
def bulk_assign(request):
    """Assign (or unassign) the checked referrals one by one; report what failed and why.

    Each checkbox carries the version the page showed, so a referral someone changed
    meanwhile is refused with "this referral changed" instead of silently reassigned,
    and a second submission of the same form finds them already assigned.
    """
    form = BulkAssignForm(request.POST)
    picked = _picked(request.POST.getlist("referral"))
    if not picked:
        form.add_error(None, "Select at least one referral to assign.")
    if not form.is_valid():
        return render_worklist(request, bulk_form=form, selected=set(picked), status=422)

    assignee = form.chosen()
    who = person(assignee) if assignee else None
    current = {
        r.pk: r
        for r in visible_referrals(request.user)
        .filter(pk__in=picked, direction="inbound")
        .only("pk", "number", "assignee_id", "version")
    }
    assigned, already, failures = 0, [], []
    for pk, version in picked.items():
        referral = current.get(pk)
        if referral is None:
            failures.append(f"Referral #{pk} was not assigned: it is not visible to you.")
            continue
        if referral.assignee_id == (assignee.pk if assignee else None):
            already.append(referral.number)
            continue
        try:
            assign_referral(
                referral.pk, acting_user=request.user, assignee=assignee, expected_version=version
            )
        except DomainError as error:
            failures.append(f"{referral.number} was not assigned: {error.message}")
        else:
            assigned += 1

    noun = "referral" if assigned == 1 else "referrals"
    if assignee is None:
        messages.success(request, f"Unassigned {assigned} {noun}.")
    else:
        messages.success(request, f"Assigned {assigned} {noun} to {who}.")
    if already:
        whom = f"with {who}" if assignee else "unassigned"
        messages.info(request, f"Already {whom}: {', '.join(already)}.")
    for failure in failures:
        messages.error(request, failure)
    return redirect(worklist_url(list_params(request.GET, user=request.user)))


@require_POST
@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def saved_filter_create(request):
    """Save the query string's tab, filters and sort under a name (replacing one of that name)."""
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        return render_worklist(request, save_form=form, status=422)
    params = list_params(request.GET, user=request.user)
    filter_form = FilterForm(request.GET, user=request.user)
    filter_form.is_valid()
    for field in filter_form.errors:
        params.pop(field, None)  # a filter that does not validate is not worth keeping
    name = form.cleaned_data["name"]
    try:
        with transaction.atomic():
            SavedFilter.objects.update_or_create(
                user=request.user, name=name, defaults={"params": params}
            )
    except IntegrityError:
        # Two submissions raced on the same name and the other one inserted first.
        SavedFilter.objects.filter(user=request.user, name=name).update(params=params)
    messages.success(request, f"Saved the filters as “{name}”.")
    return redirect(worklist_url(params))


@require_POST
@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def saved_filter_delete(request, pk: int):
    deleted, _ = SavedFilter.objects.filter(pk=pk, user=request.user).delete()
    if deleted:
        messages.success(request, "Deleted the saved filter.")
    else:
        messages.info(request, "That saved filter was already deleted.")
    return redirect(worklist_url(list_params(request.GET, user=request.user)))


urlpatterns = [
    path("referrals/", page, name="worklist"),
    path("referrals/bulk-assign", bulk_assign, name="worklist_bulk_assign"),
    path("referrals/saved-filters", saved_filter_create, name="saved_filter_create"),
    path(
        "referrals/saved-filters/<int:pk>/delete", saved_filter_delete, name="saved_filter_delete"
    ),
]
