"""Who may open a portal page: signed-in staff of a partner practice, for their practice only.

Practice staff get a plain refusal (the workspace is theirs); a referral the user may not
see answers "not found", the same as one that does not exist.
"""

from functools import wraps

from django.shortcuts import render

from refloop.core.errors import NotFound
from refloop.core.roles import Capability, can
from refloop.web.access import forbidden, let_in


def is_portal_user(user) -> bool:
    return can(user, Capability.USE_PORTAL)


BASE = "portal/base.html"


def refused(request, message: str):
    return forbidden(request, message, base=BASE)


portal_users_only = let_in(
    is_portal_user,
    "The referral portal is for staff of referring practices. "
    "The practice's own staff use the workspace.",
    base=BASE,
)


def not_found(request):
    return render(request, "portal/not_found.html", status=404)


def portal_view(view):
    """Require a signed-in portal user who belongs to a practice; hidden is not found."""

    @wraps(view)
    def in_practice(request, *args, **kwargs):
        if request.user.partner_practice_id is None:
            return refused(
                request,
                "Your portal account belongs to no practice. Ask the practice that invited "
                "you to fix your account.",
            )
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            return not_found(request)

    return portal_users_only(in_practice)
