"""The phone visit log: pick the practice from my due visits or by name, tick who was met
and what was talked about, send. The page's script (static/outreach/log.js) keeps an entry
on the phone while the connection is down and sends it once when it is back: the entry's
key, made on the phone, makes a second send of it a replay (outreach.activities)."""

from typing import cast

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import DomainError
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import activities, tiers
from refloop.outreach.home import SHOWN, due_soon, my_relationships, outreach_view
from refloop.outreach.models import Activity, ActivityKind, ActivityStatus, OutreachSettings, Topic
from refloop.web.forms import attach_domain_error

SEARCH_MIN = 2
SEARCH_SHOWN = 10


class StaffChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.get_role_display()})"


class LogForm(forms.Form):
    """One activity with one practice; the people offered are that practice's."""

    client_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
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

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
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
    form = LogForm(request.POST, practice=practice)
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
    mine = due_soon(my_relationships(request.user), on, OutreachSettings.current())
    due = tiers.due_visits(mine, on=on)[:SHOWN]
    return {"form": form, "practice": practice, "due": due}


@require_http_methods(["GET", "POST"])
@outreach_view
def log(request):
    if request.method == "POST":
        return _save(request)
    practice = _practice(request.GET.get("practice"))
    form = LogForm(practice=practice) if practice else None
    return render(request, "outreach/log.html", _context(request, form, practice))


class EditForm(LogForm):
    status = forms.ChoiceField(
        label="Status",
        choices=[(ActivityStatus.DONE, "Done"), (ActivityStatus.PLANNED, "Planned")],
    )

    @classmethod
    def of(cls, activity: Activity) -> "EditForm":
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
        return cls(initial=initial, practice=activity.practice)


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
        form = EditForm(request.POST, practice=activity.practice)
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
        form = EditForm.of(activity)
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


TARGETS = {"log": "outreach_log", "plan": "outreach_plan"}


@require_GET
@outreach_view
def practice_search(request):
    """The type-ahead: practices by name or city (directory data only, no patient)."""
    q = (request.GET.get("q") or "").strip().replace("\x00", "")[:80]
    target = TARGETS.get(request.GET.get("to", "log"), "outreach_log")
    found = []
    if len(q) >= SEARCH_MIN:
        found = list(
            Practice.objects.filter(name__icontains=q).order_by("name")[:SEARCH_SHOWN]
            or Practice.objects.filter(city__icontains=q).order_by("name")[:SEARCH_SHOWN]
        )
    context = {"found": found, "q": q, "short": len(q) < SEARCH_MIN, "target": reverse(target)}
    return render(request, "outreach/_practice_results.html", context)


urlpatterns = [
    path("outreach/log/", log, name="outreach_log"),
    path("outreach/practices/search", practice_search, name="outreach_practice_search"),
    path("outreach/activities/<int:pk>/", edit, name="outreach_activity"),
    path("outreach/activities/<int:pk>/cancel", cancel, name="outreach_activity_cancel"),
]
