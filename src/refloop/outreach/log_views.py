"""The phone visit log: pick the practice from my due visits or by name, tick who was met
and what was talked about, send. The page's script (static/outreach/log.js) keeps an entry
on the phone while the connection is down and sends it once when it is back: the entry's
key, made on the phone, makes a second send of it a replay (outreach.activities).

The page's service worker (templates/outreach/log_worker.js, served by `worker`) keeps the
page itself on the phone, so that it opens again without a connection."""

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import DomainError
from refloop.core.models import User
from refloop.core.sessions import passive
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import activities, tiers
from refloop.outreach.home import SHOWN, my_relationships, outreach_view
from refloop.outreach.models import Activity, ActivityKind, ActivityStatus, Topic
from refloop.web.forms import attach_domain_error

SEARCH_MIN = 2
SEARCH_SHOWN = 10
# The service worker's cache: a new name when what the worker keeps changes shape (the
# worker deletes the caches of its older versions), and the sign-in page deletes every
# "refloop-" cache (static/workspace/signed_out.js).
WORKER_CACHE_PREFIX = "refloop-outreach-log-"
WORKER_CACHE = WORKER_CACHE_PREFIX + "1"
# A kept copy of a due practice's form is fetched again after an hour.
WORKER_FRESH_MS = 3600 * 1000


class StaffChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.get_role_display()})"


class LogForm(forms.Form):
    """One activity with one practice; the people offered are that practice's."""

    client_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # Who filled the form in: an entry kept on a shared phone is sent by its author only.
    logged_by = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label="What", choices=ActivityKind.choices, initial="visit")
    occurred_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    providers: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label="Providers met",
        queryset=Provider.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    staff = StaffChoices(
        label="Staff met",
        queryset=StaffContact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    topics: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label="Topics",
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000
    )
    follow_up = forms.CharField(
        label="Follow-up",
        required=False,
        max_length=300,
        help_text="What to do next; with a date it becomes a task for you.",
    )
    follow_up_on = forms.DateField(
        label="Follow-up by",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    cost = forms.DecimalField(
        label="Cost ($)",
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )

    def __init__(self, *args, practice: Practice, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.user = user
        self.initial["logged_by"] = user.pk
        cast(
            forms.ModelChoiceField, self.fields["providers"]
        ).queryset = practice.providers.order_by("last_name", "first_name")
        cast(forms.ModelChoiceField, self.fields["staff"]).queryset = practice.staff.order_by(
            "name"
        )
        cast(forms.ModelChoiceField, self.fields["topics"]).queryset = Topic.objects.filter(
            active=True
        )
        self.initial.setdefault("occurred_on", tiers.today())


    def clean_logged_by(self) -> int | None:
        author = self.cleaned_data["logged_by"]
        if author is not None and author != self.user.pk:
            raise forms.ValidationError(
                "This entry was saved on this phone by another user; it is sent when they "
                "sign in here again."
            )
        return author


def _practice(value: str | None) -> Practice | None:
    if not value or not value.isdigit():
        return None
    return Practice.objects.filter(pk=int(value)).first()


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _save(request):
    """A send from the form (the page without its script) or from the phone's queue."""
    practice = _practice(request.POST.get("practice"))
    if practice is None:
        if _wants_json(request):
            return JsonResponse({"error": "That practice is not in the directory."}, status=422)
        raise Http404("No such practice.")
    form = LogForm(request.POST, practice=practice, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activity, _ = activities.log_activity(
                acting_user=request.user,
                practice=practice,
                kind=data["kind"],
                occurred_on=data["occurred_on"],
                providers=data["providers"],
                staff=data["staff"],
                topics=data["topics"],
                notes=data["notes"],
                follow_up=data["follow_up"],
                follow_up_on=data["follow_up_on"],
                cost=data["cost"] or 0,
                client_key=data["client_key"] or None,
            )
        except DomainError as error:
            attach_domain_error(form, error)
        else:
            if _wants_json(request):
                return JsonResponse({"activity": activity.pk, "practice": practice.name})
            messages.success(
                request, f"Logged: {activity.get_kind_display().lower()} at {practice.name}."
            )
            return redirect("outreach_log")
    if _wants_json(request):
        first = next(iter(form.errors.values()))[0] if form.errors else "Check the entry."
        return JsonResponse({"error": str(first)}, status=422)
    return render(request, "outreach/log.html", _context(request, form, practice), status=422)


def _context(request, form: LogForm | None, practice: Practice | None) -> dict:
    if practice is not None:
        return {"form": form, "practice": practice, "due": []}
    on = tiers.today()
    due = tiers.due_visits(my_relationships(request.user), on=on, limit=SHOWN)
    return {"form": form, "practice": practice, "due": due}


@require_http_methods(["GET", "POST"])
@outreach_view
def log(request):
    if request.method == "POST":
        return _save(request)
    practice = _practice(request.GET.get("practice"))
    form = LogForm(practice=practice, user=request.user) if practice else None
    return render(request, "outreach/log.html", _context(request, form, practice))


class EditForm(LogForm):
    status = forms.ChoiceField(
        label="Status",
        choices=[(ActivityStatus.DONE, "Done"), (ActivityStatus.PLANNED, "Planned")],
    )

    @classmethod
    def of(cls, activity: Activity, user: User) -> "EditForm":
        initial = {
            name: getattr(activity, name)
            for name in ("kind", "status", "occurred_on", "notes", "follow_up", "follow_up_on")
        }
        initial["cost"] = activity.cost or None
        initial |= {
            "providers": list(activity.providers.all()),
            "staff": list(activity.staff.all()),
            "topics": list(activity.topics.all()),
        }
        return cls(initial=initial, practice=activity.practice, user=user)


def _activity(request, pk: int) -> Activity:
    activity = Activity.objects.select_related("practice").filter(pk=pk).first()
    if activity is None or not activities.may_change(request.user, activity):
        raise Http404("No such activity.")  # the same whether missing or someone else's
    return activity


@require_http_methods(["GET", "POST"])
@outreach_view
def edit(request, pk: int):
    """Change an activity: a planned visit done, a date or the people corrected."""
    activity = _activity(request, pk)
    status = 200
    if request.method == "POST":
        form = EditForm(request.POST, practice=activity.practice, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                activities.edit_activity(
                    acting_user=request.user,
                    activity=activity,
                    practice=activity.practice,
                    kind=data["kind"],
                    status=data["status"],
                    occurred_on=data["occurred_on"],
                    starts_at=activity.starts_at,
                    providers=data["providers"],
                    staff=data["staff"],
                    topics=data["topics"],
                    notes=data["notes"],
                    follow_up=data["follow_up"],
                    follow_up_on=data["follow_up_on"],
                    cost=data["cost"] or 0,
                )
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                messages.success(request, f"Saved: {activity.practice.name}.")
                return redirect("outreach_home")
        status = 422
    else:
        form = EditForm.of(activity, request.user)
    context = {"form": form, "activity": activity, "practice": activity.practice}
    return render(request, "outreach/activity.html", context, status=status)


@require_POST
@outreach_view
def cancel(request, pk: int):
    activity = _activity(request, pk)
    activities.cancel_activity(acting_user=request.user, activity=activity)
    messages.success(
        request, f"Cancelled: {activity.get_kind_display().lower()} at {activity.practice.name}."
    )
    return redirect("outreach_home")


# The pages that pick a practice with the type-ahead: a result opens `<page>?practice=<pk>`.
TARGETS = {"log": "outreach_log", "plan": "outreach_plan", "task": "outreach_task_new"}


@require_GET
@outreach_view
def practice_search(request):
    """The type-ahead: practices by name or city (directory data only, no patient). Asked by
    htmx it answers the results alone; the search form sent without a script (its Search
    button) gets a whole page with the form again and the results."""
    q = (request.GET.get("q") or "").strip().replace("\x00", "")[:80]
    to = request.GET.get("to", "log")
    to = to if to in TARGETS else "log"
    target = TARGETS[to]
    found = []
    if len(q) >= SEARCH_MIN:
        found = list(
            Practice.objects.filter(name__icontains=q).order_by("name")[:SEARCH_SHOWN]
            or Practice.objects.filter(city__icontains=q).order_by("name")[:SEARCH_SHOWN]
        )
    context = {"found": found, "q": q, "short": len(q) < SEARCH_MIN, "target": reverse(target)}
    if request.headers.get("HX-Request") == "true":
        return render(request, "outreach/_practice_results.html", context)
    return render(request, "outreach/practice_search.html", {**context, "to": to, "searched": True})


@passive
@require_GET
def worker(request):
    """The log page's service worker. A view rather than a static file: served from
    /outreach/log/ its scope is the log page without a Service-Worker-Allowed header, its
    address never changes, and it is built from the settings (the static files' address, the
    longest sign-in). It holds no one's data, so no sign-in is needed to fetch it, and the
    browser's own update checks are not activity (`passive`). The middleware's
    Cache-Control: no-store makes every update check reach the server."""
    context = {
        "cache_name": WORKER_CACHE,
        "cache_prefix": WORKER_CACHE_PREFIX,
        "page_path": reverse("outreach_log"),
        "static_path": static(""),
        "max_age_ms": settings.SESSION_MAX_HOURS * 3600 * 1000,
        "fresh_ms": WORKER_FRESH_MS,
    }
    return render(
        request,
        "outreach/log_worker.js",
        context,
        content_type="application/javascript; charset=utf-8",
    )


urlpatterns = [
    path("outreach/log/", log, name="outreach_log"),
    path("outreach/log/worker.js", worker, name="outreach_log_worker"),
    path("outreach/practices/search", practice_search, name="outreach_practice_search"),
    path("outreach/activities/<int:pk>/", edit, name="outreach_activity"),
    path("outreach/activities/<int:pk>/cancel", cancel, name="outreach_activity_cancel"),
]
