"""Reads of the portal: a practice's referrals in plain words, what each department accepts,
a referral's messages, and the invitations staff have sent."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import dateformat, timezone

from refloop.core.models import User
from refloop.core.paging import Page
from refloop.network.models import Provider
from refloop.portal.models import PortalInvite, PortalMessage, PortalPreference
from refloop.practice.models import Department, Organization
from refloop.referrals import referrer
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    AttachmentKind,
    Referral,
    State,
    kind_label,
)
from refloop.referrals.selectors import ReferralFilters, list_referrals
from refloop.web.words import words

S = State
DATE_FORMAT = "M j, Y"
TIME_FORMAT = "M j, Y, g:i A T"

TONES: dict[str, str] = {
    S.PENDING_INFO: "warn",
    S.NO_SHOW: "warn",
    S.ACCEPTED: "ok",
    S.SCHEDULED: "ok",
    S.SEEN: "ok",
    S.LOOP_CLOSED: "ok",
    S.DECLINED: "late",
    S.UNREACHABLE: "late",
    S.CANCELLED: "late",
}
PAGE_SIZE = 50


def local(moment: datetime | None, org: Organization, fmt: str = TIME_FORMAT) -> str:
    if moment is None:
        return ""
    return dateformat.format(timezone.localtime(moment, org.zone), fmt)


def status_of(state: str) -> dict:
    label, meaning = referrer.status_words(state)
    return {"label": label, "meaning": meaning, "tone": TONES.get(state, "")}


@dataclass(frozen=True)
class Row:
    referral: Referral
    status: dict
    received: str
    appointment: str
    unread: int


def practice_referrals(user: User, *, page: int = 1, now=None) -> tuple[Page, list[Row]]:
    """A page of the referrals the user's practice sent, newest first (audited per row)."""
    org = Organization.current()
    offset = max(page - 1, 0) * PAGE_SIZE
    listing = list_referrals(
        user, ReferralFilters(direction="inbound"), limit=PAGE_SIZE, offset=offset, now=now
    )
    ids = [r.pk for r in listing.items]
    unread = dict(
        PortalMessage.objects.filter(referral_id__in=ids, from_portal=False, read_at__isnull=True)
        .values("referral_id")
        .annotate(n=Count("pk"))
        .values_list("referral_id", "n")
    )
    # The latest appointment not cancelled, per referral (later rows overwrite earlier ones).
    next_visit = dict(
        Appointment.objects.filter(referral_id__in=ids)
        .exclude(outcome=AppointmentOutcome.CANCELLED)
        .order_by("starts_at", "pk")
        .values_list("referral_id", "starts_at")
    )
    rows = [
        Row(
            referral=r,
            status=status_of(r.state),
            received=local(r.received_at, org, DATE_FORMAT),
            appointment=local(next_visit.get(r.pk), org)
            if r.state in referrer.APPOINTMENT_STATES
            else "",
            unread=unread.get(r.pk, 0),
        )
        for r in listing.items
    ]
    return listing, rows


def appointment_shown(referral: Referral, org: Organization) -> dict | None:
    """The appointment the practice should know of: the latest one not cancelled."""
    appointment = referrer.appointment_shown(referral)
    if appointment is None:
        return None
    return {
        "starts": local(appointment.starts_at, org),
        "department": appointment.department or referral.department,
        "location": appointment.location,
        "outcome": words(appointment.outcome),
    }


def consult_reports(referral: Referral):
    return [a for a in referral.attachments.all() if a.kind == AttachmentKind.CONSULT_REPORT]


def status_history(referral: Referral, org: Organization) -> list[dict]:
    """The state changes on the referral's timeline, oldest first (no internal data)."""
    return [
        {"at": local(e.at, org), "label": status_of(e.to_state)["label"]}
        for e in referral.events.all()
        if e.to_state
    ]


def thread_of(referral: Referral) -> list[PortalMessage]:
    """The messages of a referral already read through get_referral (which audits it)."""
    return list(
        PortalMessage.objects.filter(referral=referral)
        .select_related("author", "author__partner_practice")
        .order_by("created_at", "pk")
    )


def thread_view(referral: Referral, org: Organization) -> list[dict]:
    """The thread for a page: each message with its local time and who wrote it, and for whom."""
    entries = []
    for message in thread_of(referral):
        author = message.author
        name = author.get_full_name() or author.get_username()
        side = (
            author.partner_practice.name
            if message.from_portal and author.partner_practice
            else org.name
        )
        entries.append(
            {
                "message": message,
                "at": local(message.created_at, org),
                "author": name,
                "side": side,
                "from_portal": message.from_portal,
            }
        )
    return entries


def unread_from_portal(referral: Referral) -> int:
    return PortalMessage.objects.filter(
        referral=referral, from_portal=True, read_at__isnull=True
    ).count()


def practice_providers(user: User) -> QuerySet[Provider]:
    if user.partner_practice_id is None:
        return Provider.objects.none()
    return Provider.objects.filter(practice_id=user.partner_practice_id).order_by(
        "last_name", "first_name", "pk"
    )


def preference_of(user: User) -> PortalPreference | None:
    return PortalPreference.objects.filter(user=user).first()


def _ages(department: Department) -> str:
    low, high = department.min_age, department.max_age
    if low is not None and high is not None:
        return f"{low} to {high} years"
    if low is not None:
        return f"{low} years and older"
    if high is not None:
        return f"up to {high} years"
    return ""


def departments_for_referrers() -> list[dict]:
    """Each department with what it accepts, in words for a referring practice."""
    described = []
    for department in Department.objects.select_related("point_of_contact").order_by("name"):
        contact = department.point_of_contact
        described.append(
            {
                "department": department,
                "description": department.description,
                "conditions": department.accepted_conditions,
                "keywords": department.accepted_keywords,
                "excluded_conditions": department.excluded_conditions,
                "excluded_keywords": department.excluded_keywords,
                "insurances": department.accepted_insurances,
                "ages": _ages(department),
                "documents": [kind_label(k) for k in department.required_documents],
                "contact": (contact.get_full_name() or contact.get_username())
                if contact is not None and contact.is_active
                else "",
            }
        )
    return described


def invites_for_staff(*, limit: int = 200) -> list[PortalInvite]:
    return list(PortalInvite.objects.select_related("practice", "invited_by", "user")[:limit])
