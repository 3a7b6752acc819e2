"""Each member of staff's start page, built around their next action: where `home` sends
them once signed in. Which page is decided by capabilities (core/roles.py), never by role.

- who manages the practice's settings: the practice at a glance (failed messages, clocks
  that went late, staff without a second factor, the settings);
- who works referrals: the worklist;
- who makes clinical decisions without working referrals: their decisions and the progress
  reports still to write;
- who does outreach work and sees no patient (the liaison): the outreach home;
- who keeps the referral network and sees no patient: the referring practices;
- who reads analytics only: the dashboard.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from refloop.core import audit
from refloop.core.models import User
from refloop.core.roles import Capability, can, roles_with
from refloop.messaging import selectors as messages
from refloop.messaging.models import Status
from refloop.practice.models import Organization
from refloop.referrals import clocks, lifecycle
from refloop.referrals.models import Direction, Referral, State, Urgency
from refloop.referrals.selectors import visible_referrals
from refloop.referrals.timeline import touch
from refloop.web.words import person
from refloop.workspace.mfa.policy import mfa_required

SHOWN = 20  # rows of each list on a start page; the worklist holds the rest
BREACH_WINDOW = timedelta(days=7)
WARN_AT = 0.75  # share of a clock's target used up when it turns amber, as on the worklist


# ---- which page --------------------------------------------------------------------------


def manages_practice(user) -> bool:
    return can(user, Capability.MANAGE_SETTINGS)


def works_referrals(user) -> bool:
    return can(user, Capability.WORK_REFERRALS)


def decides_referrals(user) -> bool:
    """Makes the clinical decisions without working the queue: the coordinators do that."""
    return can(user, Capability.CLINICAL_DECISIONS) and not works_referrals(user)


def keeps_network(user) -> bool:
    """Keeps the referral network and its figures, and sees no patient (minimum necessary)."""
    return (
        can(user, Capability.EDIT_DIRECTORY)
        and can(user, Capability.VIEW_ANALYTICS)
        and not can(user, Capability.VIEW_REFERRALS)
    )


def works_outreach(user) -> bool:
    """The liaison: visits, tasks and the network, without a patient (minimum necessary)."""
    return can(user, Capability.WORK_OUTREACH) and not can(user, Capability.VIEW_REFERRALS)


def reads_analytics(user) -> bool:
    return can(user, Capability.VIEW_ANALYTICS)


def start_page(request) -> HttpResponse | None:
    """The signed-in staff user's start page, or None when their role has none."""
    pages: tuple[tuple[Callable, Callable[[], HttpResponse]], ...] = (
        (manages_practice, lambda: practice_page(request)),
        (works_referrals, lambda: redirect("worklist")),  # *My referrals*
        (decides_referrals, lambda: clinician_page(request)),
        (works_outreach, lambda: redirect("outreach_home")),
        (keeps_network, lambda: redirect("analytics_scorecards")),
        (reads_analytics, lambda: redirect("analytics_dashboard")),
    )
    for applies, page in pages:
        if applies(request.user):
            return page()
    return None


# ---- the clinician: decisions and reports ------------------------------------------------


@dataclass(frozen=True)
class Badge:
    level: str  # "ok", "warn", "late", or "" for no running clock
    label: str
    detail: str


@dataclass(frozen=True)
class Item:
    """One referral on a start page, in plain strings."""

    number: str
    url: str
    patient: str
    department: str
    urgency: str
    urgency_label: str
    reason: str
    since_label: str  # "In review 3 d", "Seen 2 d ago"
    since_iso: str
    since_local: str
    badge: Badge


def age(since: datetime, now: datetime) -> str:
    """A short elapsed time: '45 min', '7 h', '3 d'."""
    seconds = max(0.0, (now - since).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _span(span: timedelta) -> str:
    total = abs(span.total_seconds())
    if total <= 48 * 3600:
        return f"{total / 3600:.0f} h"
    return f"{total / 86400:.0f} d"


def badge(found: clocks.Clock | None, what: str) -> Badge:
    """A running clock (refloop.referrals.clocks) in words: `what` is the step it waits for."""
    if found is None or not found.running:
        return Badge("", "No clock running", "")
    detail = f"{what}: target {_span(found.target)}"
    if found.overdue:
        return Badge("late", f"Overdue {_span(found.left)}", detail)
    if found.used >= WARN_AT:
        return Badge("warn", f"Due in {_span(found.left)}", detail)
    return Badge("ok", f"Due in {_span(found.left)}", detail)


def _mine(user) -> Q:
    return Q(department__in=user.departments.all()) | Q(assignee=user)


def decisions_for(user) -> QuerySet[Referral]:
    """Referrals in review waiting for `user`'s clinical decision (accept, decline or ask
    for more): in their departments or assigned to them; the most urgent and most
    pressed by the first-contact clock first."""
    if not can(user, Capability.CLINICAL_DECISIONS):
        return Referral.objects.none()
    return (
        visible_referrals(user)
        .filter(_mine(user), direction=Direction.INBOUND, state=State.IN_REVIEW)
        .order_by(
            "urgency_rank",
            F("first_contact_due_at").asc(nulls_last=True),
            "received_at",
            "pk",
        )
    )


def reports_to_write(user) -> QuerySet[Referral]:
    """Referrals seen in `user`'s departments (or assigned to them) without a progress
    report yet, the one whose report clock runs out first on top."""
    if not can(user, Capability.CLINICAL_DECISIONS):
        return Referral.objects.none()
    return (
        visible_referrals(user)
        .filter(
            _mine(user),
            direction=Direction.INBOUND,
            state=State.SEEN,
            progress_report__isnull=True,
        )
        .order_by("seen_at", "pk")
    )


def _local(moment: datetime, org: Organization) -> str:
    return moment.astimezone(org.zone).strftime("%b %-d, %Y %H:%M")


def _item(
    referral: Referral, org: Organization, since: datetime, since_label: str, clock: Badge
) -> Item:
    return Item(
        number=referral.number,
        url=reverse("referral_detail", args=[referral.pk]),
        patient=f"{referral.patient.last_name}, {referral.patient.first_name}",
        department=referral.department.name if referral.department else "",
        urgency=referral.urgency,
        urgency_label=Urgency(referral.urgency).label,
        reason=referral.reason,
        since_label=since_label,
        since_iso=since.isoformat(),
        since_local=_local(since, org),
        badge=clock,
    )


def _decision_item(referral: Referral, org: Organization, now: datetime) -> Item:
    since = referral.state_changed_at
    first_contact = badge(clocks.first_contact(referral, now), "First contact")
    return _item(referral, org, since, f"In review {age(since, now)}", first_contact)


def _report_item(referral: Referral, org: Organization, now: datetime) -> Item:
    seen = referral.seen_at or referral.state_changed_at
    report = badge(clocks.report(referral, now), "Report to the referrer")
    return _item(referral, org, seen, f"Seen {age(seen, now)} ago", report)


@dataclass(frozen=True)
class ClinicianWork:
    decisions: list[Item]
    decisions_total: int
    reports: list[Item]
    reports_total: int
    reports_overdue: int


def clinician_work(user, *, now: datetime | None = None, shown: int = SHOWN) -> ClinicianWork:
    """The decisions and the reports waiting for `user`, each row showing a patient audited
    as `referral.listed` like the worklist's rows."""
    now = now or timezone.now()
    org = Organization.current()
    related = ("patient", "department")
    decisions = decisions_for(user)
    reports = reports_to_write(user)
    decided = list(decisions.select_related(*related)[:shown])
    written = list(reports.select_related(*related)[:shown])
    listed = decided + written
    if listed:
        audit.record_many("referral.listed", [touch(r) for r in listed], actor=user, now=now)
    return ClinicianWork(
        decisions=[_decision_item(r, org, now) for r in decided],
        decisions_total=decisions.count(),
        reports=[_report_item(r, org, now) for r in written],
        reports_total=reports.count(),
        reports_overdue=reports.filter(clocks.clock_q(clocks.REPORT, "overdue", now=now)).count(),
    )


def _worklist(**params: str) -> str:
    return reverse("worklist") + "?" + urlencode(params)


def clinician_page(request) -> HttpResponse:
    work = clinician_work(request.user)
    context = {
        "work": work,
        "decisions_url": _worklist(tab="department", state=State.IN_REVIEW),
        "reports_url": _worklist(tab="department", state=State.SEEN),
        "department_url": _worklist(tab="department"),
        "departments": [d.name for d in request.user.departments.order_by("name")],
    }
    return render(request, "workspace/start/clinician.html", context)


# ---- the practice manager: the practice at a glance --------------------------------------


def breaches_q(*, since: datetime, now: datetime) -> Q:
    """Referrals one of whose clocks (first contact, report) fell due in [since, now) and
    was late: still overdue, or done after its due time."""
    first_contact = Q(first_contact_due_at__gte=since, first_contact_due_at__lt=now) & (
        clocks.clock_q(clocks.FIRST_CONTACT, "late", now=now)
    )
    within = clocks.report_within()  # the practice's target, as the clock reads it
    report_due_between = Q(seen_at__gte=since - within, seen_at__lt=now - within)
    report = report_due_between & clocks.clock_q(clocks.REPORT, "late", now=now)
    return first_contact | report


def sla_breaches(user, *, now: datetime, window: timedelta = BREACH_WINDOW) -> QuerySet[Referral]:
    """Inbound referrals `user` may see whose first-contact or report clock went late in the
    last `window`, the latest due first."""
    return (
        visible_referrals(user)
        .filter(breaches_q(since=now - window, now=now), direction=Direction.INBOUND)
        .order_by("-first_contact_due_at", "-pk")
    )


def staff_without_second_factor() -> QuerySet[User]:
    """Active staff accounts with neither an authenticator app nor a passkey confirmed."""
    with_factor = Q(pk__in=TOTPDevice.objects.filter(confirmed=True).values("user_id")) | Q(
        pk__in=WebAuthnCredential.objects.filter(confirmed=True).values("user_id")
    )
    return (
        User.objects.filter(is_active=True, role__in=roles_with(Capability.USE_WORKSPACE))
        .exclude(with_factor)
        .order_by("last_name", "first_name", "username")
    )


@dataclass(frozen=True)
class Breach:
    number: str
    url: str
    department: str
    clock: str  # which clock went late, in words
    state: str


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    required: bool  # whether the practice's rules require a second factor of them


@dataclass(frozen=True)
class PracticeGlance:
    failed_messages: int
    breaches_total: int
    breaches_open: int  # still overdue now
    breaches: list[Breach]
    without_second_factor: list[Person]
    without_second_factor_required: int
    open_referrals: int
    unassigned: int


def _breach(referral: Referral, *, since: datetime, now: datetime) -> Breach:
    first = clocks.first_contact(referral, now)
    first_late_now = first is not None and first.late and since <= first.due_at < now
    return Breach(
        number=referral.number,
        url=reverse("referral_detail", args=[referral.pk]),
        department=referral.department.name if referral.department else "",
        clock="First contact" if first_late_now else "Report to the referrer",
        state=State(referral.state).label,
    )


def practice_glance(user, *, now: datetime | None = None, shown: int = SHOWN) -> PracticeGlance:
    """Counts and referral numbers only: nothing on it names a patient, so nothing is a read
    of patient data to audit."""
    now = now or timezone.now()
    breaches = sla_breaches(user, now=now)
    since = now - BREACH_WINDOW
    overdue = clocks.clock_q(clocks.FIRST_CONTACT, "overdue", now=now) | clocks.clock_q(
        clocks.REPORT, "overdue", now=now
    )
    people = list(staff_without_second_factor()[:200])
    without = [
        Person(
            name=person(p),
            role=p.get_role_display().capitalize(),
            required=mfa_required(p),
        )
        for p in people
    ]
    without.sort(key=lambda person: not person.required)  # those the rules require first
    open_inbound = visible_referrals(user).filter(
        direction=Direction.INBOUND, state__in=lifecycle.open_states(Direction.INBOUND)
    )
    failed = messages.status_counts(user)[Status.FAILED] if messages.may_see_messages(user) else 0
    return PracticeGlance(
        failed_messages=failed,
        breaches_total=breaches.count(),
        breaches_open=breaches.filter(overdue).count(),
        breaches=[
            _breach(r, since=since, now=now) for r in breaches.select_related("department")[:shown]
        ],
        without_second_factor=without,
        without_second_factor_required=sum(1 for p in without if p.required),
        open_referrals=open_inbound.count(),
        unassigned=open_inbound.filter(assignee__isnull=True).count(),
    )


def practice_page(request) -> HttpResponse:
    glance = practice_glance(request.user)
    links = [
        ("Settings", reverse("settings_home"), "settings", Capability.MANAGE_SETTINGS),
        ("Users and roles", reverse("settings_users"), "users", Capability.MANAGE_SETTINGS),
        ("Message settings", reverse("message_settings"), "mail", Capability.MANAGE_SETTINGS),
        ("Audit log", reverse("audit"), "shield-lock", Capability.VIEW_AUDIT),
        ("Your sign-in security", reverse("mfa_security"), "device-mobile", None),
    ]
    context = {
        "glance": glance,
        "failed_url": reverse("outbox") + "?" + urlencode({"status": Status.FAILED}),
        "worklist_url": reverse("worklist"),
        "unassigned_url": _worklist(tab="unassigned"),
        "breach_days": BREACH_WINDOW.days,
        "settings_links": [
            {"label": label, "url": url, "icon": icon}
            for label, url, icon, capability in links
            if capability is None or can(request.user, capability)
        ],
    }
    return render(request, "workspace/start/practice.html", context)
