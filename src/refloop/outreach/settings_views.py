"""Settings for outreach (MANAGE_SETTINGS): the visit cadence per tier and the topics a
visit can be about. Linked from the Settings hub."""

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability
from refloop.outreach import settings_services as services
from refloop.outreach.models import OutreachSettings, Topic
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

settings_view = staff_view(Capability.MANAGE_SETTINGS)
LOW, HIGH = services.CADENCE_DAYS


def _days(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        validators=[MinValueValidator(LOW), MaxValueValidator(HIGH)],
        help_text=f"Days between visits, {LOW} to {HIGH}.",
    )


class CadenceForm(forms.Form):
    cadence_a = _days("Tier A")
    cadence_b = _days("Tier B")
    cadence_c = _days("Tier C")
    cadence_prospect = _days("Prospects")


class TopicForm(forms.Form):
    name = forms.CharField(max_length=80, label="New topic")


def _saved(request, changed: list[str], what: str) -> None:
    if changed:
        messages.success(request, f"{what} saved.")
    else:
        messages.info(request, "Nothing changed.")


@require_http_methods(["GET", "POST"])
@settings_view
def cadence(request):
    status = 200
    if request.method == "POST":
        form = CadenceForm(request.POST)
        if form.is_valid():
            try:
                changed = services.update_cadence(
                    acting_user=request.user, values=form.cleaned_data
                )
            except InvalidInput as error:
                attach_domain_error(form, error)
            else:
                _saved(request, changed, "The visit cadence was")
                return redirect("outreach_settings")
        status = 422
    else:
        found = OutreachSettings.current()
        form = CadenceForm(initial={f: getattr(found, f) for f in services.CADENCE_FIELDS})
    return render(request, "outreach/settings/cadence.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@settings_view
def topics(request):
    status = 200
    form = TopicForm()
    if request.method == "POST":
        form = TopicForm(request.POST)
        if form.is_valid():
            try:
                topic = services.add_topic(acting_user=request.user, name=form.cleaned_data["name"])
            except InvalidInput as error:
                attach_domain_error(form, error)
            else:
                messages.success(request, f"The topic {topic.name} was added.")
                return redirect("outreach_topics")
        status = 422
    context = {"topics": list(Topic.objects.order_by("position", "name", "pk")), "form": form}
    return render(request, "outreach/settings/topics.html", context, status=status)


@require_POST
@settings_view
def topic(request, topic_id: int):
    """One topic's change: rename and (de)activate (action save), or move up or down."""
    found = get_object_or_404(Topic, pk=topic_id)
    action = request.POST.get("action", "save")
    if action in ("up", "down"):
        services.move_topic(acting_user=request.user, topic=found, up=action == "up")
        return redirect("outreach_topics")
    try:
        changed = services.change_topic(
            acting_user=request.user,
            topic=found,
            name=request.POST.get("name", found.name),
            active=request.POST.get("active") == "on",
        )
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        _saved(request, changed, f"The topic {request.POST.get('name', found.name).strip()} was")
    return redirect("outreach_topics")


urlpatterns = [
    path("settings/outreach/", cadence, name="outreach_settings"),
    path("settings/outreach/topics/", topics, name="outreach_topics"),
    path("settings/outreach/topics/<int:topic_id>/", topic, name="outreach_topic"),
]
