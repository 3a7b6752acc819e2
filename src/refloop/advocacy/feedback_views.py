"""Staff pages for surveys: the feedback settings (MANAGE_SETTINGS: when surveys go out, the
patient questions, the review sites per location) and the list of recent surveys
(HANDLE_FEEDBACK) with sending one by hand and inviting a patient who did not answer to review
us."""

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.advocacy import feedback_settings as services
from refloop.advocacy.models import (
    AdvocacySettings,
    Audience,
    Question,
    ReviewInvitation,
    ReviewSite,
    Survey,
)
from refloop.advocacy.sending import invite_to_review, send_survey_by_hand
from refloop.core import audit
from refloop.core.errors import DomainError, InvalidInput
from refloop.core.roles import Capability
from refloop.practice.models import Department, Location
from refloop.referrals.selectors import visible_referrals
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

settings_view = staff_view(Capability.MANAGE_SETTINGS)
feedback_view = staff_view(Capability.HANDLE_FEEDBACK)
RECENT = 100


def _number(label: str, low: int, high: int, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
        help_text=help_text,
    )


class SurveySettingsForm(forms.Form):
    survey_after_seen = forms.BooleanField(
        required=False, label="Survey the patient after a referral's first visit"
    )
    survey_after_visits = forms.BooleanField(
        required=False, label="Also survey after visits in the departments chosen below"
    )
    survey_visit_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Departments whose visits are surveyed",
    )
    survey_interval_days = _number(
        "At most one survey per patient in", 1, 365, "Days, 1 to 365 (90 is usual)."
    )
    low_score = _number(
        "A likelihood-to-recommend at or below this opens a case", 0, 10, "0 to 10."
    )
    office_survey_after_loop = forms.BooleanField(
        required=False, label="Ask the referring office after a referral's loop is closed"
    )
    office_survey_sample_percent = _number(
        "Share of closed loops asked", 0, 100, "Percent; each contact at most once a quarter."
    )
    office_survey_quarterly = forms.BooleanField(
        required=False, label="Ask each active referring practice every quarter"
    )
    office_low_score = _number(
        "An office answer at or below this raises a task for the liaison", 1, 5, "1 to 5."
    )


class SiteForm(forms.Form):
    name = forms.CharField(max_length=60, label="Site")
    url = forms.URLField(max_length=500, label="Address of the review page", assume_scheme="https")
    location = forms.ModelChoiceField(
        queryset=Location.objects.order_by("name"),
        required=False,
        empty_label="Every location",
        label="Location",
    )


class QuestionForm(forms.Form):
    text = forms.CharField(max_length=200, label="New question (answered 1 to 5)")


def _saved(request, changed, what: str) -> None:
    if changed:
        messages.success(request, f"{what} saved.")
    else:
        messages.info(request, "Nothing changed.")


def _settings_page(request, *, form=None, site_form=None, question_form=None, status=200):
    found = AdvocacySettings.current()
    if form is None:
        initial = {f: getattr(found, f) for f in services.SURVEY_FIELDS}
        initial["survey_visit_departments"] = list(found.survey_visit_departments.all())
        form = SurveySettingsForm(initial=initial)
    sites = list(ReviewSite.objects.select_related("location").order_by("position", "pk"))
    groups = [{"name": "Every location", "sites": [s for s in sites if s.location_id is None]}]
    for location in Location.objects.order_by("name"):
        groups.append(
            {"name": location.name, "sites": [s for s in sites if s.location_id == location.pk]}
        )
    context = {
        "form": form,
        "site_form": site_form or SiteForm(),
        "question_form": question_form or QuestionForm(),
        "patient_questions": list(
            Question.objects.filter(audience=Audience.PATIENT).order_by("position", "pk")
        ),
        "office_questions": list(
            Question.objects.filter(audience=Audience.OFFICE).order_by("position", "pk")
        ),
        "site_groups": groups,
    }
    return render(request, "advocacy/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@settings_view
def settings_page(request):
    if request.method == "GET":
        return _settings_page(request)
    form = SurveySettingsForm(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        departments = list(values.pop("survey_visit_departments"))
        try:
            changed = services.update_survey_settings(
                acting_user=request.user,
                values=values,
                departments=departments,
                now=timezone.now(),
            )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            _saved(request, changed, "The survey settings were")
            return redirect("advocacy_settings")
    return _settings_page(request, form=form, status=422)


@require_POST
@settings_view
def questions(request):
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.add_question(
                acting_user=request.user, text=form.cleaned_data["text"], now=timezone.now()
            )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            messages.success(request, "The question was added.")
            return redirect("advocacy_settings")
    return _settings_page(request, question_form=form, status=422)


@require_POST
@settings_view
def question(request, question_id: int):
    """One patient question: reword and switch on or off (save), or move it up or down."""
    found = get_object_or_404(Question, pk=question_id)
    action = request.POST.get("action", "save")
    now = timezone.now()
    try:
        if action in ("up", "down"):
            services.move_question(
                acting_user=request.user, question=found, up=action == "up", now=now
            )
        else:
            changed = services.change_question(
                acting_user=request.user,
                question=found,
                text=request.POST.get("text", ""),
                active=request.POST.get("active") == "on",
                now=now,
            )
            _saved(request, changed, "The question was")
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("advocacy_settings")


@require_POST
@settings_view
def sites(request):
    form = SiteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            site = services.add_site(
                acting_user=request.user,
                name=data["name"],
                url=data["url"],
                location=data["location"],
                now=timezone.now(),
            )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            messages.success(request, f"{site.name} was added.")
            return redirect("advocacy_settings")
    return _settings_page(request, site_form=form, status=422)


@require_POST
@settings_view
def site(request, site_id: int):
    found = get_object_or_404(ReviewSite, pk=site_id)
    try:
        changed = services.change_site(
            acting_user=request.user,
            site=found,
            name=request.POST.get("name", ""),
            url=request.POST.get("url", ""),
            active=request.POST.get("active") == "on",
            now=timezone.now(),
        )
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        _saved(request, changed, "The review site was")
    return redirect("advocacy_settings")


# ---------------------------------------------------------------- the staff list


def _visible_surveys(user):
    return Survey.objects.filter(
        audience=Audience.PATIENT, referral__in=visible_referrals(user)
    ).select_related("referral", "response", "department")


@require_GET
@feedback_view
def surveys(request):
    now = timezone.now()
    rows = list(_visible_surveys(request.user).order_by("-created_at", "-pk")[:RECENT])
    invited = set(
        ReviewInvitation.objects.filter(
            survey__in=rows, via=ReviewInvitation.Via.MESSAGE
        ).values_list("survey_id", flat=True)
    )
    if rows:
        audit.record_many(
            "survey.listed", [s.audit_touch() for s in rows], actor=request.user, now=now
        )
    listed = []
    for survey in rows:
        response = getattr(survey, "response", None)
        listed.append(
            {
                "survey": survey,
                "score": response.recommend if response is not None else None,
                "answered": survey.answered_at is not None,
                "expired": survey.answered_at is None and survey.expires_at <= now,
                "invited": survey.pk in invited,
            }
        )
    return render(request, "advocacy/surveys.html", {"rows": listed})


@require_POST
@feedback_view
def send_by_hand(request):
    number = request.POST.get("referral", "").strip()
    referral = (
        visible_referrals(request.user).filter(number__iexact=number).first() if number else None
    )
    if referral is None:
        messages.error(request, "Enter the number of a referral you can see, such as R-2611-0042.")
        return redirect("advocacy_surveys")
    try:
        send_survey_by_hand(referral=referral, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"A survey is on its way to the patient of {referral.number}.")
    return redirect("advocacy_surveys")


@require_POST
@feedback_view
def invite(request, pk: int):
    survey = get_object_or_404(_visible_surveys(request.user), pk=pk)
    try:
        invite_to_review(survey=survey, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"The review invitation is on its way to the patient of {survey.referral.number}.",
        )
    return redirect("advocacy_surveys")


urlpatterns = [
    path("settings/feedback/", settings_page, name="advocacy_settings"),
    path("settings/feedback/questions/", questions, name="advocacy_questions"),
    path("settings/feedback/questions/<int:question_id>/", question, name="advocacy_question"),
    path("settings/feedback/sites/", sites, name="advocacy_review_sites"),
    path("settings/feedback/sites/<int:site_id>/", site, name="advocacy_review_site"),
    path("feedback/surveys/", surveys, name="advocacy_surveys"),
    path("feedback/surveys/send/", send_by_hand, name="advocacy_survey_send"),
    path("feedback/surveys/<int:pk>/invite/", invite, name="advocacy_survey_invite"),
]
