"""Staff pages for testimonials: the list and a testimonial's page (HANDLE_FEEDBACK, every
read audited), approving or declining (PUBLISH_TESTIMONIALS), withdrawing, recording a
revocation received in writing or the event an authorization ends with, and the export of
what may be published (only `testimonials.publishable`)."""

import csv
import io

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from refloop.advocacy import testimonials
from refloop.advocacy.models import Testimonial, TestimonialState
from refloop.core import audit
from refloop.core.errors import DomainError
from refloop.core.roles import Capability, can
from refloop.practice.models import Organization
from refloop.referrals.documents import private_file_response
from refloop.web.access import staff_view

feedback_view = staff_view(Capability.HANDLE_FEEDBACK)
SHOWN = 200


class RevocationForm(forms.Form):
    how = forms.CharField(
        label="How it reached us",
        max_length=160,
        help_text='For example "Letter dated 3 December, received 5 December".',
    )


def standing(testimonial: Testimonial, now) -> str:
    """The authorization's standing in words, as `publishable` judges it."""
    authorization = testimonial.authorization
    if authorization is None:
        return "Not signed"
    if authorization.revoked_at is not None:
        return "Revoked"
    if not testimonials.authorization_valid(authorization, now):
        return "Expired"
    return "Signed and valid"


@require_GET
@feedback_view
def testimonial_list(request):
    now = timezone.now()
    state = request.GET.get("state", "")
    found = Testimonial.objects.select_related("authorization", "patient").order_by("-created_at")
    if state in TestimonialState.values:
        found = found.filter(state=state)
    shown = list(found[:SHOWN])
    audit.record_many(
        "testimonial.listed", [t.audit_touch() for t in shown], actor=request.user, now=now
    )
    rows = [{"testimonial": t, "standing": standing(t, now)} for t in shown]
    context = {
        "rows": rows,
        "state": state,
        "states": TestimonialState.choices,
        "may_export": can(request.user, Capability.PUBLISH_TESTIMONIALS),
    }
    return render(request, "advocacy/staff/testimonials.html", context)


def _detail(request, testimonial: Testimonial, *, status: int = 200, revocation=None):
    now = timezone.now()
    audit.record("testimonial.viewed", testimonial.audit_touch(), actor=request.user, now=now)
    authorization = testimonial.authorization
    context = {
        "testimonial": testimonial,
        "authorization": authorization,
        "standing": standing(testimonial, now),
        "publishable": testimonials.is_publishable(testimonial, now),
        "moves": testimonials.moves_for(request.user, testimonial),
        "revocation_form": revocation or RevocationForm(),
        "may_record_event": authorization is not None
        and bool(authorization.expiry_event)
        and authorization.expiry_event_occurred_at is None
        and authorization.revoked_at is None,
    }
    return render(request, "advocacy/staff/testimonial.html", context, status=status)


@require_GET
@feedback_view
def testimonial_detail(request, testimonial_id: int):
    testimonial = get_object_or_404(
        Testimonial.objects.select_related("authorization", "patient"), pk=testimonial_id
    )
    return _detail(request, testimonial)


@require_POST
@feedback_view
def testimonial_review(request, testimonial_id: int):
    testimonial = get_object_or_404(Testimonial, pk=testimonial_id)
    try:
        testimonials.review_testimonial(
            testimonial,
            move=request.POST.get("move", ""),
            acting_user=request.user,
            now=timezone.now(),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, testimonial, status=error.status)
    messages.success(request, "Saved.")
    return redirect("advocacy_feedback_testimonial", testimonial_id=testimonial.pk)


@require_POST
@feedback_view
def testimonial_revocation(request, testimonial_id: int):
    """Record a revocation the patient made in writing (a letter, a signed form)."""
    testimonial = get_object_or_404(Testimonial, pk=testimonial_id)
    form = RevocationForm(request.POST)
    if testimonial.authorization is None:
        messages.error(request, "This testimonial has no signed authorization to revoke.")
        return _detail(request, testimonial, status=409, revocation=form)
    if not form.is_valid():
        return _detail(request, testimonial, status=422, revocation=form)
    try:
        testimonials.revoke_authorization(
            testimonial.authorization,
            how=f"In writing: {form.cleaned_data['how']}",
            acting_user=request.user,
            now=timezone.now(),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, testimonial, status=error.status, revocation=form)
    messages.success(request, "Revocation recorded: nothing under it is shown any more.")
    return redirect("advocacy_feedback_testimonial", testimonial_id=testimonial.pk)


@require_POST
@feedback_view
def testimonial_expiry_event(request, testimonial_id: int):
    """Record that the event the authorization ends with has happened."""
    testimonial = get_object_or_404(Testimonial, pk=testimonial_id)
    if testimonial.authorization is None:
        messages.error(request, "This testimonial has no signed authorization.")
        return _detail(request, testimonial, status=409)
    try:
        testimonials.record_expiry_event(
            testimonial.authorization, acting_user=request.user, now=timezone.now()
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, testimonial, status=error.status)
    messages.success(request, "Recorded: the authorization has ended.")
    return redirect("advocacy_feedback_testimonial", testimonial_id=testimonial.pk)


@require_GET
@feedback_view
def testimonial_staff_photo(request, testimonial_id: int):
    """The photo as offered, for review (audited like any read)."""
    testimonial = get_object_or_404(Testimonial, pk=testimonial_id)
    if not testimonial.photo:
        raise Http404
    audit.record(
        "testimonial.photo_viewed",
        testimonial.audit_touch(),
        actor=request.user,
        now=timezone.now(),
    )
    return private_file_response(
        testimonial.photo, name="testimonial", content_type=testimonial.photo_type
    )


def spreadsheet_safe(value: str) -> str:
    """Keep a spreadsheet from running a patient's words as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


CSV_HEADER = ("id", "testimonial", "signed as", "photo", "approved on", "authorization ends")


@require_GET
@staff_view(Capability.PUBLISH_TESTIMONIALS)
def testimonial_export(request):
    """What may be published now, and only that (testimonials.publishable)."""
    now = timezone.now()
    zone = Organization.current().zone
    shown = list(testimonials.publishable(now).select_related("authorization"))
    audit.record_many(
        "testimonial.exported", [t.audit_touch() for t in shown], actor=request.user, now=now
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for testimonial in shown:
        authorization = testimonial.authorization
        if authorization is None:  # publishable() never yields one; mypy cannot know
            continue
        ends = (
            authorization.expires_on.isoformat()
            if authorization.expires_on
            else authorization.expiry_event
        )
        writer.writerow(
            (
                testimonial.pk,
                spreadsheet_safe(testimonial.text),
                spreadsheet_safe(testimonial.attribution),
                "yes" if testimonial.photo else "no",
                timezone.localdate(testimonial.reviewed_at, zone).isoformat()
                if testimonial.reviewed_at
                else "",
                spreadsheet_safe(ends),
            )
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate(now, zone).isoformat()
    response["Content-Disposition"] = f'attachment; filename="testimonials-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("feedback/testimonials/", testimonial_list, name="advocacy_feedback_testimonials"),
    path(
        "feedback/testimonials/export.csv",
        testimonial_export,
        name="advocacy_feedback_testimonials_export",
    ),
    path(
        "feedback/testimonials/<int:testimonial_id>/",
        testimonial_detail,
        name="advocacy_feedback_testimonial",
    ),
    path(
        "feedback/testimonials/<int:testimonial_id>/review/",
        testimonial_review,
        name="advocacy_feedback_testimonial_review",
    ),
    path(
        "feedback/testimonials/<int:testimonial_id>/revocation/",
        testimonial_revocation,
        name="advocacy_feedback_testimonial_revocation",
    ),
    path(
        "feedback/testimonials/<int:testimonial_id>/expiry-event/",
        testimonial_expiry_event,
        name="advocacy_feedback_testimonial_expiry_event",
    ),
    path(
        "feedback/testimonials/<int:testimonial_id>/photo/",
        testimonial_staff_photo,
        name="advocacy_feedback_testimonial_photo",
    ),
]
