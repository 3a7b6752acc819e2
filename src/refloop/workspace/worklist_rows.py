"""What one worklist row shows: ages, the running clock against its target, and the fit
only where it tells something."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse

from refloop.practice.models import Organization
from refloop.referrals import clocks, lifecycle
from refloop.referrals.models import Fit, Referral, SourceType, State, Urgency, kind_label
from refloop.web.words import person


@dataclass(frozen=True)
class Clock:
    level: str  # "ok", "warn", "late", or "" for no running clock
    label: str
    detail: str


def age(since: datetime | None, now: datetime) -> str:
    """A short elapsed time: '45 min', '7 h', '3 d'."""
    if since is None:
        return "—"
    seconds = max(0, (now - since).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def hours(span: timedelta) -> str:
    """An SLA-sized span: hours up to two days ('36 h'), days beyond ('12 d')."""
    total = span.total_seconds()
    if total <= 48 * 3600:
        return f"{total / 3600:.0f} h"
    return f"{total / 86400:.0f} d"


STEPS = {clocks.FIRST_CONTACT: "first contact", clocks.REPORT: "the report"}


def due_clock(referral: Referral, now: datetime) -> Clock:
    """The referral's running clock (refloop.referrals.clocks: first contact, then the
    report after the visit): ok, warn once due soon, late from the due time on.

    The target is the one stamped on the referral when it arrived, as on the detail page
    and in the SLA sweep, whatever the settings say now. The worklist's default order
    reads the same clocks (referrals.selectors.next_action_order).
    """
    if not lifecycle.is_open(referral.direction, referral.state):
        return Clock("", "Closed", "")
    found = clocks.clock(referral, now)
    if found is None:
        contact = clocks.clock(referral, now, kind=clocks.FIRST_CONTACT)
        if contact is None:
            return Clock("", "No target", "")
        if contact.late:
            return Clock("", "Contacted late", "First contact came after the target")
        return Clock("", "Contacted", "")
    detail = f"{hours(now - found.started_at)} of {hours(found.target)} to {STEPS[found.kind]}"
    if found.overdue:
        return Clock("late", "Overdue", detail)
    if found.due_soon:
        return Clock("warn", "Due soon", detail)
    return Clock("ok", "On time", detail)


@dataclass(frozen=True)
class Row:
    """A referral's cells as plain strings, so the template only prints them."""

    pk: int
    number: str
    version: int
    url: str
    patient: str
    department: str
    urgency: str
    urgency_label: str
    state: str
    flag: str  # "Not a fit" or "Docs missing"; "" where the fit says nothing new
    flag_detail: str
    practice: str
    provider: str
    source: str
    assignee: str
    received_iso: str
    received_local: str
    received_age: str
    last_action_iso: str
    last_action_local: str
    last_action_age: str
    clock: Clock


FIT_TONES: dict[str, str] = {Fit.FIT: "ok", Fit.NEEDS_REVIEW: "warn", Fit.NOT_FIT: "late"}


def fit_flag(referral: Referral) -> tuple[str, str]:
    """The triage finding worth a row's space: not a fit, or documents the department
    needs and does not have. A fit, or "needs review" for want of a confirming code,
    is most referrals and tells a coordinator nothing (the referral's page says why)."""
    if referral.fit == Fit.NOT_FIT:
        return "Not a fit", "Fit assessment: not a fit"
    if referral.missing_documents:
        missing = ", ".join(kind_label(k).lower() for k in referral.missing_documents)
        return "Docs missing", f"Not yet attached: {missing}"
    return "", ""


def _local(moment: datetime | None, org: Organization) -> tuple[str, str]:
    if moment is None:
        return "", ""
    return moment.isoformat(), moment.astimezone(org.zone).strftime("%b %-d, %Y %H:%M")


def _person(user) -> str:
    return person(user)


def rows_for(
    referrals: list[Referral], org: Organization, now: datetime, *, patients: bool
) -> list[Row]:
    # The detail address for every row from one reverse(): a tenth of the render time otherwise.
    url_pattern = reverse("referral_detail", args=[0]).replace("/0/", "/{}/")
    rows = []
    for r in referrals:
        received_iso, received_local = _local(r.received_at, org)
        last = getattr(r, "last_action_at", None)
        last_iso, last_local = _local(last, org)
        flag, flag_detail = fit_flag(r)
        rows.append(
            Row(
                pk=r.pk,
                number=r.number,
                version=r.version,
                url=url_pattern.format(r.pk),
                patient=f"{r.patient.last_name}, {r.patient.first_name}" if patients else "",
                department=r.department.name if r.department is not None else "",
                urgency=r.urgency,
                urgency_label=Urgency(r.urgency).label,
                state=State(r.state).label,
                flag=flag,
                flag_detail=flag_detail,
                practice=r.referring_practice.name if r.referring_practice is not None else "",
                provider=str(r.referring_provider) if r.referring_provider_id else "",
                source=SourceType(r.source_type).label,
                assignee=_person(r.assignee) if r.assignee_id else "",
                received_iso=received_iso,
                received_local=received_local,
                received_age=age(r.received_at, now),
                last_action_iso=last_iso,
                last_action_local=last_local,
                last_action_age=age(last, now),
                clock=due_clock(r, now),
            )
        )
    return rows
