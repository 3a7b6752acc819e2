"""The testimonial pages the public reaches: a patient offering one from their survey link
(the words, then the authorization), the revoke link in their copy, and the embeddable
widget with its photos. Every page that shows or serves a testimonial asks
`testimonials.publishable` and nothing else.

As everywhere a patient arrives from a message, opening a page changes nothing (mail
scanners open links); only a POST from the page acts, and it acts once.
"""

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from refloop.advocacy import survey_link, testimonials
from refloop.advocacy.models import Audience, Testimonial
from refloop.advocacy.testimonial_staff_views import urlpatterns as staff_urlpatterns
from refloop.core.errors import Conflict, DomainError
from refloop.practice.models import Organization
from refloop.public.views import frameable
from refloop.referrals.documents import private_file_response
from refloop.web.forms import attach_domain_error

AUTHORIZATION_COOKIE = "authorization_link"


class OfferForm(forms.Form):
    text = forms.CharField(
        label="Your testimonial",
        max_length=testimonials.TEXT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="In your own words: what we helped with and how it went. Please leave out "
        "anything you would not want the public to read.",
    )
    attribution = forms.CharField(
        label="Sign it as",
        max_length=testimonials.ATTRIBUTION_MAX_CHARS,
        required=False,
        help_text='How your name appears under it, for example "Maria G."',
    )
    photo = forms.FileField(
        label="A photo of you (optional)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
        help_text=f"JPEG or PNG, at most {testimonials.PHOTO_MAX_BYTES // (1024 * 1024)} MB.",
    )


class SignForm(forms.Form):
    ends = forms.ChoiceField(
        label="This authorization ends",
        choices=[("date", "On a date"), ("event", "When something happens")],
        widget=forms.RadioSelect,
        initial="date",
    )
    expires_on = forms.DateField(
        label="End date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    expiry_event = forms.CharField(
        label="The event that ends it",
        max_length=200,
        required=False,
        help_text='For example "when I ask you to stop". Choose "On a date" to use a date.',
    )
    signer = forms.ChoiceField(
        label="Who is signing",
        choices=[
            ("patient", "I am the patient"),
            ("representative", "I am the patient's personal representative"),
        ],
        widget=forms.RadioSelect,
        initial="patient",
    )
    representative_authority = forms.CharField(
        label="Your authority to act for the patient",
        max_length=200,
        required=False,
        help_text="Only for a representative: for example parent of a minor, or health care "
        "power of attorney.",
    )
    signature = forms.CharField(
        label="Type your full name to sign", max_length=200, help_text="First and last name."
    )
    agreed = forms.BooleanField(
        label="I have read this authorization and I agree to it. Typing my name above is my "
        "signature.",
        required=False,
    )


def _context(**extra) -> dict:
    org = Organization.current()
    return {"organization": org, "phone": org.phone, **extra}


def _not_valid(request):
    context = _context(message="This link is not valid any more.")
    response = render(request, "advocacy/testimonial_problem.html", context, status=404)
    return response


def _patient_survey(request):
    survey = survey_link.survey_from(request)
    if survey is None or survey.audience != Audience.PATIENT or survey.patient_id is None:
        return None
    return survey


def _see_other(name: str):
    return survey_link.see_other(name)


@never_cache
@require_http_methods(["GET", "POST"])
def offer(request):
    """Step 1: the words, how to sign them, and perhaps a photo."""
    survey = _patient_survey(request)
    if survey is None:
        return _not_valid(request)
    existing = Testimonial.objects.filter(survey=survey).first()
    if existing is not None and existing.authorization_id is not None:
        return _see_other("advocacy_survey_testimonial_done")
    patient = survey.patient
    status = 200
    if request.method == "POST":
        form = OfferForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                photo = form.cleaned_data["photo"]
                checked = testimonials.check_photo(photo) if photo else None
                testimonials.offer_testimonial(
                    survey=survey,
                    text=form.cleaned_data["text"],
                    attribution=form.cleaned_data["attribution"],
                    photo=checked,
                    now=timezone.now(),
                )
            except Conflict:
                return _see_other("advocacy_survey_testimonial_done")
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                return _see_other("advocacy_survey_testimonial_sign")
        status = 422
    else:
        initial = {"attribution": testimonials.default_attribution(patient)}
        if existing is not None:
            initial = {"text": existing.text, "attribution": existing.attribution}
        form = OfferForm(initial=initial)
    context = _context(form=form, first_name=patient.first_name, existing=existing)
    return render(request, "advocacy/testimonial_offer.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def sign(request):
    """Step 2: the authorization, every element of 45 CFR 164.508(c) in plain words."""
    survey = _patient_survey(request)
    if survey is None:
        return _not_valid(request)
    testimonial = Testimonial.objects.filter(survey=survey).first()
    if testimonial is None:
        return _see_other("advocacy_survey_testimonial")
    if testimonial.authorization_id is not None:
        return _see_other("advocacy_survey_testimonial_done")
    now = timezone.now()
    default_end = testimonials.default_expiry(testimonials.today(now))
    status = 200
    if request.method == "POST":
        form = SignForm(request.POST)
        if form.is_valid():
            by_date = form.cleaned_data["ends"] == "date"
            try:
                testimonials.sign_authorization(
                    testimonial=testimonial,
                    signature=form.cleaned_data["signature"],
                    agreed=form.cleaned_data["agreed"],
                    expires_on=form.cleaned_data["expires_on"] if by_date else None,
                    expiry_event="" if by_date else form.cleaned_data["expiry_event"],
                    signer_is_patient=form.cleaned_data["signer"] == "patient",
                    representative_authority=form.cleaned_data["representative_authority"],
                    now=now,
                )
            except Conflict:
                return _see_other("advocacy_survey_testimonial_done")
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                return _see_other("advocacy_survey_testimonial_done")
        status = 422
    else:
        form = SignForm(initial={"expires_on": default_end})
    terms = testimonials.terms_for(testimonial, expires_on=default_end, expiry_event="")
    context = _context(
        form=form,
        terms=terms,
        testimonial=testimonial,
        first_name=survey.patient.first_name,
    )
    return render(request, "advocacy/testimonial_sign.html", context, status=status)


@never_cache
@require_GET
def done(request):
    """Thank you, and the copy of exactly what was signed."""
    survey = _patient_survey(request)
    if survey is None:
        return _not_valid(request)
    testimonial = Testimonial.objects.filter(survey=survey).first()
    if testimonial is None or testimonial.authorization is None:
        return _see_other("advocacy_survey_testimonial")
    authorization = testimonial.authorization
    context = _context(
        authorization=authorization,
        revoke_url=testimonials.revoke_link(authorization),
        first_name=survey.patient.first_name,
    )
    return render(request, "advocacy/testimonial_done.html", context)


# ---------------------------------------------------------------- the revoke link


@never_cache
@require_GET
def authorization_link(request, code: str):
    """The link in the patient's copy: keep the code in a cookie, then show the page."""
    response = _see_other("advocacy_authorization")
    response.set_cookie(
        AUTHORIZATION_COOKIE,
        code,
        max_age=survey_link.COOKIE_SECONDS,
        path=survey_link.COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def authorization_page(request):
    """The signed copy, and the one button that revokes it (only a POST revokes)."""
    authorization = testimonials.by_revocation_code(request.COOKIES.get(AUTHORIZATION_COOKIE, ""))
    if authorization is None:
        return _not_valid(request)
    just_revoked = False
    if request.method == "POST" and authorization.revoked_at is None:
        try:
            authorization = testimonials.revoke_authorization(
                authorization,
                how=testimonials.REVOKED_BY_LINK,
                acting_user=None,
                now=timezone.now(),
            )
            just_revoked = True
        except Conflict:
            authorization.refresh_from_db()
    context = _context(
        authorization=authorization,
        just_revoked=just_revoked,
        first_name=authorization.patient.first_name,
    )
    return render(request, "advocacy/authorization.html", context)


# ---------------------------------------------------------------- the widget


@frameable
@never_cache
@require_GET
def widget(request):
    """The testimonials a website may show, read afresh on every request: never cached,
    so a revoked authorization is gone from the next load."""
    shown = testimonials.publishable(timezone.now())
    response = render(
        request,
        "advocacy/testimonial_widget.html",
        {"organization": Organization.current(), "embed": True, "testimonials": shown},
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
def widget_photo(request, testimonial_id: int):
    """A testimonial's photo, only while it is publishable."""
    testimonial = testimonials.publishable(timezone.now()).filter(pk=testimonial_id).first()
    if testimonial is None or not testimonial.photo:
        raise Http404
    response = private_file_response(
        testimonial.photo, name="testimonial", content_type=testimonial.photo_type
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    # Under /s/: before the survey link's own /s/<code>/ (advocacy.urls puts it last).
    path("s/testimonial/", offer, name="advocacy_survey_testimonial"),
    path("s/testimonial/authorize/", sign, name="advocacy_survey_testimonial_sign"),
    path("s/testimonial/done/", done, name="advocacy_survey_testimonial_done"),
    path("s/authorization/", authorization_page, name="advocacy_authorization"),
    path("s/authorization/<str:code>/", authorization_link, name="advocacy_authorization_link"),
    path("embed/testimonials/", widget, name="advocacy_testimonials_widget"),
    path(
        "embed/testimonials/<int:testimonial_id>/photo/",
        widget_photo,
        name="advocacy_testimonial_photo",
    ),
    *staff_urlpatterns,
]
