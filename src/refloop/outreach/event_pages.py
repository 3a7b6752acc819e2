"""The events pages: the list, a new event, and one event with its invitees, who came and
the cost shared on the gift ledger."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import DomainError
from refloop.core.roles import Capability
from refloop.outreach import events, ledger
from refloop.outreach.ledger_forms import AttendanceForm, EventForm, InviteForm
from refloop.outreach.ledger_pages import picked_practice
from refloop.outreach.models import Event, GiftEntry
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

outreach_view = staff_view(Capability.WORK_OUTREACH)


@require_GET
@outreach_view
def event_list(request):
    now = timezone.now()
    shown = Event.objects.select_related("host_practice").order_by("-starts_at")
    context = {
        "upcoming": list(shown.filter(starts_at__gte=now).order_by("starts_at")),
        "past": list(shown.filter(starts_at__lt=now)[:100]),
    }
    return render(request, "outreach/events/list.html", context)


@require_http_methods(["GET", "POST"])
@outreach_view
def event_new(request):
    host, found, q = picked_practice(request)
    status = 200
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = events.create_event(
                    acting_user=request.user,
                    kind=data["kind"],
                    title=data["title"],
                    starts_at=data["starts_at"],
                    place=data["place"],
                    host_practice=host,
                    total_cost=data["total_cost"],
                )
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                messages.success(request, "The event was created; now invite people.")
                return redirect("event", event_id=event.pk)
        status = 422
    else:
        form = EventForm()
    context = {"form": form, "host": host, "found": found, "q": q}
    return render(request, "outreach/events/new.html", context, status=status)


def _event(event_id: int) -> Event:
    return get_object_or_404(Event.objects.select_related("host_practice"), pk=event_id)


def _invitees(event: Event) -> list:
    return list(event.attendees.select_related("provider", "staff").order_by("pk"))


def _page(request, event: Event, *, invite=None, attendance=None, status=200):
    invitees = _invitees(event)
    practice, found, q = picked_practice(request)
    practice = practice or event.host_practice
    if invite is None and practice is not None:
        invite = InviteForm(practice=practice)
    if attendance is None:
        attendance = AttendanceForm(
            invitees=invitees,
            initial={
                "attended": [str(a.pk) for a in invitees if a.attended],
                "total_cost": event.total_cost,
            },
        )
    shares = GiftEntry.objects.filter(event=event).select_related("provider", "staff")
    context = {
        "event": event,
        "invitees": invitees,
        "invite": invite,
        "invite_practice": practice,
        "found": found,
        "q": q,
        "attendance": attendance,
        "shares": shares.order_by("pk"),
        "day": events.event_day(event),
    }
    return render(request, "outreach/events/detail.html", context, status=status)


@require_GET
@outreach_view
def event_detail(request, event_id: int):
    return _page(request, _event(event_id))


@require_POST
@outreach_view
def event_invite(request, event_id: int):
    event = _event(event_id)
    practice, _, _ = picked_practice(request)
    practice = practice or event.host_practice
    if practice is None:
        messages.error(request, "Choose a practice first, then the people to invite.")
        return redirect("event", event_id=event.pk)
    form = InviteForm(request.POST, practice=practice)
    if not form.is_valid():
        return _page(request, event, invite=form, status=422)
    providers, staff = form.chosen()
    added = events.invite(acting_user=request.user, event=event, providers=providers, staff=staff)
    messages.success(request, f"{added} invited." if added else "They were already invited.")
    return redirect("event", event_id=event.pk)


@require_POST
@outreach_view
def event_attendance(request, event_id: int):
    event = _event(event_id)
    form = AttendanceForm(request.POST, invitees=_invitees(event))
    if form.is_valid():
        try:
            shared = events.set_attendance(
                acting_user=request.user,
                event=event,
                attended=[int(pk) for pk in form.cleaned_data["attended"]],
                total_cost=form.cleaned_data["total_cost"],
            )
        except DomainError as error:
            attach_domain_error(form, error)
            return _page(request, event, attendance=form, status=error.status)
        said = (
            f"{len(shared.shares)} came; the cost is shared on the gift ledger "
            f"({ledger.money(form.cleaned_data['total_cost'])} in all)."
            if shared.shares
            else "Nobody is marked as having come; the event has no shares on the ledger."
        )
        messages.success(request, said)
        for warning in shared.warnings:
            messages.warning(request, f"Warning: {warning}")
        return redirect("event", event_id=event.pk)
    return _page(request, event, attendance=form, status=422)


urlpatterns = [
    path("outreach/events/", event_list, name="events"),
    path("outreach/events/new/", event_new, name="event_new"),
    path("outreach/events/<int:event_id>/", event_detail, name="event"),
    path("outreach/events/<int:event_id>/invite", event_invite, name="event_invite"),
    path("outreach/events/<int:event_id>/attendance", event_attendance, name="event_attendance"),
]
