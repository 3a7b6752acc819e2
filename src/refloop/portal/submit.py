"""Sending a referral through the portal: one short form, the last choices remembered,
each department's intake criteria beside it, documents attached in the same step."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from refloop.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from refloop.portal import selectors, services
from refloop.portal.access import portal_view
from refloop.portal.forms import PortalReferralForm
from refloop.referrals.models import Urgency
from refloop.web.referral_forms import (
    new_idempotency_key,
    show_creation_error,
)


def initial_values(user) -> dict:
    initial: dict[str, object] = {
        "idempotency_key": new_idempotency_key(),
        "document_kind": "referral_letter",
    }
    preference = selectors.preference_of(user)
    if preference is not None:
        providers = selectors.practice_providers(user)
        if (
            preference.referring_provider_id
            and providers.filter(pk=preference.referring_provider_id).exists()
        ):
            initial["referring_provider"] = preference.referring_provider_id
        if preference.department_id:
            initial["department"] = preference.department_id
        if preference.urgency in Urgency.values:
            initial["urgency"] = preference.urgency
    elif (only := selectors.practice_providers(user)[:2]) and len(only) == 1:
        initial["referring_provider"] = only[0].pk
    return initial


def render_form(request, form, *, status: int = 200):
    context = {
        "form": form,
        "departments": selectors.departments_for_referrers(),
        "files_dropped": form.is_bound and bool(request.FILES) and bool(form.errors),
    }
    return render(request, "portal/submit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@portal_view
def submit(request):
    user = request.user
    if request.method != "POST":
        return render_form(request, PortalReferralForm(user=user, initial=initial_values(user)))
    form = PortalReferralForm(request.POST, request.FILES, user=user)
    if form.is_valid():
        try:
            referral, created = services.submit_referral(
                acting_user=user,
                patient=form.patient_data(),
                **form.referral_fields(request.POST),
            )
        except InvalidInput as error:
            if error.field == "referring_provider_id":
                form.add_error("referring_provider", error.message)
            else:
                show_creation_error(
                    form, error, start_again="Open “Send a referral” again to send a new one."
                )
        except (PayloadTooLarge, UnsupportedMediaType) as error:
            # The form checked each file already; this is the service's own check agreeing.
            form.add_error("documents", error.message)
        else:
            if created:
                messages.success(
                    request,
                    f"Referral {referral.number} was sent. We will review it and you will "
                    "see each step here.",
                )
            else:
                messages.info(request, f"Referral {referral.number} was already sent.")
            return redirect("portal_referral", pk=referral.pk)
    return render_form(request, form, status=422)


urlpatterns = [
    path("portal/referrals/new/", submit, name="portal_submit"),
]
