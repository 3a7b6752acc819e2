"""What one worklist row shows: ages, and the first-contact clock against the urgency's SLA."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse

from refloop.practice.models import Organization
from refloop.referrals import lifecycle
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


def first_contact_clock(referral: Referral, org: Organization, now: datetime) -> Clock:
    """The first-contact SLA of DESIGN.md: ok below 75 %, warn 75-100 %, late past it.

    Only open referrals nobody has contacted yet have a running clock; a breach the
    SLA sweep already flagged stays late whatever the settings say now.
    """
    if not lifecycle.is_open(referral.direction, referral.state):
        return Clock("", "Closed", "")
    if referral.first_contact_at is not None:
        if referral.sla_breached_at is not None:
            return Clock("", "Contacted late", "First contact came after the target")
        return Clock("", "Contacted", "")
    sla = org.first_contact_sla(referral.urgency)
    elapsed = now - referral.received_at
    detail = f"{hours(elapsed)} of {hours(sla)} to first contact"
    used = elapsed / sla if sla else 1.0
    if referral.sla_breached_at is not None or used > 1:
        return Clock("late", "Overdue", detail)
    if used >= WARN_AT:
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


FIT_TONES = {Fit.FIT: "ok", Fit.NEEDS_REVIEW: "warn", Fit.NOT_FIT: "late"}


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
                department=r.department.name if r.department_id else "",
                urgency=r.urgency,
                urgency_label=Urgency(r.urgency).label,
                state=State(r.state).label,
                fit=Fit(r.fit).label if r.fit else "",
                fit_tone=FIT_TONES.get(r.fit, ""),
                practice=r.referring_practice.name if r.referring_practice_id else "",
                provider=str(r.referring_provider) if r.referring_provider_id else "",
                source=SourceType(r.source_type).label,
                assignee=_person(r.assignee) if r.assignee_id else "",
                received_iso=received_iso,
                received_local=received_local,
                received_age=age(r.received_at, now),
                last_action_iso=last_iso,
                last_action_local=last_local,
                last_action_age=age(last, now),
                clock=first_contact_clock(r, org, now),
            )
        )
    return rows
