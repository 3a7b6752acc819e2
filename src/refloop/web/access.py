"""Who may open a staff page (the workspace's and every feature's): signed-in practice staff,
with the capability the page needs.

Portal users (staff of referring practices) sign in to the same site but the
workspace is not theirs; they get a plain refusal, never a practice's worklist.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from refloop.core.roles import Capability, can


def is_staff_member(user) -> bool:
    return can(user, Capability.USE_WORKSPACE)


def forbidden(request, message: str, *, base: str = "web/base.html"):
    """The plain 403 page saying why, in the look of `base` (the portal passes its own)."""
    context = {"title": "Not allowed", "message": message, "base": base}
    return render(request, "web/edge.html", context, status=403)


def let_in(may_enter: Callable[[Any], bool], refusal: str, *, base: str = "web/base.html"):
    """The door of a part of the site (the workspace, the portal): the view runs for a
    signed-in user `may_enter` lets in; anyone else goes to sign in first, or gets a plain
    403 saying `refusal` in the look of `base`."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not may_enter(request.user):
                return forbidden(request, refusal, base=base)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def staff_view(*capabilities: Capability):
    """Require a signed-in staff user holding every capability named (any staff if none)."""
    staff_only = let_in(
        is_staff_member,
        "The workspace is for the practice's own staff. "
        "Referring practices use the referral portal.",
    )

    def decorate(view):
        @wraps(view)
        def with_role(request, *args, **kwargs):
            if not all(can(request.user, c) for c in capabilities):
                return forbidden(request, "Your role does not include this page.")
            return view(request, *args, **kwargs)

        return staff_only(with_role)

    return decorate
