"""Writes behind the Settings pages: the practice, its SLA targets, departments, staff users
and the second-factor policy. Each checks MANAGE_SETTINGS, writes in one transaction and
records what changed in the audit log in that same transaction (old and new values: these
are settings and staff accounts, never patient data)."""

import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput
from refloop.core.links import absolute_url
from refloop.core.models import User
from refloop.core.roles import Capability, Role, require, roles_with
from refloop.practice.models import Department, Location, Organization
from refloop.workspace.mfa import devices

logger = logging.getLogger(__name__)

# The roles a staff account may have here; portal users come through portal invitations.
STAFF_ROLES = roles_with(Capability.USE_WORKSPACE)
SETTINGS_ROLES = roles_with(Capability.MANAGE_SETTINGS)

PRACTICE_FIELDS = ("name", "time_zone", "phone", "fax")
SLA_FIELDS = (
    "sla_stat_hours",
    "sla_urgent_hours",
    "sla_routine_hours",
    "report_within_hours",
    "max_contact_attempts",
)


def _apply(instance: Model, values: Mapping[str, Any]) -> dict[str, list]:
    """Set each value that differs on `instance`; returns {field: [old, new]} of the changes."""
    changed = {}
    for field, new in values.items():
        old = getattr(instance, field)
        if old != new:
            changed[field] = [old, new]
            setattr(instance, field, new)
    return changed


def _record(action: str, obj: Model, *, actor: User, detail: dict, now: datetime) -> None:
    audit.record(
        action, audit.Touch(str(obj._meta.model_name), obj.pk), actor=actor, detail=detail, now=now
    )


# ---- the practice -----------------------------------------------------------------


def update_practice(
    *,
    acting_user: User,
    values: Mapping[str, str],
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
    now: datetime | None = None,
) -> list[str]:
    """Save the practice's name, time zone, phone and fax, and its logo (already checked by
    the form: refloop.practice.models.validate_logo); returns the names of what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=Organization.current().pk)
        changed: dict[str, Any] = _apply(org, {f: values[f] for f in PRACTICE_FIELDS})
        if logo is not None:
            org.logo.save(logo.name or "logo", logo, save=False)
            changed["logo"] = "replaced"
        elif remove_logo and org.logo:
            org.logo.delete(save=False)
            changed["logo"] = "removed"
        if not changed:
            return []
        org.save()
        _record("settings.practice_changed", org, actor=acting_user, detail=changed, now=now)
    return list(changed)


def update_sla_targets(
    *, acting_user: User, values: Mapping[str, int], now: datetime | None = None
) -> list[str]:
    """Save the first-contact targets per urgency, the report target and the contact
    attempts before a patient counts as unreachable; returns the names of what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    for field in SLA_FIELDS:
        if values[field] < 1:
            raise InvalidInput("Enter a whole number of 1 or more.", field=field)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=Organization.current().pk)
        changed = _apply(org, {f: values[f] for f in SLA_FIELDS})
        if changed:
            org.save(update_fields=list(changed))
            _record("settings.sla_changed", org, actor=acting_user, detail=changed, now=now)
    return list(changed)


def set_mfa_policy(*, acting_user: User, roles: Iterable[str], now: datetime | None = None) -> bool:
    """The roles besides admins that must sign in with a second factor; False if unchanged."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    wanted = sorted({Role(r).value for r in roles} - set(SETTINGS_ROLES))
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=Organization.current().pk)
        changed = _apply(org, {"mfa_required_roles": wanted})
        if changed:
            org.save(update_fields=["mfa_required_roles"])
            _record("settings.mfa_policy_changed", org, actor=acting_user, detail=changed, now=now)
    return bool(changed)


LOCATION_FIELDS = ("name", "address", "city", "state", "postal_code", "phone", "fax")


def save_location(
    *,
    acting_user: User,
    values: Mapping[str, str],
    location_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Location, list[str]]:
    """Add a location (location_id None) or change one; returns it and what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    name = values["name"].strip()
    with transaction.atomic():
        if location_id is None:
            location = Location()
        else:
            location = Location.objects.select_for_update().get(pk=location_id)
        if Location.objects.filter(name__iexact=name).exclude(pk=location.pk).exists():
            raise InvalidInput(f"There is already a location named {name}.", field="name")
        changed = _apply(location, {**{f: values[f] for f in LOCATION_FIELDS}, "name": name})
        if changed:
            action = (
                "settings.location_created" if location.pk is None else "settings.location_changed"
            )
            location.save()
            _record(action, location, actor=acting_user, detail=changed, now=now)
    return location, list(changed)


# ---- departments ------------------------------------------------------------------


def _member_ids(department: Department) -> list[int]:
    return sorted(department.staff.values_list("pk", flat=True))


def create_department(
    *,
    acting_user: User,
    name: str,
    code: str,
    description: str = "",
    point_of_contact: User | None = None,
    members: Iterable[User] = (),
    now: datetime | None = None,
) -> Department:
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    name, code = name.strip(), code.strip().lower()
    if Department.objects.filter(name__iexact=name).exists():
        raise InvalidInput(f"There is already a department named {name}.", field="name")
    if Department.objects.filter(code=code).exists():
        raise InvalidInput(f"The short code {code} is taken; choose another.", field="code")
    with transaction.atomic():
        department = Department.objects.create(
            name=name, code=code, description=description, point_of_contact=point_of_contact
        )
        department.staff.set(list(members))
        detail = {
            "name": name,
            "code": code,
            "point_of_contact": point_of_contact.pk if point_of_contact else None,
            "members": _member_ids(department),
        }
        _record(
            "settings.department_created", department, actor=acting_user, detail=detail, now=now
        )
    return department


def update_department(
    *,
    acting_user: User,
    department_id: int,
    name: str,
    description: str,
    point_of_contact: User | None,
    members: Iterable[User],
    criteria: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Rename a department, change its description, point of contact, members and intake
    criteria (the fields triage reads); returns the names of what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    name = name.strip()
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department_id)
        if Department.objects.filter(name__iexact=name).exclude(pk=department.pk).exists():
            raise InvalidInput(f"There is already a department named {name}.", field="name")
        changed: dict[str, Any] = _apply(
            department,
            {
                "name": name,
                "description": description,
                "point_of_contact_id": point_of_contact.pk if point_of_contact else None,
                **(criteria or {}),
            },
        )
        before = _member_ids(department)
        after = sorted(u.pk for u in members)
        if before != after:
            department.staff.set(after)
            changed["members"] = [before, after]
        if changed:
            department.save()
            _record(
                "settings.department_changed",
                department,
                actor=acting_user,
                detail=changed,
                now=now,
            )
    return list(changed)


# ---- staff users ------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordLink:
    user: User
    link: str  # the one-time link to choose a password; shown only when not emailed
    emailed: bool


def _staff_role(role: str) -> Role:
    try:
        chosen = Role(role)
    except ValueError:
        chosen = None
    if chosen not in STAFF_ROLES:
        raise InvalidInput("Choose one of the roles listed.", field="role")
    return chosen


def _department_ids(departments: Iterable[Department]) -> list[int]:
    return sorted(d.pk for d in departments)


def _password_link(user: User) -> str:
    """A link to choose a password, on the password-reset page: it works once (the token is
    tied to the password it replaces) and for PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return absolute_url(path)


def _send_password_link(user: User, link: str) -> bool:
    organization = Organization.current()
    body = render_to_string(
        "workspace/settings/email_welcome.txt",
        {"user": user, "link": link, "practice": organization.name},
    )
    try:
        send_mail(f"Your refloop account at {organization.name}", body, None, [user.email])
    except (smtplib.SMTPException, OSError) as error:
        # Never the link (it is the credential) nor the address: the admin sees the link.
        logger.warning(
            "user #%d: the set-password email could not be sent (%s)", user.pk, type(error).__name__
        )
        return False
    return True


def create_staff_user(
    *,
    acting_user: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    departments: Iterable[Department] = (),
    now: datetime | None = None,
) -> PasswordLink:
    """A new staff account with no password yet: the person chooses one through the link
    emailed to them (an admin never types or sees someone else's password)."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    username = username.strip()
    chosen = _staff_role(role)
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(
            f"The username {username} is already taken; choose another.", field="username"
        )
    if User.objects.filter(email__iexact=email.strip(), is_active=True).exists():
        raise InvalidInput("Someone with this email address already has an account.", field="email")
    with transaction.atomic():
        user = User(
            username=username,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email.strip(),
            role=chosen,
        )
        user.set_unusable_password()
        user.save()
        user.departments.set(list(departments))
        detail = {
            "username": username,
            "role": chosen.value,
            "departments": _department_ids(departments),
        }
        _record("user.created", user, actor=acting_user, detail=detail, now=now)
    link = _password_link(user)
    return PasswordLink(user=user, link=link, emailed=_send_password_link(user, link))


def send_password_link(
    *, acting_user: User, user_id: int, now: datetime | None = None
) -> PasswordLink:
    """A new set-password link for a staff user (one who never chose a password, or lost it)."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    user = User.objects.get(pk=user_id, role__in=STAFF_ROLES)
    if not user.is_active:
        raise Conflict("This account is deactivated; reactivate it first.")
    if not user.email:
        raise Conflict("This account has no email address to send the link to; add one first.")
    _record("user.password_link_sent", user, actor=acting_user, detail={}, now=now)
    link = _password_link(user)
    return PasswordLink(user=user, link=link, emailed=_send_password_link(user, link))


def update_staff_user(
    *,
    acting_user: User,
    user_id: int,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    departments: Iterable[Department],
    compliance_officer: bool | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Change a staff user's name, email, role, departments and whether they are the
    compliance officer (None: unchanged); returns what changed. An admin cannot take away
    their own right to change settings, nor make themselves compliance officer (someone
    else must: the officer checks the liaisons and admins)."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    chosen = _staff_role(role)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id, role__in=STAFF_ROLES)
        if user.pk == acting_user.pk and chosen not in SETTINGS_ROLES:
            raise InvalidInput(
                "You cannot take away your own admin role; ask another admin to.", field="role"
            )
        email = email.strip()
        if (
            email
            and User.objects.filter(email__iexact=email, is_active=True)
            .exclude(pk=user.pk)
            .exists()
        ):
            raise InvalidInput(
                "Someone with this email address already has an account.", field="email"
            )
        values: dict[str, Any] = {
            "first_name": first_name.strip(),
            "last_name": last_name.strip(),
            "email": email,
            "role": chosen.value,
        }
        if compliance_officer is not None:
            if user.pk == acting_user.pk and compliance_officer and not user.compliance_officer:
                raise InvalidInput(
                    "You cannot make yourself the compliance officer; ask another admin to.",
                    field="compliance_officer",
                )
            values["compliance_officer"] = compliance_officer
        changed: dict[str, Any] = _apply(user, values)
        before = _department_ids(user.departments.all())
        after = _department_ids(departments)
        if before != after:
            user.departments.set(after)
            changed["departments"] = [before, after]
        if changed:
            user.save()
            action = "user.role_changed" if "role" in changed else "user.changed"
            if "compliance_officer" in changed and "role" not in changed:
                action = "user.compliance_officer_changed"
            _record(action, user, actor=acting_user, detail=changed, now=now)
    return list(changed)


def set_user_active(
    *, acting_user: User, user_id: int, active: bool, now: datetime | None = None
) -> bool:
    """Deactivate a staff user (they can no longer sign in; nothing they did is removed) or
    reactivate them; False if they already were. An admin cannot deactivate themselves."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id, role__in=STAFF_ROLES)
        if user.pk == acting_user.pk and not active:
            raise Conflict("You cannot deactivate your own account; ask another admin to.")
        if user.is_active == active:
            return False
        user.is_active = active
        user.save(update_fields=["is_active"])
        action = "user.reactivated" if active else "user.deactivated"
        _record(action, user, actor=acting_user, detail={}, now=now)
    return True


def reset_second_factors(*, acting_user: User, user_id: int) -> int:
    """Remove every second factor of another staff user (a lost phone and lost recovery
    codes); how many were removed. Your own are managed on your sign-in security page."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    user = User.objects.get(pk=user_id, role__in=STAFF_ROLES)
    if user.pk == acting_user.pk:
        raise Conflict("Your own second factors are managed on your sign-in security page.")
    return devices.remove_all_factors(user, actor=acting_user)
