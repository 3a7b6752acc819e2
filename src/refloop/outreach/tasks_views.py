"""The liaison's task pages: my tasks or everyone's (filtered, overdue first), a task by hand,
and the moves on a task (done, cancelled, reopened, reassigned). Writes: task_services."""

from typing import cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from refloop.core.errors import DomainError
from refloop.core.models import User
from refloop.core.roles import Capability, roles_with
from refloop.core.validation import db_id
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import task_services
from refloop.outreach.models import Task, TaskKind, TaskStatus
from refloop.outreach.tiers import today
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error
from refloop.web.words import person

outreach_view = staff_view(Capability.WORK_OUTREACH)
SHOWN = 200
UNASSIGNED = "none"


def outreach_users():
    """Who may own a task: active users whose role works outreach (liaisons, admins)."""
    return User.objects.filter(
        is_active=True, role__in=roles_with(Capability.WORK_OUTREACH)
    ).order_by("first_name", "last_name", "username")


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person(obj)


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200, label="What is to be done")
    owner = OwnerField(queryset=User.objects.none(), required=False, empty_label="Nobody yet")
    due_on = forms.DateField(
        required=False, label="Due", widget=forms.DateInput(attrs={"type": "date"})
    )
    # Picked on the page by the type-ahead (log_views.practice_search), never from a list of
    # the whole directory: the form carries the chosen practice's id.
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(), required=False, widget=forms.HiddenInput
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), required=False, empty_label="No one in particular"
    )
    staff = forms.ModelChoiceField(
        queryset=StaffContact.objects.none(),
        required=False,
        label="Staff contact",
        empty_label="No one in particular",
    )
    detail = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, practice: Practice | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = outreach_users()
        # The people offered are those of the practice chosen (all of them only on a post,
        # where the service checks they belong to it).
        self.offer_people(Q() if self.is_bound else Q(practice=practice) if practice else None)

    def offer_people(self, people: Q | None) -> None:
        """The providers and staff contacts the form takes: `people` (None: nobody)."""
        people = Q(pk__in=[]) if people is None else people
        cast(forms.ModelChoiceField, self.fields["provider"]).queryset = Provider.objects.filter(
            people
        ).order_by("last_name")
        cast(forms.ModelChoiceField, self.fields["staff"]).queryset = StaffContact.objects.filter(
            people
        ).order_by("name")


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def filtered(params, user: User) -> tuple[dict, QuerySet[Task]]:
    """The list's filters as given (cleaned) and the tasks they select, overdue first, then
    by due date (none last)."""
    chosen = {
        "show": "all" if params.get("show") == "all" else "mine",
        "owner": params.get("owner", ""),
        "kind": params.get("kind", "") if params.get("kind") in TaskKind.values else "",
        "status": params.get("status", TaskStatus.OPEN),
        "practice": params.get("practice", ""),
    }
    if chosen["status"] not in (*TaskStatus.values, "any"):
        chosen["status"] = TaskStatus.OPEN
    tasks = Task.objects.select_related("owner", "practice", "provider", "staff")
    if chosen["show"] == "mine":
        tasks = tasks.filter(owner=user)
    elif chosen["owner"] == UNASSIGNED:
        tasks = tasks.filter(owner__isnull=True)
    elif db_id(chosen["owner"]):
        tasks = tasks.filter(owner_id=db_id(chosen["owner"]))
    if chosen["kind"]:
        tasks = tasks.filter(kind=chosen["kind"])
    if chosen["status"] != "any":
        tasks = tasks.filter(status=chosen["status"])
    if (practice_id := db_id(chosen["practice"])) is not None:
        tasks = tasks.filter(practice_id=practice_id)
    on = today()
    tasks = tasks.annotate(
        overdue=Case(
            When(status=TaskStatus.OPEN, due_on__lt=on, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    ).order_by("-overdue", F("due_on").asc(nulls_last=True), "-pk")
    return chosen, tasks


@require_http_methods(["GET"])
@outreach_view
def task_list(request):
    chosen, tasks = filtered(request.GET, request.user)
    rows = list(tasks[: SHOWN + 1])
    on = today()
    practice_id = db_id(chosen["practice"])
    context = {
        "chosen": chosen,
        "rows": [
            {
                "task": task,
                "owner": person(task.owner) or "Unassigned",
                "overdue_days": (on - task.due_on).days
                if task.due_on is not None and task.status == TaskStatus.OPEN and task.due_on < on
                else 0,
            }
            for task in rows[:SHOWN]
        ],
        "more": len(rows) > SHOWN,
        "kinds": TaskKind.choices,
        "statuses": [*TaskStatus.choices, ("any", "Any status")],
        "owners": [(u.pk, person(u)) for u in outreach_users()],
        "practice": Practice.objects.filter(pk=practice_id).first() if practice_id else None,
        "tabs": [
            {
                "label": "My tasks",
                "query": urlencode({"show": "mine"}),
                "current": chosen["show"] == "mine",
            },
            {
                "label": "All tasks",
                "query": urlencode({"show": "all"}),
                "current": chosen["show"] == "all",
            },
        ],
        "here": request.get_full_path(),
        "unassigned": UNASSIGNED,
    }
    return render(request, "outreach/tasks.html", context)


@require_http_methods(["GET", "POST"])
@outreach_view
def task_new(request):
    practice = None
    if (practice_id := db_id(request.GET.get("practice"))) is not None:
        practice = Practice.objects.filter(pk=practice_id).first()
    if request.method == "POST":
        form = TaskForm(request.POST)
        if (practice_id := db_id(request.POST.get("practice"))) is not None:
            practice = Practice.objects.filter(pk=practice_id).first()
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = task_services.create_task(acting_user=request.user, **data)
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                messages.success(request, f"Task added: {task.title}")
                return redirect(_back(request, reverse("outreach_tasks") + "?show=all"))
        # Shown again: offer the chosen practice's people, not the whole directory's.
        form.offer_people(Q(practice=practice) if practice else None)
        status = 400
    else:
        form = TaskForm(
            practice=practice,
            initial={"practice": practice, "owner": request.user, "due_on": today()},
        )
        status = 200
    return render(
        request,
        "outreach/task_new.html",
        {"form": form, "practice": practice, "next": _back(request, "")},
        status=status,
    )


def _task(pk: int) -> Task:
    return get_object_or_404(Task, pk=pk)


def _move(request, pk: int, act) -> object:
    task = _task(pk)
    try:
        done = act(task)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(_back(request, reverse("outreach_tasks")))


@require_POST
@outreach_view
def task_close(request, pk: int):
    status = request.POST.get("status", TaskStatus.DONE)

    def act(task):
        task_services.close_task(task, acting_user=request.user, status=status)
        return f"Marked {TaskStatus(status).label.lower()}: {task.title}"

    return _move(request, pk, act)


@require_POST
@outreach_view
def task_reopen(request, pk: int):
    def act(task):
        task_services.reopen_task(task, acting_user=request.user)
        return f"Reopened: {task.title}"

    return _move(request, pk, act)


@require_POST
@outreach_view
def task_reassign(request, pk: int):
    owner_id = db_id(request.POST.get("owner"))
    owner = User.objects.filter(pk=owner_id).first() if owner_id else None

    def act(task):
        task_services.reassign_task(task, acting_user=request.user, owner=owner)
        return f"{task.title}: now {person(owner) or 'unassigned'}"

    return _move(request, pk, act)


urlpatterns = [
    path("outreach/tasks/", task_list, name="outreach_tasks"),
    path("outreach/tasks/new/", task_new, name="outreach_task_new"),
    path("outreach/tasks/<int:pk>/close/", task_close, name="outreach_task_close"),
    path("outreach/tasks/<int:pk>/reopen/", task_reopen, name="outreach_task_reopen"),
    path("outreach/tasks/<int:pk>/reassign/", task_reassign, name="outreach_task_reassign"),
]
