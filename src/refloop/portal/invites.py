"""Invitations: staff invite someone at a partner practice; the invitee confirms and
chooses a username and password.

The emailed link (/portal/invite/<token>/) only hands the token to the browser in a
short-lived cookie and redirects to /portal/invite/, so the token never sits in a URL
that could be logged with an error status or sent onward as a referrer. Opening the
link uses nothing; only the POST from the confirm page does.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import Conflict, DomainError, InvalidInput, NotFound
from refloop.core.roles import Capability
from refloop.portal import selectors, services
from refloop.portal.forms import AcceptInviteForm, InviteForm
from refloop.practice.models import Organization
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

INVITE_COOKIE = "portal_invite"
INVITE_COOKIE_PATH = "/portal/invite/"
INVITE_COOKIE_SECONDS = 3600


@never_cache
@require_GET
def invite_link(request, token: str):
    """The link in the email: keep the token in a cookie, then show the confirm page."""
    response = redirect("portal_invite_accept")
    response.set_cookie(
        INVITE_COOKIE,
        token,
        max_age=INVITE_COOKIE_SECONDS,
        path=INVITE_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _invalid(request, error: DomainError):
    status = 404 if isinstance(error, NotFound) else 410
    response = render(
        request, "portal/invite_invalid.html", {"message": error.message}, status=status
    )
    response.delete_cookie(INVITE_COOKIE, path=INVITE_COOKIE_PATH)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def accept(request):
    """The confirm page: whose invitation, for which practice; the POST creates the account."""
    token = request.COOKIES.get(INVITE_COOKIE, "")
    try:
        invite = services.open_invite(token)
    except (NotFound, Conflict) as error:
        return _invalid(request, error)
    if request.user.is_authenticated:
        return render(request, "portal/invite_signed_in.html", {"invite": invite})
    if request.method != "POST":
        form = AcceptInviteForm(initial={"username": invite.email})
        return render(request, "portal/invite_accept.html", {"invite": invite, "form": form})
    form = AcceptInviteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = services.accept_invite(
                token,
                username=data["username"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except (NotFound, Conflict) as error:
            return _invalid(request, error)
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome. Your account for {invite.practice} is ready.")
            response = redirect("portal_home")
            response.delete_cookie(INVITE_COOKIE, path=INVITE_COOKIE_PATH)
            return response
    context = {"invite": invite, "form": form}
    return render(request, "portal/invite_accept.html", context, status=422)


# ---- staff: inviting ------------------------------------------------------------


def _invites_page(request, form, *, status: int = 200, unsent_link: str = ""):
    now = timezone.now()
    org = Organization.current()
    invites = [
        {
            "invite": i,
            "status": i.status(now),
            "open": i.status(now) == "open",
            "sent": selectors.local(i.created_at, org, selectors.DATE_FORMAT),
            "expires": selectors.local(i.expires_at, org, selectors.DATE_FORMAT),
        }
        for i in selectors.invites_for_staff()
    ]
    context = {"form": form, "invites": invites, "unsent_link": unsent_link}
    return render(request, "portal/invites.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.WORK_REFERRALS, Capability.VIEW_DIRECTORY)
def staff_invites(request):
    """Invitations to the portal: who was invited, their state, and a form for a new one."""
    if request.method != "POST":
        return _invites_page(request, InviteForm())
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            result = services.invite_portal_user(
                acting_user=request.user,
                email=form.cleaned_data["email"],
                practice=form.cleaned_data["practice"],
            )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            if result.emailed:
                messages.success(
                    request,
                    f"Invitation sent to {result.invite.email}; the link works once and "
                    f"until {selectors.local(result.invite.expires_at, Organization.current())}.",
                )
                return redirect("portal_invites")
            return _invites_page(request, InviteForm(), unsent_link=result.link)
    return _invites_page(request, form, status=422)


@require_POST
@staff_view(Capability.WORK_REFERRALS, Capability.VIEW_DIRECTORY)
def withdraw_invite(request, pk: int):
    try:
        services.revoke_invite(pk, acting_user=request.user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The invitation was withdrawn; its link no longer works.")
    return redirect("portal_invites")


urlpatterns = [
    path("portal/invite/", accept, name="portal_invite_accept"),
    path("portal/invite/<str:token>/", invite_link, name="portal_invite_link"),
    path("portal-invites/", staff_invites, name="portal_invites"),
    path("portal-invites/<int:pk>/withdraw", withdraw_invite, name="portal_invite_withdraw"),
]
