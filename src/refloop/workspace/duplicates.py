"""Possible duplicates on the referral page: the flag triage raised, and the merge that
keeps both timelines (the duplicate is cancelled as a duplicate and points at the kept one)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from refloop.core.errors import Conflict, InvalidInput
from refloop.core.roles import Capability
from refloop.referrals import services
from refloop.referrals.models import Referral
from refloop.referrals.selectors import get_referral, visible_referrals
from refloop.web.access import staff_view


class MergeForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    into = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def duplicate_context(user, referral: Referral) -> dict:
    """The flag and the merge form for the page, and the referrals merged into this one."""
    visible = visible_referrals(user)
    flagged = None
    if referral.possible_duplicate_of_id and referral.merged_into_id is None:
        flagged = visible.filter(pk=referral.possible_duplicate_of_id).first()
    merged_into = (
        visible.filter(pk=referral.merged_into_id).first() if referral.merged_into_id else None
    )
    form = None
    if flagged is not None:
        form = MergeForm(initial={"expected_version": referral.version, "into": flagged.pk})
    return {
        "duplicate_of": flagged,
        "merge_form": form,
        "merged_into": merged_into,
        "merged_referrals": list(visible.filter(merged_into=referral).order_by("received_at")),
    }


@require_POST
@staff_view(Capability.WORK_REFERRALS)
def merge(request, pk: int):
    referral = get_referral(request.user, pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The merge form was incomplete; reload the page and try again.")
        return redirect("referral_detail", pk)
    try:
        kept = services.merge_duplicate(
            referral,
            into=form.cleaned_data["into"],
            acting_user=request.user,
            expected_version=form.cleaned_data["expected_version"],
        )
    except (Conflict, InvalidInput) as error:
        messages.error(request, error.message)
        return redirect("referral_detail", pk)
    messages.success(
        request, f"{referral.number} was merged into {kept.number}; both timelines are kept."
    )
    return redirect("referral_detail", kept.pk)


urlpatterns = [path("referrals/<int:pk>/merge", merge, name="referral_merge")]
