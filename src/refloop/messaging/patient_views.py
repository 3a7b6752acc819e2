"""The pages a patient reaches from a magic link: confirm or cancel an appointment, see
what to bring, download a document, or ask for a fresh link.

The link in the message (/p/<token>/) only hands the token to the browser in a
short-lived cookie and redirects to /p/, so the token never stays in a URL, a browser's
history or a referrer. Opening the page changes nothing (mail scanners open links);
only a POST from the page acts, and it acts once.
"""

from datetime import datetime
from typing import Protocol

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.messaging import magic, patient_services
from refloop.messaging.models import Channel, MagicLink
from refloop.messaging.patient_services import LinkAlreadyUsed, record_link_audit
from refloop.practice.models import Organization
from refloop.referrals.documents import private_file_response
from refloop.referrals.models import AttachmentKind

LINK_COOKIE = "patient_link"
LINK_COOKIE_PATH = "/p/"
LINK_COOKIE_SECONDS = 15 * 60
WHEN_FORMAT = "l j F Y, g:i A"

Purpose = MagicLink.Purpose

ALREADY_CONFIRMED = "Your appointment is already confirmed."
USED_WORDS: dict[str, str] = {
    Purpose.CONFIRM_APPOINTMENT: "This link was already used: your appointment is already "
    "confirmed.",
    Purpose.CANCEL_APPOINTMENT: "This link was already used: we have your cancellation.",
}
ON_FILE: dict[str, str] = {Channel.SMS: "phone number", Channel.EMAIL: "email address"}


def _see_other(name: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse(name))
    response.status_code = 303
    return response


@never_cache
@require_GET
def magic_link(request, token: str):
    """The link in the message: keep the token in a cookie, then show the page."""
    response = _see_other("magic_link_page")
    response.set_cookie(
        LINK_COOKIE,
        token,
        max_age=LINK_COOKIE_SECONDS,
        path=LINK_COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _forget(response):
    response.delete_cookie(LINK_COOKIE, path=LINK_COOKIE_PATH, samesite="Lax")
    return response


def _appointment(link: MagicLink, org: Organization) -> dict | None:
    appointment = link.appointment
    if appointment is None:
        return None
    location = appointment.location
    address = ""
    if location is not None:
        address = ", ".join(
            part
            for part in (
                location.address,
                location.city,
                f"{location.state} {location.postal_code}",
            )
            if part.strip()
        )
    return {
        "when": dateformat.format(timezone.localtime(appointment.starts_at, org.zone), WHEN_FORMAT),
        "department": appointment.department.name if appointment.department else "",
        "location": location.name if location is not None else "",
        "address": address,
        "location_phone": location.phone if location is not None else "",
    }


def _context(link: MagicLink | None, **extra) -> dict:
    org = Organization.current()
    context = {"organization": org, "phone": org.phone, **extra}
    if link is not None:
        context.update(
            link=link,
            first_name=link.referral.patient.first_name,
            appointment=_appointment(link, org),
        )
    return context


def _not_valid(request):
    context = _context(None, message="This link is not valid.")
    return _forget(render(request, "messaging/patient_problem.html", context, status=404))


def _problem(request, link: MagicLink, problem: str, *, now: datetime):
    record_link_audit("magic_link.viewed", link, now=now, problem=problem)
    confirmed = link.purpose == Purpose.CONFIRM_APPOINTMENT and magic.appointment_confirmed(link)
    if problem == "used":
        message = USED_WORDS.get(link.purpose, "This link was already used.")
    elif confirmed:  # expired, but another link confirmed it: nothing left to ask
        message = ALREADY_CONFIRMED
    else:
        message = "This link has expired."
    context = _context(
        link, message=message, confirmed=confirmed, renewable=magic.renewable(link, now=now)
    )
    return render(request, "messaging/patient_problem.html", context, status=410)


def _call_us(request, link: MagicLink, *, now: datetime):
    """The appointment is past or called off: nothing to do online."""
    record_link_audit("magic_link.viewed", link, now=now, problem="appointment_not_ahead")
    context = _context(link, message="This appointment can no longer be changed online.")
    return _forget(render(request, "messaging/patient_problem.html", context, status=409))


def _look_up(request, *, now: datetime) -> magic.Lookup:
    token = request.COOKIES.get(LINK_COOKIE, "")
    if not token:
        return magic.Lookup(None, "unknown")
    return magic.look_up(token, now=now)


TEMPLATES: dict[str, str] = {
    Purpose.CONFIRM_APPOINTMENT: "messaging/patient_confirm.html",
    Purpose.CANCEL_APPOINTMENT: "messaging/patient_cancel.html",
    Purpose.VIEW_INSTRUCTIONS: "messaging/patient_instructions.html",
    Purpose.VIEW_DOCUMENT: "messaging/patient_document.html",
}


def _document_name(link: MagicLink) -> str:
    # The kind, not the uploaded file name, which often holds the patient's full name.
    attachment = link.attachment
    return AttachmentKind(attachment.kind).label if attachment is not None else ""


@never_cache
@require_http_methods(["GET", "POST"])
def link_page(request):
    """What the link is for, with one button; the POST does it."""
    now = timezone.now()
    lookup = _look_up(request, now=now)
    link = lookup.link
    if link is None:
        return _not_valid(request)
    if lookup.problem:
        return _problem(request, link, lookup.problem, now=now)
    appointment_link = link.purpose in (Purpose.CONFIRM_APPOINTMENT, Purpose.CANCEL_APPOINTMENT)
    if appointment_link and not magic.appointment_ahead(link, now=now):
        return _call_us(request, link, now=now)
    if link.purpose == Purpose.CONFIRM_APPOINTMENT and magic.appointment_confirmed(link):
        # An earlier reminder's link after a later one was used: nothing to confirm again.
        record_link_audit("magic_link.viewed", link, now=now, problem="already_confirmed")
        context = _context(link, message=ALREADY_CONFIRMED, confirmed=True)
        return _forget(render(request, "messaging/patient_problem.html", context))
    if request.method == "POST":
        return _act(request, link, now=now)
    record_link_audit("magic_link.viewed", link, now=now)
    extra = {}
    if link.purpose == Purpose.VIEW_DOCUMENT:
        extra["document"] = _document_name(link)
    return render(request, TEMPLATES[link.purpose], _context(link, **extra))


def _act(request, link: MagicLink, *, now: datetime):
    if link.purpose in _ANSWERS:
        return _answer(request, link, now=now)
    if link.purpose == Purpose.VIEW_DOCUMENT:
        attachment = patient_services.download_document(link=link, now=now)
        return private_file_response(
            attachment.file,
            name=f"{link.referral.number}-document-{attachment.pk}",
            content_type=attachment.content_type,
            as_attachment=True,
        )
    return _see_other("magic_link_page")  # instructions: nothing to act on


def _already_used(request, link: MagicLink, *, now: datetime):
    return _problem(request, link, "used", now=now)


class _Answer(Protocol):
    def __call__(self, *, link: MagicLink, now: datetime) -> None: ...


# The patient's answers about the appointment: the service that records it, the page after.
_ANSWERS: dict[str, tuple[_Answer, str]] = {
    Purpose.CONFIRM_APPOINTMENT: (
        patient_services.confirm_appointment,
        "messaging/patient_confirmed.html",
    ),
    Purpose.CANCEL_APPOINTMENT: (
        patient_services.cancel_appointment,
        "messaging/patient_cancelled.html",
    ),
}


def _answer(request, link: MagicLink, *, now: datetime):
    answer, template = _ANSWERS[link.purpose]
    try:
        answer(link=link, now=now)
    except LinkAlreadyUsed:
        return _already_used(request, link, now=now)
    return _forget(render(request, template, _context(link)))


@never_cache
@require_POST
def renew(request):
    """Send the patient a fresh copy of the message whose link expired or was used."""
    now = timezone.now()
    lookup = _look_up(request, now=now)
    if lookup.link is None:
        return _not_valid(request)
    if not lookup.problem:
        return _see_other("magic_link_page")  # the link still works
    link = lookup.link
    if link.purpose == Purpose.CONFIRM_APPOINTMENT and magic.appointment_confirmed(link):
        context = _context(link, message=ALREADY_CONFIRMED, confirmed=True)
        return _forget(render(request, "messaging/patient_problem.html", context, status=409))
    sent = patient_services.renew_link(link=link, now=now)
    if sent is None:
        context = _context(link, message="We can't send a new link for this appointment.")
        return _forget(render(request, "messaging/patient_problem.html", context, status=409))
    context = _context(link, on_file=ON_FILE.get(sent.channel, "contact details"))
    return render(request, "messaging/patient_renewed.html", context)


urlpatterns = [
    path("p/", link_page, name="magic_link_page"),
    path("p/renew/", renew, name="magic_link_renew"),
    path("p/<str:token>/", magic_link, name="magic_link"),
]
