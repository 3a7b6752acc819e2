"""Outbound referrals: the ones we send to outside specialists, and the form to send one."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from refloop.core.roles import Capability, can
from refloop.referrals import services
from refloop.referrals.models import Direction
from refloop.referrals.selectors import ReferralFilters, list_referrals
from refloop.web.access import staff_view
from refloop.web.referral_forms import new_idempotency_key
from refloop.workspace.intake import patient_matches_for, without_errors
from refloop.workspace.outbound_forms import OutboundForm

PAGE_SIZE = 25

STATE_PILLS = {
    "draft": "",
    "sent": "warn",
    "accepted": "ok",
    "scheduled": "ok",
    "completed": "ok",
    "declined": "late",
    "cancelled": "late",
}


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


@staff_view(Capability.VIEW_REFERRALS)
def outbound_list(request):
    """Our referrals to outside practices, newest first, a page at a time."""
    number = _page_number(request)
    page = list_referrals(
        request.user,
        ReferralFilters(direction=Direction.OUTBOUND),
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    now = timezone.now()
    rows = [
        {
            "referral": r,
            "pill": STATE_PILLS.get(r.state, ""),
            "in_network": (
                r.receiving_in_network
                if r.receiving_in_network is not None
                else r.receiving_practice.in_network
                if r.receiving_practice
                else None
            ),
            "age_days": (now - r.received_at).days,
        }
        for r in page.items
    ]
    pages = max(1, -(-page.total // PAGE_SIZE))
    return render(
        request,
        "workspace/outbound/list.html",
        {
            "rows": rows,
            "total": page.total,
            "page_number": number,
            "pages": pages,
            "previous_page": number - 1 if number > 1 else None,
            "next_page": number + 1 if number < pages else None,
            "can_create": can(request.user, Capability.CREATE_REFERRALS),
        },
    )


def render_new(request, form, *, status=200, lookup=False):
    context = {"form": form}
    if form.is_bound and (lookup or form.data.get("patient_id")):
        context.update(patient_matches_for(request, form.data))
    return render(request, "workspace/outbound/new.html", context, status=status)


@staff_view(Capability.CREATE_REFERRALS, Capability.VIEW_REFERRALS, Capability.VIEW_DIRECTORY)
def outbound_new(request):
    user = request.user
    if request.method != "POST":
        form = OutboundForm(user=user, initial={"idempotency_key": new_idempotency_key()})
        return render_new(request, form)
    if request.POST.get("action") == "lookup":
        return render_new(
            request, without_errors(OutboundForm(request.POST, user=user)), lookup=True
        )

    form = OutboundForm(request.POST, user=user)
    referral = form.create_referral(
        services.create_outbound_referral,
        request,
        start_again="Open “New outbound referral” again to draft a new one.",
    )
    if referral is not None:
        messages.success(
            request,
            f"Outbound referral {referral.number} to {referral.receiving_practice.name} "
            "is drafted. Send it from its page.",
        )
        return redirect("referral_detail", pk=referral.pk)
    return render_new(request, form, status=422)


urlpatterns = [
    path("outbound/", outbound_list, name="outbound"),
    path("outbound/new", outbound_new, name="outbound_new"),
]
