"""The practice's side of the secure messages: reading and answering the referring
practice on a referral, as a page of its own and as a panel for the referral's detail page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from refloop.core.roles import Capability
from refloop.portal import selectors, services
from refloop.portal.forms import MessageForm
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, Referral
from refloop.referrals.selectors import get_referral
from refloop.web.access import staff_view


def messages_panel_context(
    referral: Referral, user, *, form: MessageForm | None = None, mark_read: bool = True
) -> dict | None:
    """What portal/_staff_messages.html needs, for a referral already read through
    get_referral (which audits the read); None for outbound referrals.

    Opening the panel marks the referring practice's messages as read.
    """
    if referral.direction != Direction.INBOUND:
        return None
    org = Organization.current()
    unread = selectors.unread_from_portal(referral)
    thread = selectors.thread_view(referral, org)
    if mark_read and unread:
        services.mark_thread_read(referral, user)
    return {
        "referral": referral,
        "thread": thread,
        "unread": unread,
        "can_reply": services.may_message(user),
        "form": form or MessageForm(),
        "post_url": reverse("referral_messages", args=[referral.pk]),
        "has_portal_users": referral.referring_practice is not None
        and referral.referring_practice.portal_users.filter(is_active=True).exists(),
    }


@require_http_methods(["GET", "POST"])
@staff_view(Capability.VIEW_REFERRALS)
def referral_messages(request, pk: int):
    """The messages with the referring practice on one referral (the read is audited)."""
    referral = get_referral(request.user, pk)
    form = None
    status = 200
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.send(referral, request):
            if request.htmx:
                # The panel comes back in place with the message in it.
                panel = messages_panel_context(referral, request.user)
                context = {"referral": referral, "panel": panel}
                return render(request, "portal/_staff_messages.html", context)
            messages.success(request, "Your message was sent to the referring practice.")
            return redirect("referral_messages", pk=referral.pk)
        status = 422
    panel = messages_panel_context(referral, request.user, form=form)
    template = "portal/_staff_messages.html" if request.htmx else "portal/staff_messages.html"
    return render(request, template, {"referral": referral, "panel": panel}, status=status)


urlpatterns = [
    path("referrals/<int:pk>/messages/", referral_messages, name="referral_messages"),
]
