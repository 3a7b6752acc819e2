"""What one worklist row shows: ages, and the first-contact clock against its target."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse

from refloop.practice.models import Organization
from refloop.referrals import clocks, lifecycle
from refloop.referrals.models import Fit, Referral, SourceType, State, Urgency

WARN_AT = 0.75  # share of the SLA used up when the clock turns amber


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


def first_contact_clock(referral: Referral, now: datetime) -> Clock:
    """The first-contact clock (refloop.referrals.clocks): ok below 75 % of the target,
    warn from 75 % until due, late from the due time on.

    Only open referrals nobody has contacted yet have a running clock; the target is
    the one stamped on the referral when it arrived, as on the detail page and in the
    SLA sweep, whatever the settings say now.
    """
    if not lifecycle.is_open(referral.direction, referral.state):
        return Clock("", "Closed", "")
    found = clocks.clock(referral, now, kind=clocks.FIRST_CONTACT)
    if found is None:
        return Clock("", "No target", "")
    if not found.running:
        if found.late:
            return Clock("", "Contacted late", "First contact came after the target")
        return Clock("", "Contacted", "")
    detail = f"{hours(now - found.started_at)} of {hours(found.target)} to first contact"
    if found.overdue:
        return Clock("late", "Overdue", detail)
    if found.used >= WARN_AT:
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
    fit: str  # triage's words, "" before triage or for outbound referrals
    fit_tone: str
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


def _local(moment: datetime | None, org: Organization) -> tuple[str, str]:
    if moment is None:
        return "", ""
    return moment.isoformat(), moment.astimezone(org.zone).strftime("%b %-d, %Y %H:%M")


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


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
                fit=Fit(r.fit).label if r.fit else "",
                fit_tone=FIT_TONES.get(r.fit, ""),
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
                clock=first_contact_clock(r, now),
            )
        )
    return rows
