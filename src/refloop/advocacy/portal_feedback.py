"""The portal's feedback page: a referring office tells us how the experience went wrong,
perhaps about one of its own referrals. It opens a case (source portal) for our staff."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from refloop.advocacy import cases
from refloop.advocacy.models import CaseCategory, CaseSource
from refloop.core.errors import DomainError
from refloop.portal.access import portal_view
from refloop.referrals.selectors import visible_referrals

NOT_YOURS = "No referral from your practice has that number: check it, or leave it empty."


class PortalFeedbackForm(forms.Form):
    category = forms.ChoiceField(choices=CaseCategory.choices, label="What it is about")
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=cases.SUMMARY_MAX,
        label="What happened",
        help_text="Please leave out patients' names and details: the referral number is enough.",
    )
    referral_number = forms.CharField(
        required=False,
        max_length=12,
        label="Referral number (optional)",
        help_text="Its number (like R-7K3M-Q9PD), if it is about one of your referrals.",
    )


@require_http_methods(["GET", "POST"])
@portal_view
def portal_feedback(request):
    user = request.user
    status = 200
    if request.method == "POST":
        form = PortalFeedbackForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            number = data["referral_number"].strip().upper()
            referral = None
            if number:
                referral = visible_referrals(user).filter(number=number).first()
                if referral is None:
                    form.add_error("referral_number", NOT_YOURS)
            if not form.errors:
                try:
                    case = cases.open_case(
                        acting_user=user,
                        source=CaseSource.PORTAL,
                        category=data["category"],
                        summary=data["summary"],
                        referral=referral,
                        now=timezone.now(),
                    )
                except DomainError as error:
                    form.add_error(
                        "referral_number" if error.field == "referral" else None, error.message
                    )
                else:
                    messages.success(
                        request,
                        f"Thank you. We have it as {case.number}; someone will be in touch "
                        "within one business day.",
                    )
                    return redirect("portal_feedback")
        status = 400
    else:
        form = PortalFeedbackForm()
    return render(request, "advocacy/portal_feedback.html", {"form": form}, status=status)


urlpatterns = [path("portal/feedback/", portal_feedback, name="portal_feedback")]
