"""Reads of the portal: a practice's referrals in plain words, what each department accepts,
a referral's messages, and the invitations staff have sent."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.utils import dateformat, timezone

from refloop.core import audit
from refloop.core.models import User
from refloop.core.paging import Page, page_of
from refloop.network.models import Provider
from refloop.portal.models import PortalInvite, PortalMessage, PortalPreference
from refloop.practice.models import Department, Organization
from refloop.referrals import lifecycle, referrer
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    AttachmentKind,
    Direction,
    Referral,
    State,
    kind_label,
)
from refloop.referrals.selectors import (
    ReferralFilters,
    filtered,
    text_matches,
    visible_referrals,
)
from refloop.referrals.timeline import touch
from refloop.web.words import person, words

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
PAGE_SIZE = 25


def local(moment: datetime | None, org: Organization, fmt: str = TIME_FORMAT) -> str:
    if moment is None:
        return ""
    return dateformat.format(timezone.localtime(moment, org.zone), fmt)


def status_of(state: str) -> dict:
    label, meaning = referrer.status_words(state)
    return {"label": label, "meaning": meaning, "tone": TONES.get(state, "")}


# How long a declined referral stays under "Needs your action": the practice finds the
# patient another way (our suggested alternative) within days, or not through us at all.
DECLINED_ACTION_DAYS = 14
NEEDS_ACTION_SHOWN = 50

OPEN_CHOICE, CLOSED_CHOICE = "open", "closed"


@dataclass(frozen=True)
class Action:
    """What the referring practice has to do about a referral."""

    kind: str  # one of ACTIONS
    label: str
    detail: str


INFO_REQUESTED, NEW_MESSAGE, AWAITING_REPLY, DECLINED_RECENTLY = (
    "info_requested",
    "new_message",
    "awaiting_reply",
    "declined",
)
ACTIONS = (INFO_REQUESTED, NEW_MESSAGE, AWAITING_REPLY, DECLINED_RECENTLY)


@dataclass(frozen=True)
class Row:
    referral: Referral
    status: dict
    received: str
    appointment: str
    unread: int
    action: Action | None = None


def state_choices() -> list[tuple[str, str]]:
    """The portal's status filter: open, closed, or one status in the practice's words."""
    return [
        (OPEN_CHOICE, "Open"),
        (CLOSED_CHOICE, "Closed"),
        *((state, referrer.status_words(state)[0]) for state in lifecycle.INBOUND),
    ]


def states_for(choice: str) -> tuple[str, ...]:
    if choice == OPEN_CHOICE:
        return tuple(lifecycle.open_states(Direction.INBOUND))
    if choice == CLOSED_CHOICE:
        return tuple(lifecycle.terminal_states(Direction.INBOUND))
    if choice in lifecycle.INBOUND:
        return (choice,)
    return ()


def _sent_by_practice(user: User) -> QuerySet[Referral]:
    return visible_referrals(user).filter(direction=Direction.INBOUND)


def _rows(referrals: list[Referral], org: Organization, actions: dict[int, Action]) -> list[Row]:
    ids = [r.pk for r in referrals]
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
    return [
        Row(
            referral=r,
            status=status_of(r.state),
            received=local(r.received_at, org, DATE_FORMAT),
            appointment=local(next_visit.get(r.pk), org)
            if r.state in referrer.APPOINTMENT_STATES
            else "",
            unread=unread.get(r.pk, 0),
            action=actions.get(r.pk),
        )
        for r in referrals
    ]


def _listed(user: User, referrals: list[Referral], now) -> None:
    """Each row shows the patient's name: a read of patient data, audited like any list."""
    if referrals:
        audit.record_many("referral.listed", [touch(r) for r in referrals], actor=user, now=now)


def _actions(user: User, now: datetime) -> dict[int, Action]:
    """Referral id -> what the practice must do about it, the first that applies of: we asked
    for information; we wrote and nobody there has read it; we wrote last on an open
    referral and wait for an answer; we declined it lately and the patient needs another
    place (unless the practice has sent us the patient again since)."""
    sent = _sent_by_practice(user)
    found: dict[int, Action] = {}

    def add(pk: int, action: Action) -> None:
        found.setdefault(pk, action)

    for pk, missing in (
        sent.filter(state=S.PENDING_INFO)
        .order_by("state_changed_at", "pk")
        .values_list("pk", "missing_info")
    ):
        add(pk, Action(INFO_REQUESTED, "Information requested", missing))
    unread = (
        PortalMessage.objects.filter(referral__in=sent, from_portal=False, read_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("referral_id", flat=True)
    )
    for pk in unread:
        add(pk, Action(NEW_MESSAGE, "New message from us", "Read it and answer if it asks."))
    last_from_portal = (
        PortalMessage.objects.filter(referral=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("from_portal")[:1]
    )
    awaiting = (
        sent.filter(state__in=lifecycle.open_states(Direction.INBOUND))
        .annotate(last_from_portal=Subquery(last_from_portal))
        .filter(last_from_portal=False)
        .order_by("state_changed_at", "pk")
        .values_list("pk", flat=True)
    )
    for pk in awaiting:
        add(pk, Action(AWAITING_REPLY, "Waiting for your reply", "We wrote last."))
    sent_again = Referral.objects.filter(
        direction=Direction.INBOUND,
        patient_id=OuterRef("patient_id"),
        referring_practice_id=OuterRef("referring_practice_id"),
        received_at__gt=OuterRef("closed_at"),
    )
    declined = (
        sent.filter(state=S.DECLINED, closed_at__gte=now - timedelta(days=DECLINED_ACTION_DAYS))
        .exclude(Exists(sent_again))
        .order_by("-closed_at", "-pk")
        .values_list("pk", "suggested_alternative")
    )
    for pk, alternative in declined:
        detail = (
            f"Suggested instead: {alternative}"
            if alternative
            else "Find the patient another place."
        )
        add(pk, Action(DECLINED_RECENTLY, "Declined: find another place", detail))
    return found


def needs_action(user: User, *, now: datetime | None = None) -> tuple[list[Row], int]:
    """The referrals the practice has to do something about, in the order of `_actions`
    (at most NEEDS_ACTION_SHOWN), and how many there are in all."""
    now = now or timezone.now()
    org = Organization.current()
    actions = _actions(user, now)
    wanted = list(actions)[:NEEDS_ACTION_SHOWN]
    by_id = _sent_by_practice(user).select_related("patient", "department").in_bulk(wanted)
    referrals = [by_id[pk] for pk in wanted if pk in by_id]
    _listed(user, referrals, now)
    return _rows(referrals, org, actions), len(actions)


def practice_referrals(
    user: User,
    *,
    page: int = 1,
    state: str = "",
    text: str = "",
    leave_out: Collection[int] = (),
    now=None,
) -> tuple[Page, list[Row]]:
    """A page of the referrals the user's practice sent, newest first (audited per row):
    of one status (`state`, a state_choices key), matching `text` (a referral number, a
    patient's name or birth date, as on the worklist), without those `leave_out` names."""
    org = Organization.current()
    now = now or timezone.now()
    referrals = filtered(_sent_by_practice(user), ReferralFilters(states=states_for(state)))
    condition = text_matches(text, patient_names=True)
    if condition is not None:
        referrals = referrals.filter(condition)
    if leave_out:
        referrals = referrals.exclude(pk__in=leave_out)
    offset = max(page - 1, 0) * PAGE_SIZE
    listing = page_of(
        referrals.select_related("patient", "department").order_by("-received_at", "-pk"),
        limit=PAGE_SIZE,
        offset=offset,
    )
    _listed(user, listing.items, now)
    return listing, _rows(listing.items, org, {})


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
        name = person(author)
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
                "contact": person(contact) if contact is not None and contact.is_active else "",
            }
        )
    return described


def invites_for_staff(*, limit: int = 200) -> list[PortalInvite]:
    return list(PortalInvite.objects.select_related("practice", "invited_by", "user")[:limit])
