"""Settings › Users and roles: the practice's staff accounts, their roles and departments,
whether each has a second factor, and the second-factor policy.

Accounts are never deleted (the audit log names them): they are deactivated. A new
account gets no password from the admin; its owner chooses one through a one-time link.
Every change here needs a recent confirmation of who the admin is (core.reauth).
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from refloop.core import reauth
from refloop.core.errors import Conflict, InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, Role
from refloop.practice.models import Organization
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error
from refloop.web.words import person
from refloop.workspace import settings_services as services
from refloop.workspace.settings_forms import MfaPolicyForm, NewStaffUserForm, StaffUserForm

settings_view = staff_view(Capability.MANAGE_SETTINGS)


def _with_second_factor() -> set[int]:
    """Ids of users with an authenticator app or a passkey (as mfa.policy counts them)."""
    totp = TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)
    passkeys = WebAuthnCredential.objects.filter(confirmed=True).values_list("user_id", flat=True)
    return set(totp) | set(passkeys)


def staff_rows() -> list[dict]:
    """Every staff account, active first, with what the users page shows of it."""
    with_factor = _with_second_factor()
    users = (
        User.objects.filter(role__in=services.STAFF_ROLES)
        .prefetch_related("departments")
        .order_by("-is_active", "last_name", "first_name", "username")
    )
    return [
        {
            "user": u,
            "name": person(u),
            "role": u.get_role_display().capitalize(),
            "departments": ", ".join(sorted(d.name for d in u.departments.all())),
            "mfa": u.pk in with_factor,
            "last_login": u.last_login,
            "active": u.is_active,
            "password_set": u.has_usable_password(),
        }
        for u in users
    ]


def _confirmed(request, form: forms.Form) -> bool:
    """Whether the admin confirmed who they are lately; if not, the form says so (what
    was typed is kept) with a link to the confirm page that comes back here."""
    if reauth.recently_reauthenticated(request):
        return True
    form.add_error(
        None,
        format_html(
            'This change needs you to <a href="{}">confirm it is you</a> (password or '
            "second factor) first; then save again.",
            reauth.confirm_url(request.path),
        ),
    )
    return False


def _link_outcome(request, result: services.PasswordLink, *, new: bool) -> None:
    who = person(result.user)
    if result.emailed:
        opening = f"{who}'s account was created. " if new else ""
        messages.success(
            request,
            f"{opening}A link to choose a password was emailed to {result.user.email}; "
            "it works once and for a few days.",
        )
    else:
        request.session["settings_unsent_link"] = [result.user.pk, result.link]


def _users_page(request, mfa_form: MfaPolicyForm, *, status: int = 200):
    context = {"rows": staff_rows(), "mfa_form": mfa_form, "me": request.user.pk}
    return render(request, "workspace/settings/users.html", context, status=status)


@require_GET
@settings_view
def users(request):
    mfa_form = MfaPolicyForm(initial={"roles": Organization.current().mfa_required_roles})
    return _users_page(request, mfa_form)


@require_POST
@settings_view
def mfa_policy(request):
    form = MfaPolicyForm(request.POST)
    if form.is_valid() and _confirmed(request, form):
        changed = services.set_mfa_policy(
            acting_user=request.user, roles=form.cleaned_data["roles"]
        )
        if changed:
            messages.success(request, "The second-factor policy was saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("settings_users")
    return _users_page(request, form, status=422)


@require_http_methods(["GET", "POST"])
@settings_view
def new_user(request):
    status = 200
    if request.method == "POST":
        form = NewStaffUserForm(request.POST)
        if form.is_valid() and _confirmed(request, form):
            data = form.cleaned_data
            try:
                result = services.create_staff_user(
                    acting_user=request.user,
                    username=data["username"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    role=data["role"],
                    departments=data["departments"],
                )
            except InvalidInput as error:
                attach_domain_error(form, error)
            else:
                _link_outcome(request, result, new=True)
                return redirect("settings_user", user_id=result.user.pk)
        status = 422
    else:
        form = NewStaffUserForm(initial={"role": Role.COORDINATOR.value})
    return render(request, "workspace/settings/user_new.html", {"form": form}, status=status)


def _staff_user(pk: int) -> User:
    found = User.objects.filter(pk=pk, role__in=services.STAFF_ROLES).first()
    if found is None:
        raise Http404("No such staff user.")
    return found


def _user_page(request, shown: User, form: StaffUserForm, *, status: int = 200):
    unsent = request.session.pop("settings_unsent_link", None)
    row = next(r for r in staff_rows() if r["user"].pk == shown.pk)
    context = {
        "shown": shown,
        "row": row,
        "form": form,
        "is_me": shown.pk == request.user.pk,
        "unsent_link": unsent[1] if unsent and unsent[0] == shown.pk else "",
    }
    return render(request, "workspace/settings/user.html", context, status=status)


@require_http_methods(["GET", "POST"])
@settings_view
def user(request, user_id: int):
    shown = _staff_user(user_id)
    if request.method != "POST":
        return _user_page(request, shown, StaffUserForm.for_user(shown))
    form = StaffUserForm(request.POST)
    if form.is_valid() and _confirmed(request, form):
        data = form.cleaned_data
        try:
            changed = services.update_staff_user(
                acting_user=request.user,
                user_id=shown.pk,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                departments=data["departments"],
                compliance_officer=data["compliance_officer"],
            )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            if changed:
                messages.success(request, "The account was saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("settings_user", user_id=shown.pk)
    return _user_page(request, shown, form, status=422)


def _confirm_first(request, user_id: int):
    """An action without a form of its own: confirm who you are, then come back to the user."""
    return redirect(reauth.confirm_url(reverse("settings_user", args=[user_id])))


@require_POST
@settings_view
def user_active(request, user_id: int):
    """Deactivate (active=0) or reactivate (active=1) a staff account."""
    shown = _staff_user(user_id)
    if not reauth.recently_reauthenticated(request):
        return _confirm_first(request, shown.pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_user_active(acting_user=request.user, user_id=shown.pk, active=active)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        who = person(shown)
        if active:
            messages.success(request, f"{who} can sign in again.")
        else:
            messages.success(request, f"{who} can no longer sign in; their history stays.")
    return redirect("settings_user", user_id=shown.pk)


@require_POST
@settings_view
def user_password_link(request, user_id: int):
    shown = _staff_user(user_id)
    if not reauth.recently_reauthenticated(request):
        return _confirm_first(request, shown.pk)
    try:
        result = services.send_password_link(acting_user=request.user, user_id=shown.pk)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        _link_outcome(request, result, new=False)
    return redirect("settings_user", user_id=shown.pk)


@require_POST
@settings_view
def user_second_factors(request, user_id: int):
    """Remove a user's second factors: they lost their phone and their recovery codes."""
    shown = _staff_user(user_id)
    if not reauth.recently_reauthenticated(request):
        return _confirm_first(request, shown.pk)
    try:
        removed = services.reset_second_factors(acting_user=request.user, user_id=shown.pk)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        who = person(shown)
        messages.success(
            request,
            f"{who}'s second factors were removed ({removed}); they set up a new one at their "
            "next sign-in where one is required.",
        )
    return redirect("settings_user", user_id=shown.pk)


urlpatterns = [
    path("settings/users/", users, name="settings_users"),
    path("settings/users/second-factor", mfa_policy, name="settings_mfa_policy"),
    path("settings/users/new/", new_user, name="settings_user_new"),
    path("settings/users/<int:user_id>/", user, name="settings_user"),
    path("settings/users/<int:user_id>/active", user_active, name="settings_user_active"),
    path(
        "settings/users/<int:user_id>/second-factors",
        user_second_factors,
        name="settings_user_second_factors",
    ),
    path(
        "settings/users/<int:user_id>/password-link", user_password_link, name="settings_user_link"
    ),
]
