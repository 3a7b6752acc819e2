"""The frame around every workspace page: sign-in, navigation, the notification bell."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from refloop.core import throttle
from refloop.core.models import Notification
from refloop.core.notifications import unread_for
from refloop.core.roles import Capability, can
from refloop.core.sessions import passive, seconds_left
from refloop.portal.access import is_portal_user
from refloop.practice.models import Organization
from refloop.referrals.documents import sniff_content_type
from refloop.web.access import is_staff_member, staff_view
from refloop.workspace import start
from refloop.workspace.mfa.policy import pending_step


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    capability: Capability | None = None
    section: str = ""  # the URL prefix that marks the item current


NAVIGATION = (
    NavItem(
        "Worklist", "worklist", "list-check", Capability.VIEW_REFERRAL_SUMMARIES, "/referrals/"
    ),
    NavItem("New referral", "intake", "plus", Capability.CREATE_REFERRALS, "/intake/"),
    NavItem(
        "Documents", "intake_documents", "inbox", Capability.CREATE_REFERRALS, "/intake/documents/"
    ),
    NavItem("Outbound", "outbound", "send", Capability.VIEW_REFERRALS, "/outbound/"),
    NavItem("Outreach", "outreach_home", "map-pin", Capability.WORK_OUTREACH, "/outreach/"),
    NavItem("Messages", "outbox", "mail", Capability.VIEW_REFERRALS, "/messages/"),
    NavItem("Feedback", "advocacy_cases", "message", Capability.HANDLE_FEEDBACK, "/feedback/"),
    NavItem(
        "Analytics", "analytics_dashboard", "chart-bar", Capability.VIEW_ANALYTICS, "/analytics/"
    ),
    NavItem("Audit log", "audit", "shield-lock", Capability.VIEW_AUDIT, "/audit/"),
    NavItem("Settings", "settings_home", "settings", Capability.MANAGE_SETTINGS, "/settings/"),
    NavItem(
        "Portal invites",
        "portal_invites",
        "user-plus",
        Capability.WORK_REFERRALS,
        "/portal-invites/",
    ),
    NavItem(
        "Territories",
        "outreach_territories",
        "map-pin",
        Capability.WORK_OUTREACH,
        "/outreach/territories/",
    ),
    NavItem(
        "How to refer", "how_to_refer", "info-circle", Capability.VIEW_REFERRAL_SUMMARIES, "/refer/"
    ),
)

# Not daily work (compliance; the referring offices): under "More" in the bar, one click
# further; the phone's menu lists them with the rest.
UNDER_MORE = frozenset({"audit", "portal_invites", "how_to_refer", "outreach_territories"})


# A desk screen's bar holds this many pages in one line at 1440 px; a user who may see more
# (the admin) finds these under "More" first, in this order: pages they rarely work in.
BAR_PAGES = 8
OVERFLOW_FIRST = ("outbound", "outbox", "outreach_home")

NOTIFICATIONS_IN_BELL = 8


def navigation_for(user, path: str) -> list[dict]:
    shown = [i for i in NAVIGATION if i.capability is None or can(user, i.capability)]
    # The longest section the path is in is the current one (/intake/documents/ is
    # Documents, not New referral).
    sections = [i.section for i in shown if i.section and path.startswith(i.section)]
    current = max(sections, key=len, default=None)
    under_more = set(UNDER_MORE)
    in_bar = [i.url_name for i in shown if i.url_name not in under_more]
    for name in OVERFLOW_FIRST:
        if len(in_bar) <= BAR_PAGES:
            break
        if name in in_bar:
            in_bar.remove(name)
            under_more.add(name)
    return [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "icon": item.icon,
            "current": bool(item.section) and item.section == current,
            "more": item.url_name in under_more,
        }
        for item in shown
    ]


def shell_context(request) -> dict:
    """Context processor: what base.html needs on every page."""
    user = getattr(request, "user", None)
    context = {"organization": Organization.current(), "mfa_enforced": settings.MFA_ENFORCED}
    if user is not None and user.is_authenticated:
        context["session_seconds_left"] = seconds_left(request.session, timezone.now())
        context["is_portal_user"] = is_portal_user(user)
    # A session still at the second-factor step sees no navigation (the gate holds it there).
    # The gate marks the request when a view was found; an error page (an unknown URL) has
    # none, so the step is looked up here.
    if user is not None and is_staff_member(user) and not _mfa_pending(request, user):
        nav = navigation_for(user, request.path)
        more = [item for item in nav if item["more"]]
        context["nav"] = nav
        context["nav_more"] = more
        context["nav_more_current"] = any(item["current"] for item in more)
        context["unread_count"] = unread_for(user).count()
        context["can_manage_settings"] = can(user, Capability.MANAGE_SETTINGS)
    return context


def _mfa_pending(request, user) -> str | None:
    if hasattr(request, "mfa_pending"):
        return request.mfa_pending
    return pending_step(user)


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if is_portal_user(request.user):
        return redirect("portal_home")
    if is_staff_member(request.user):
        page = start.start_page(request)  # each role's start page (refloop.workspace.start)
        if page is not None:
            return page
    return render(request, "workspace/home.html")


class ThrottledAuthenticationForm(AuthenticationForm):
    """Says why a sign-in the throttle refused was refused (refloop.core.throttle decides)."""

    def get_invalid_login_error(self):
        refusal = throttle.refused(self.request)
        if refusal is not None:
            return ValidationError(refusal.message, code="throttled")
        return super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "workspace/password_change.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed.")
        return response

    def get_success_url(self):
        return reverse("home")


@staff_view()
def notifications(request):
    """The bell's panel (htmx) or the full page: the user's unread notices, newest first."""
    unread = unread_for(request.user).select_related("referral")
    template = "workspace/_notifications.html" if request.htmx else "workspace/notifications.html"
    limit = NOTIFICATIONS_IN_BELL if request.htmx else 200
    return render(request, template, {"notices": unread[:limit], "more": unread.count() > limit})


@require_POST
@staff_view()
def open_notification(request, pk: int):
    notice = get_object_or_404(Notification, pk=pk, user=request.user)
    Notification.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    if notice.referral_id:
        return redirect("referral_detail", pk=notice.referral_id)
    return redirect("notifications")


@require_POST
@staff_view()
def read_all_notifications(request):
    unread_for(request.user).update(read_at=timezone.now())
    return redirect("notifications")


@passive
@require_GET
def session_status(request):
    """Seconds until automatic sign-out, for the warning script; asking is not activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"seconds_left": 0})
    return JsonResponse({"seconds_left": seconds_left(request.session, timezone.now())})


@require_POST
def stay_signed_in(request):
    """The warning's "Stay signed in": the request itself is the activity that counts."""
    response = HttpResponse(status=204)
    if not request.user.is_authenticated:
        response["HX-Refresh"] = "true"  # signed out meanwhile: the page goes to sign in
    return response


@cache_control(max_age=3600)
def logo(request):
    """The practice's logo (not patient data, so no sign-in needed: the login page shows it)."""
    organization = Organization.current()
    if not organization.logo:
        raise Http404
    handle = organization.logo.open("rb")
    content_type = sniff_content_type(handle.read(16))
    handle.seek(0)
    return FileResponse(handle, content_type=content_type or "application/octet-stream")


urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password_change"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/<int:pk>/open", open_notification, name="notification_open"),
    path("notifications/read-all", read_all_notifications, name="notifications_read_all"),
    path("branding/logo", logo, name="logo"),
    path("session/", session_status, name="session_status"),
    path("session/stay", stay_signed_in, name="session_stay"),
]
