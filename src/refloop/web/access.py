"""Who may open a staff page (the workspace's and every feature's): signed-in practice staff,
with the capability the page needs.

Portal users (staff of referring practices) sign in to the same site but the
workspace is not theirs; they get a plain refusal, never a practice's worklist.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from refloop.core.roles import Capability, can


def is_staff_member(user) -> bool:
    return can(user, Capability.USE_WORKSPACE)


def forbidden(request, message: str, *, base: str = "web/base.html"):
    """The plain 403 page saying why, in the look of `base` (the portal passes its own)."""
    return render(request, "web/forbidden.html", {"message": message, "base": base}, status=403)


def staff_view(*capabilities: Capability):
    """Require a signed-in staff user holding every capability named (any staff if none)."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_staff_member(user):
                return forbidden(
                    request,
                    "The workspace is for the practice's own staff. "
                    "Referring practices use the referral portal.",
                )
            if not all(can(user, c) for c in capabilities):
                return forbidden(request, "Your role does not include this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
