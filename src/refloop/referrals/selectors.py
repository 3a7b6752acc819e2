"""Reads of referrals shared by pages and the API: who may see what, and the audit of it."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet

from refloop.core import audit
from refloop.core.errors import NotAllowed, NotFound
from refloop.core.paging import Page, page_of
from refloop.core.roles import Capability, Role, can, require
from refloop.patients.models import Patient
from refloop.practice.models import Organization
from refloop.referrals.models import Attachment, Referral, ReferralEvent
from refloop.referrals.timeline import touch


def visible_referrals(user) -> QuerySet[Referral]:
    """Every referral `user` may know exists (with or without clinical detail)."""
    if not (can(user, Capability.VIEW_REFERRALS) or can(user, Capability.VIEW_REFERRAL_SUMMARIES)):
        return Referral.objects.none()
    referrals = Referral.objects.all()
    if user.role == Role.CLINICIAN:
        return referrals.filter(department__in=user.departments.all())
    if user.role == Role.PORTAL:
        if user.partner_practice_id is None:
            return Referral.objects.none()
        return referrals.filter(direction="inbound", referring_practice_id=user.partner_practice_id)
    return referrals


def sees_clinical_detail(user) -> bool:
    """Patient identity, reason, codes, notes, documents: not for liaisons (minimum necessary)."""
    return can(user, Capability.VIEW_REFERRALS)


def timeline_for(user) -> QuerySet[ReferralEvent]:
    """Timeline events `user` may read: a referring practice's staff don't see internal notes."""
    events = ReferralEvent.objects.select_related("actor")
    if user.role == Role.PORTAL:
        events = events.exclude(kind="referral.note_added")
    return events


def require_any_referral_access(user) -> None:
    if not (can(user, Capability.VIEW_REFERRALS) or can(user, Capability.VIEW_REFERRAL_SUMMARIES)):
        raise NotAllowed("Your role may not see referrals.")


def get_referral(user, referral_id: int, *, now=None) -> Referral:
    """One referral with its detail, audited as a read (or as a refused read)."""
    require_any_referral_access(user)
    referral = (
        visible_referrals(user)
        .select_related(
            "patient",
            "referring_practice",
            "referring_provider",
            "department",
            "assignee",
            "receiving_practice",
            "receiving_provider",
        )
        .prefetch_related(
            "contact_attempts",
            "attachments",
            Prefetch("appointments"),
            Prefetch("events", queryset=timeline_for(user)),
        )
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        # Whether it does not exist or is not theirs, the answer is the same; the
        # attempt is recorded either way.
        audit.record(
            "referral.read_denied",
            audit.Touch("referral", referral_id, referral_id=referral_id),
            actor=user,
            now=now,
        )
        raise NotFound("No referral with this id is visible to you.")
    action = "referral.read" if sees_clinical_detail(user) else "referral.read_summary"
    audit.record(action, touch(referral), actor=user, now=now)
    return referral


@dataclass(frozen=True)
class ReferralFilters:
    direction: str | None = None
    states: tuple[str, ...] = ()
    urgency: str | None = None
    department_id: int | None = None
    source_type: str | None = None
    referring_practice_id: int | None = None
    channel: str | None = None
    assignee_id: int | None = None
    received_from: date | None = None  # inclusive, the practice's local date
    received_to: date | None = None  # inclusive, the practice's local date


def local_day_start(day: date, org: Organization) -> datetime:
    return datetime.combine(day, time.min, tzinfo=org.zone)


def filtered(queryset: QuerySet[Referral], filters: ReferralFilters) -> QuerySet[Referral]:
    conditions: dict = {}
    if filters.direction:
        conditions["direction"] = filters.direction
    if filters.states:
        conditions["state__in"] = filters.states
    if filters.urgency:
        conditions["urgency"] = filters.urgency
    if filters.department_id:
        conditions["department_id"] = filters.department_id
    if filters.source_type:
        conditions["source_type"] = filters.source_type
    if filters.referring_practice_id:
        conditions["referring_practice_id"] = filters.referring_practice_id
    if filters.channel:
        conditions["channel"] = filters.channel
    if filters.assignee_id:
        conditions["assignee_id"] = filters.assignee_id
    if filters.received_from or filters.received_to:
        org = Organization.current()
        if filters.received_from:
            conditions["received_at__gte"] = local_day_start(filters.received_from, org)
        if filters.received_to:
            end = local_day_start(filters.received_to + timedelta(days=1), org)
            conditions["received_at__lt"] = end
    return queryset.filter(**conditions)


def list_referrals(
    user, filters: ReferralFilters, *, limit: int = 50, offset: int = 0, now=None
) -> Page:
    """A page of referrals, newest first; each row showing patient data is audited as a read."""
    require_any_referral_access(user)
    queryset = filtered(visible_referrals(user), filters).select_related(
        "patient",
        "referring_practice",
        "referring_provider",
        "department",
        "assignee",
        "receiving_practice",
    )
    page = page_of(queryset.order_by("-received_at", "-pk"), limit=limit, offset=offset)
    if page.items and sees_clinical_detail(user):
        audit.record_many("referral.listed", [touch(r) for r in page.items], actor=user, now=now)
    return page


def visible_patient(user, patient_id: int) -> Patient | None:
    """A patient on a referral `user` may see with clinical detail, or None."""
    if not sees_clinical_detail(user):
        return None
    if not visible_referrals(user).filter(patient_id=patient_id).exists():
        return None
    return Patient.objects.filter(pk=patient_id).first()


def get_attachment(user, referral_id: int, attachment_id: int, *, now=None) -> Attachment:
    """One document of a visible referral, audited as attachment.read (its content is PHI)."""
    require(user, Capability.VIEW_REFERRALS)
    attachment = (
        Attachment.objects.select_related("referral")
        .filter(pk=attachment_id, referral__in=visible_referrals(user).filter(pk=referral_id))
        .first()
    )
    if attachment is None:
        audit.record(
            "attachment.read_denied",
            audit.Touch("attachment", attachment_id, referral_id=referral_id),
            actor=user,
            now=now,
        )
        raise NotFound("No document with this id is visible to you on this referral.")
    audit.record(
        "attachment.read",
        audit.Touch(
            "attachment",
            attachment.pk,
            patient_id=attachment.referral.patient_id,
            referral_id=attachment.referral_id,
        ),
        actor=user,
        now=now,
    )
    return attachment
