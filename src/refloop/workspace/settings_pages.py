"""Settings, the admin's pages for the practice itself: the hub, the practice and its
branding, SLA targets and departments (users and roles: settings_users; messages:
refloop.messaging.settings_views). Django's admin is for support staff only
(refloop.core.admin_site)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from refloop.core.admin_site import is_support_staff
from refloop.core.errors import InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability
from refloop.outreach.models import StarkLimit
from refloop.practice.models import Department, Location, Organization
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error
from refloop.web.words import person
from refloop.workspace import settings_services as services
from refloop.workspace import settings_users
from refloop.workspace.settings_forms import (
    CRITERIA,
    DepartmentEditForm,
    LocationForm,
    NewDepartmentForm,
    PracticeForm,
    SlaForm,
    time_zones,
)

settings_view = staff_view(Capability.MANAGE_SETTINGS)


def _saved(request, changed: list[str], what: str) -> None:
    if changed:
        messages.success(request, f"{what} saved.")
    else:
        messages.info(request, "Nothing changed.")


def _name(user: User | None) -> str:
    if user is None:
        return ""
    name = person(user)
    return name if user.is_active else f"{name} (deactivated: choose someone else)"


def _stark_limit_now() -> str:
    latest = StarkLimit.objects.order_by("-year").first()
    return "" if latest is None else f"{latest.year}: ${latest.amount:,.2f} per physician"


@require_GET
@settings_view
def home(request):
    org = Organization.current()
    users = settings_users.staff_rows()
    active = [u for u in users if u["active"]]
    sections = [
        {
            "title": "Practice",
            "url_name": "settings_practice",
            "icon": "building-hospital",
            "about": "Name, time zone, phone and fax, the logo, and the locations.",
            "now": f"{org.name} · {org.time_zone}",
        },
        {
            "title": "Departments",
            "url_name": "settings_departments",
            "icon": "building-community",
            "about": "The service lines referrals go to, who answers for each, who works in it.",
            "now": f"{Department.objects.count()} departments",
        },
        {
            "title": "SLA targets",
            "url_name": "settings_sla",
            "icon": "clock",
            "about": "How soon a patient is first contacted, and the consult report sent.",
            "now": (
                f"First contact: stat {org.sla_stat_hours} h, urgent {org.sla_urgent_hours} h, "
                f"routine {org.sla_routine_hours} h · report {org.report_within_hours} h"
            ),
        },
        {
            "title": "Users and roles",
            "url_name": "settings_users",
            "icon": "users",
            "about": "Staff accounts, their roles and departments, and second-factor sign-in.",
            "now": (
                f"{len(active)} active users, "
                f"{sum(1 for u in active if not u['mfa'])} without a second factor"
            ),
        },
        {
            "title": "Messages",
            "url_name": "message_settings",
            "icon": "mail",
            "about": "Which messages refloop sends on its own, when, and their wording.",
            "now": "",
        },
        {
            "title": "Stark limits",
            "url_name": "settings_stark_limits",
            "icon": "shield-lock",
            "about": "The yearly limit on gifts and meals to a physician (CMS, each January).",
            "now": _stark_limit_now(),
        },
        {
            "title": "Outreach",
            "url_name": "outreach_settings",
            "icon": "map-pin",
            "about": "How often each tier of referring practice is visited, and the visit topics.",
            "now": "",
        },
        {
            "title": "Patient feedback",
            "url_name": "advocacy_settings",
            "icon": "star",
            "about": "When patients and referring offices are surveyed, the questions, the review sites, and thank-you gifts for advocates.",
            "now": "",
        },
    ]
    context = {"sections": sections, "support": is_support_staff(request.user)}
    return render(request, "workspace/settings/home.html", context)


@require_http_methods(["GET", "POST"])
@settings_view
def practice(request):
    org = Organization.current()
    status = 200
    if request.method == "POST":
        form = PracticeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            changed = services.update_practice(
                acting_user=request.user,
                values=data,
                logo=data["logo"],
                remove_logo=data["remove_logo"],
            )
            _saved(request, changed, "The practice settings were")
            return redirect("settings_practice")
        status = 422
    else:
        form = PracticeForm.for_organization(org)
    context = {
        "form": form,
        "org": org,
        "zones": time_zones(),
        "locations": Location.objects.order_by("name"),
    }
    return render(request, "workspace/settings/practice.html", context, status=status)


@require_http_methods(["GET", "POST"])
@settings_view
def location(request, location_id: int | None = None):
    """A new location (no id) or an existing one: its name, address, phone and fax."""
    found = None
    if location_id is not None:
        found = Location.objects.filter(pk=location_id).first()
        if found is None:
            raise Http404("No such location.")
    status = 200
    if request.method == "POST":
        form = LocationForm(request.POST, instance=found)
        if form.is_valid():
            try:
                saved, changed = services.save_location(
                    acting_user=request.user,
                    values=form.cleaned_data,
                    location_id=found.pk if found else None,
                )
            except InvalidInput as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                _saved(request, changed, f"The location {saved.name} was")
                return redirect("settings_practice")
        status = 422
    else:
        form = LocationForm(instance=found)
    context = {"form": form, "location": found}
    return render(request, "workspace/settings/location.html", context, status=status)


@require_http_methods(["GET", "POST"])
@settings_view
def sla(request):
    org = Organization.current()
    status = 200
    if request.method == "POST":
        form = SlaForm(request.POST)
        if form.is_valid():
            try:
                changed = services.update_sla_targets(
                    acting_user=request.user, values=form.cleaned_data
                )
            except InvalidInput as error:
                attach_domain_error(form, error)
            else:
                _saved(request, changed, "The SLA targets were")
                return redirect("settings_sla")
        status = 422
    else:
        form = SlaForm.for_organization(org)
    return render(request, "workspace/settings/sla.html", {"form": form}, status=status)


def _department_rows() -> list[dict]:
    departments = Department.objects.select_related("point_of_contact").prefetch_related("staff")
    return [
        {
            "department": d,
            "point_of_contact": _name(d.point_of_contact),
            "members": sorted(_name(u) for u in d.staff.all() if u.is_active),
        }
        for d in departments.order_by("name")
    ]


@require_http_methods(["GET", "POST"])
@settings_view
def departments(request):
    """Every department with its point of contact and members, and a form for a new one."""
    status = 200
    if request.method == "POST":
        form = NewDepartmentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                department = services.create_department(
                    acting_user=request.user,
                    name=data["name"],
                    code=data["code"],
                    description=data["description"],
                    point_of_contact=data["point_of_contact"],
                    members=data["members"],
                )
            except InvalidInput as error:
                attach_domain_error(form, error)
            else:
                messages.success(request, f"The department {department.name} was added.")
                return redirect("settings_departments")
        status = 422
    else:
        form = NewDepartmentForm()
    context = {"rows": _department_rows(), "form": form}
    return render(request, "workspace/settings/departments.html", context, status=status)


@require_http_methods(["GET", "POST"])
@settings_view
def department(request, department_id: int):
    found = Department.objects.filter(pk=department_id).first()
    if found is None:
        raise Http404("No such department.")
    status = 200
    if request.method == "POST":
        form = DepartmentEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                changed = services.update_department(
                    acting_user=request.user,
                    department_id=found.pk,
                    name=data["name"],
                    description=data["description"],
                    point_of_contact=data["point_of_contact"],
                    members=data["members"],
                    criteria={name: data[name] for name in CRITERIA},
                )
            except InvalidInput as error:
                attach_domain_error(form, error)
            else:
                _saved(request, changed, f"The department {data['name']} was")
                return redirect("settings_departments")
        status = 422
    else:
        form = DepartmentEditForm.with_criteria(found)
    context = {"form": form, "department": found}
    return render(request, "workspace/settings/department.html", context, status=status)


urlpatterns = [
    path("settings/", home, name="settings_home"),
    path("settings/practice/", practice, name="settings_practice"),
    path("settings/practice/locations/new/", location, name="settings_location_new"),
    path("settings/practice/locations/<int:location_id>/", location, name="settings_location"),
    path("settings/sla/", sla, name="settings_sla"),
    path("settings/departments/", departments, name="settings_departments"),
    path("settings/departments/<int:department_id>/", department, name="settings_department"),
    *settings_users.urlpatterns,
]
