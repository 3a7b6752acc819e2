"""The after-visit panel's actions: write the progress report, record the patient's consent
to share it, and save the patient's message preferences. Each posts back to the referral's
detail page; input to fix re-renders the page with the form's errors (422)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from refloop.core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from refloop.core.roles import Capability
from refloop.messaging import services
from refloop.messaging.report_panels import BOUND_FORMS
from refloop.messaging.template_forms import PreferenceForm, ProgressReportForm
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, Referral
from refloop.referrals.reports import record_outcome_consent, write_progress_report
from refloop.referrals.selectors import get_referral
from refloop.web.access import staff_view
from refloop.web.pages import page


def _detail_page(request, referral: Referral, status: int, **forms):
    """The referral's detail page again, with the panel's forms as they were posted."""
    setattr(request, BOUND_FORMS, forms)
    template, context = page("referral_detail", request, referral, Organization.current())
    return render(request, template, context, status=status)


def _refused(request, referral: Referral, error: DomainError):
    """Back to the referral's page with the refusal said, at the error's own status."""
    messages.error(request, error.message)
    return _detail_page(request, referral, error.status)


def _done(request, referral: Referral, sentence: str):
    """Back to the referral's page, saying what was done."""
    messages.success(request, sentence)
    return redirect("referral_detail", pk=referral.pk)


@require_POST
@staff_view(Capability.CLINICAL_DECISIONS)
def progress_report(request, pk: int):
    referral = get_referral(request.user, pk)
    form = ProgressReportForm(request.POST, auto_id="report_%s")
    if not form.is_valid():
        return _detail_page(request, referral, 422, report=form)
    try:
        write_progress_report(referral.pk, acting_user=request.user, **form.cleaned_data)
    except InvalidInput as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _detail_page(request, referral, 422, report=form)
    except (Conflict, NotAllowed) as error:
        return _refused(request, referral, error)
    return _done(request, referral, "The progress report was saved.")


@require_POST
@staff_view(Capability.WORK_REFERRALS)
def outcome_consent(request, pk: int):
    referral = get_referral(request.user, pk)
    answer = request.POST.get("consent")
    if answer not in ("agreed", "declined"):
        return _refused(
            request, referral, InvalidInput("Choose whether the patient agreed or declined.")
        )
    try:
        record_outcome_consent(referral.pk, acting_user=request.user, consent=answer == "agreed")
    except (Conflict, InvalidInput, NotAllowed) as error:
        return _refused(request, referral, error)
    if answer == "agreed":
        return _done(request, referral, "Recorded: the patient agreed to share the outcome.")
    return _done(request, referral, "Recorded: the patient declined; the report is not sent.")


@require_POST
@staff_view(Capability.WORK_REFERRALS)
def message_preferences(request, pk: int):
    referral = get_referral(request.user, pk)
    if referral.direction != Direction.INBOUND:
        return _refused(
            request,
            referral,
            Conflict("Message preferences are kept for patients of inbound referrals."),
        )
    form = PreferenceForm(request.POST, patient=referral.patient, auto_id="prefs_%s")
    if not form.is_valid():
        return _detail_page(request, referral, 422, preferences=form)
    data = form.cleaned_data
    try:
        services.save_patient_preferences(
            acting_user=request.user,
            referral_id=referral.pk,
            preferred_channel=data["preferred_channel"],
            opted_out=data["opted_out"],
            quiet_start=data["quiet_start"],
            quiet_end=data["quiet_end"],
            language=data["language"],
        )
    except (Conflict, NotAllowed) as error:
        return _refused(request, referral, error)
    return _done(request, referral, "The patient's message preferences were saved.")


urlpatterns = [
    path("referrals/<int:pk>/report/", progress_report, name="referral_progress_report"),
    path("referrals/<int:pk>/outcome-consent/", outcome_consent, name="referral_outcome_consent"),
    path(
        "referrals/<int:pk>/message-preferences/",
        message_preferences,
        name="referral_message_preferences",
    ),
]
