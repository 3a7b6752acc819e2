"""The liaison's planned visits as a calendar a phone subscribes to (iCalendar, RFC 5545),
at a secret address of their own; and the small form that plans a visit.

The address carries a random token; only its SHA-256 is kept, so the address is shown once,
when it is made. Making a new one retires the old: it then answers 404. The feed holds
practice names, addresses and times, never a patient."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from icalendar import Calendar, Event

from refloop.core import audit
from refloop.core.errors import DomainError
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.network.models import Practice
from refloop.outreach import activities
from refloop.outreach.home import outreach_view
from refloop.outreach.models import Activity, ActivityStatus, CalendarFeed
from refloop.practice.models import Organization
from refloop.web.forms import attach_domain_error

VISIT_LENGTH = timedelta(hours=1)
FEED_PAST = timedelta(days=30)  # planned visits this far back stay in the feed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def new_feed_token(*, acting_user: User) -> str:
    """A new secret address for `acting_user`'s feed; the previous one stops working."""
    require(acting_user, Capability.WORK_OUTREACH)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(user=acting_user, defaults={"digest": _digest(token)})
    audit.record(
        "calendar_feed.reset", audit.Touch("calendar_feed", acting_user.pk), actor=acting_user
    )
    return token


def feed_owner(token: str) -> User | None:
    found = CalendarFeed.objects.select_related("user").filter(digest=_digest(token)).first()
    if found is None or not found.user.is_active:
        return None
    return found.user


def planned_visits_calendar(user: User, *, now: datetime) -> bytes:
    """`user`'s planned visits as an iCalendar document."""
    calendar = Calendar()
    calendar.add("prodid", "-//refloop//planned visits//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Planned visits")
    planned = (
        Activity.objects.filter(
            liaison=user,
            status=ActivityStatus.PLANNED,
            starts_at__isnull=False,
            starts_at__gte=now - FEED_PAST,
        )
        .select_related("practice")
        .order_by("starts_at", "pk")
    )
    for activity in planned:
        practice = activity.practice
        event = Event()
        event.add("uid", f"activity-{activity.pk}@refloop")
        event.add("dtstamp", now)
        starts = activity.starts_at
        assert starts is not None  # only planned visits with a time are in the feed
        event.add("dtstart", starts)
        event.add("dtend", starts + VISIT_LENGTH)
        event.add("summary", f"{activity.get_kind_display()}: {practice.name}")
        place = ", ".join(
            part for part in (practice.address, practice.city, practice.state) if part
        )
        if place:
            event.add("location", place)
        if practice.phone:
            event.add("description", f"Office phone {practice.phone}")
        calendar.add_component(event)
    return calendar.to_ical()


@require_GET
def feed(request, token: str):
    """The feed itself: no session (a phone's calendar asks), the token is the key."""
    user = feed_owner(token)
    if user is None:
        raise Http404("No such calendar.")
    body = planned_visits_calendar(user, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
@outreach_view
def new_link(request):
    """Make (or reset) the secret address, and show it this once."""
    token = new_feed_token(acting_user=request.user)
    url = request.build_absolute_uri(reverse("outreach_calendar_feed", args=[token]))
    return render(request, "outreach/calendar_link.html", {"url": url})


class PlanForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


def _practice(value: str | None) -> Practice | None:
    if not value or not value.isdigit():
        return None
    return Practice.objects.filter(pk=int(value)).first()


@require_http_methods(["GET", "POST"])
@outreach_view
def plan(request):
    """Plan a visit to a practice (picked from the due list or by name) at a date and time."""
    practice = _practice(request.POST.get("practice") or request.GET.get("practice"))
    status = 200
    form = PlanForm()
    if request.method == "POST":
        if practice is None:
            raise Http404("No such practice.")
        form = PlanForm(request.POST)
        with timezone.override(Organization.current().zone):  # the time typed is local
            valid = form.is_valid()
        if valid:
            starts_at = form.cleaned_data["starts_at"]
            try:
                activities.plan_visit(
                    acting_user=request.user, practice=practice, starts_at=starts_at
                )
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                local = timezone.localtime(starts_at, Organization.current().zone)
                messages.success(
                    request, f"Visit to {practice.name} planned for {local:%a %-d %b, %H:%M}."
                )
                return redirect("outreach_home")
        status = 422
    context = {"form": form, "practice": practice}
    return render(request, "outreach/plan.html", context, status=status)


urlpatterns = [
    path("outreach/calendar/<str:token>.ics", feed, name="outreach_calendar_feed"),
    path("outreach/calendar/new", new_link, name="outreach_calendar_new"),
    path("outreach/plan/", plan, name="outreach_plan"),
]
