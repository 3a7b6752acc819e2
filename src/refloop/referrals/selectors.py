"""Reads of referrals shared by pages and the API: who may see what, and the audit of it."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import NotAllowed, NotFound
from refloop.core.models import User
from refloop.core.paging import Page, page_of
from refloop.core.roles import (
    ASSIGNABLE_ROLES,
    Capability,
    ReferralScope,
    Role,
    can,
    referral_scope,
    require,
)
from refloop.patients.models import (
    Patient,
    birth_key,
    last_name_key,
    name_key,
    normalized_name,
)
from refloop.practice.models import Organization
from refloop.referrals import lifecycle
from refloop.referrals.clocks import FIRST_CONTACT, REPORT, clock_q
from refloop.referrals.models import (
    Appointment,
    Attachment,
    ContactAttempt,
    Direction,
    Referral,
    ReferralEvent,
)
from refloop.referrals.timeline import touch


def visible_referrals(user) -> QuerySet[Referral]:
    """Every referral `user` may know exists (with or without clinical detail)."""
    if not (can(user, Capability.VIEW_REFERRALS) or can(user, Capability.VIEW_REFERRAL_SUMMARIES)):
        return Referral.objects.none()
    referrals = Referral.objects.all()
    scope = referral_scope(user)
    if scope == ReferralScope.DEPARTMENTS:
        return referrals.filter(department__in=user.departments.all())
    if scope == ReferralScope.PRACTICE:
        if user.partner_practice_id is None:
            return Referral.objects.none()
        return referrals.filter(direction="inbound", referring_practice_id=user.partner_practice_id)
    if scope == ReferralScope.ALL:
        return referrals
    return Referral.objects.none()


def visible_referral(user, referral_id: int, *, locked: bool = False) -> Referral:
    """The referral `referral_id` if `user` may know it exists (row-locked for this
    transaction when `locked`); NotFound otherwise, which never says whether it exists."""
    rows = visible_referrals(user)
    if locked:
        rows = rows.select_for_update(of=("self",))
    referral = rows.filter(pk=referral_id).first()
    if referral is None:
        raise NotFound("No referral with this id is visible to you.")
    return referral


def sees_clinical_detail(user) -> bool:
    """Patient identity, reason, codes, notes, documents: not for liaisons (minimum necessary)."""
    return can(user, Capability.VIEW_REFERRALS)


# The three views of a referral: everything (the practice's staff with clinical access),
# what the referring practice may know (portal users), no patient or clinical data (liaisons).
FULL, REFERRER, SUMMARY = "full", "referrer", "summary"


def referral_access(user) -> str:
    if not can(user, Capability.VIEW_REFERRALS):
        return SUMMARY
    return FULL if can(user, Capability.VIEW_INTERNAL_WORK) else REFERRER


def timeline_for(user) -> QuerySet[ReferralEvent]:
    """Timeline events `user` may read: internal notes only for those who see internal work."""
    events = ReferralEvent.objects.select_related("actor")
    if not can(user, Capability.VIEW_INTERNAL_WORK):
        events = events.exclude(kind="referral.note_added")
    return events


def require_any_referral_access(user) -> None:
    if not (can(user, Capability.VIEW_REFERRALS) or can(user, Capability.VIEW_REFERRAL_SUMMARIES)):
        raise NotAllowed("Your role may not see referrals.")


# What a referral is shown with wherever it is listed or opened, loaded in the same query.
_SHOWN_WITH = ("referring_practice", "referring_provider", "department", "assignee")


def get_referral(user, referral_id: int, *, now=None) -> Referral:
    """One referral with its detail, audited as a read (or as a refused read)."""
    require_any_referral_access(user)
    referral = (
        visible_referrals(user)
        .select_related("patient", *_SHOWN_WITH, "receiving_practice", "receiving_provider")
        .prefetch_related(
            # With who recorded or uploaded each (the API's detail names them): a statement
            # a row otherwise.
            Prefetch(
                "contact_attempts", queryset=ContactAttempt.objects.select_related("recorded_by")
            ),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
            # With what the appointments panel shows (appointments_of).
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related(
                    "department", "location", "clinician"
                ).order_by("starts_at", "pk"),
            ),
            Prefetch("events", queryset=timeline_for(user)),
        )
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        audit.refuse_read(
            "referral",
            referral_id,
            "No referral with this id is visible to you.",
            actor=user,
            referral_id=referral_id,
            now=now,
        )
    action = "referral.read" if sees_clinical_detail(user) else "referral.read_summary"
    audit.record(action, touch(referral), actor=user, now=now)
    referral._read_as = (user.pk, referral.version)  # type: ignore[attr-defined]
    return referral


def is_visible(user, referral: Referral) -> bool:
    """Whether `user` may see `referral`: without a query when it was read through
    get_referral for them and has not changed since (the page's panels each asked again),
    or when the rule reads nothing but the row in hand (every referral, or those of the
    user's own practice: an intake's answer asked for the referral it had just written)."""
    if user is not None and getattr(referral, "_read_as", None) == (user.pk, referral.version):
        return True
    if referral.pk is None:
        return False
    if can(user, Capability.VIEW_REFERRALS) or can(user, Capability.VIEW_REFERRAL_SUMMARIES):
        scope = referral_scope(user)
        if scope == ReferralScope.ALL:
            return True
        if scope == ReferralScope.PRACTICE:
            return (
                user.partner_practice_id is not None
                and referral.direction == Direction.INBOUND
                and referral.referring_practice_id == user.partner_practice_id
            )
    return visible_referrals(user).filter(pk=referral.pk).exists()


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
    fit: str | None = None  # triage's assessment
    received_from: date | None = None  # inclusive, the practice's local date
    received_to: date | None = None  # inclusive, the practice's local date


def local_day_start(day: date, org: Organization) -> datetime:
    return datetime.combine(day, time.min, tzinfo=org.zone)


# Each filter given as it is, and the lookup it narrows by (the dates come after).
_LOOKUPS = (
    ("direction", "direction"),
    ("states", "state__in"),
    ("urgency", "urgency"),
    ("department_id", "department_id"),
    ("source_type", "source_type"),
    ("referring_practice_id", "referring_practice_id"),
    ("channel", "channel"),
    ("assignee_id", "assignee_id"),
    ("fit", "fit"),
)


def filtered(queryset: QuerySet[Referral], filters: ReferralFilters) -> QuerySet[Referral]:
    conditions: dict = {
        lookup: getattr(filters, name) for name, lookup in _LOOKUPS if getattr(filters, name)
    }
    if filters.received_from or filters.received_to:
        org = Organization.current()
        if filters.received_from:
            conditions["received_at__gte"] = local_day_start(filters.received_from, org)
        # The calendar's last day has no day after it: nothing is received later.
        if filters.received_to and filters.received_to < date.max:
            end = local_day_start(filters.received_to + timedelta(days=1), org)
            conditions["received_at__lt"] = end
    return queryset.filter(**conditions)


def list_referrals(
    user, filters: ReferralFilters, *, limit: int = 50, offset: int = 0, now=None
) -> Page:
    """A page of referrals, newest first; each row showing patient data is audited as a read."""
    require_any_referral_access(user)
    queryset = filtered(visible_referrals(user), filters).select_related(
        "patient", *_SHOWN_WITH, "receiving_practice"
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
        audit.refuse_read(
            "attachment",
            attachment_id,
            "No document with this id is visible to you on this referral.",
            actor=user,
            referral_id=referral_id,
            now=now,
        )
    audit.record(
        "attachment.read",
        audit.touch_on_referral("attachment", attachment),
        actor=user,
        now=now,
    )
    return attachment


# ---- the coordinator worklist -------------------------------------------------------

WORKLIST_SCOPES = ("mine", "department", "unassigned", "all")

# Sort keys the worklist accepts, each with the columns it orders by; "patient" only
# for roles that see patient identity. Every order ends on the primary key, so a page
# boundary never shows a row twice or skips one. Patient names are encrypted, so the
# database cannot order by them: "patient" takes the page in received order and sorts
# that page by name (PATIENT_SORT). "due" (DUE_SORT) is what needs action first, and
# its order depends on the time: next_action_order(now) builds it.
PATIENT_SORT = "patient"
DUE_SORT = "due"
WORKLIST_SORTS: dict[str, tuple] = {
    DUE_SORT: (),
    "number": (F("number"),),
    PATIENT_SORT: (F("received_at"),),
    "department": (F("department__name"),),
    "urgency": (F("urgency_rank"),),
    "state": (F("state"),),
    "practice": (F("referring_practice__name"),),
    "assignee": (F("assignee__first_name"), F("assignee__last_name"), F("assignee__username")),
    "received": (F("received_at"),),
    "last_action": (F("last_action_at"),),
}


def next_action_order(now: datetime) -> tuple:
    """What needs action first: the first-contact clock (the coordinator's own) overdue,
    then due soon, then the report clock overdue, then due soon (refloop.referrals.clocks,
    the same rule as the rows' pills), then the most urgent, then the longest waiting. A
    referral waiting on someone else (lifecycle.WAITING_ON_OTHERS) is not pressed forward
    by its clock: there is nothing to do on it now."""
    ours = ~Q(state__in=lifecycle.WAITING_ON_OTHERS)
    pressing = Case(
        When(ours & clock_q(FIRST_CONTACT, "overdue", now=now), then=Value(0)),
        When(ours & clock_q(FIRST_CONTACT, "due_soon", now=now), then=Value(1)),
        When(clock_q(REPORT, "overdue", now=now), then=Value(2)),
        When(clock_q(REPORT, "due_soon", now=now), then=Value(3)),
        default=Value(4),
    )
    return (pressing, F("urgency_rank"), F("received_at"))


UNSHOWN_REFERRAL_TEXT = (
    "reason",
    "missing_info",
    "end_reason_detail",
    "suggested_alternative",
    "report_summary",
)
UNSHOWN_PATIENT_FIELDS = tuple(
    f"patient__{name}"
    for name in ("date_of_birth", "phone", "email", "address", "insurance_member_id")
)
NULLABLE_SORTS = {"department", "practice", "assignee", "last_action"}
COUNT_CEILING = 1000

REFERRAL_NUMBER = re.compile(r"R-[0-9A-Z]{4}-[0-9A-Z]{4}")


def text_matches(text: str, *, patient_names: bool) -> Q | None:
    """Referral number, and (for roles that see patients) the patient's last name, full
    name or birth date, through the patients' blind indexes.

    Names are encrypted, so a name is found only whole and exact once normalized as on
    Patient (accents, case and punctuation folded): "smith", "José Smith", "Smith, Jose",
    optionally with a birth date ("smith 1980-03-02" or "smith 03/02/1980"). No part of
    a name finds anything.
    """
    text = text.strip()
    if not text:
        return None
    if REFERRAL_NUMBER.fullmatch(text.upper()):
        return Q(number=text.upper())  # the unique index answers a whole number at once
    condition = Q(number__icontains=text.upper())
    if patient_names:
        patient = _patient_condition(text)
        if patient is not None:
            condition |= patient
    return condition


def _patient_condition(text: str) -> Q | None:
    words, born = [], None
    for word in text.replace(",", " , ").split():
        day = _birth_date(word)
        if day is not None and born is None:
            born = day
        else:
            words.append(word)
    name = " ".join(words).strip(" ,")
    by_name = None
    if normalized_name("", name).strip():
        by_name = Q(patient__last_name_key=last_name_key(name))
        if "," in name:
            last, first = (part.strip() for part in name.split(",", 1))
            by_name |= Q(patient__name_key=name_key(first, last))
        elif len(words) > 1:
            by_name |= Q(patient__name_key=name_key(words[0], " ".join(words[1:])))
    by_birth = Q(patient__birth_key=birth_key(born)) if born is not None else None
    if by_name is not None and by_birth is not None:
        return by_name & by_birth
    return by_name or by_birth


BIRTH_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


def _birth_date(word: str) -> date | None:
    for fmt in BIRTH_DATE_FORMATS:
        try:
            return datetime.strptime(word, fmt).date()
        except ValueError:
            continue
    return None


def worklist_referrals(
    user,
    filters: ReferralFilters,
    *,
    scope: str = "all",
    text: str = "",
    sort: str = "received",
    limit: int = 50,
    offset: int = 0,
    now=None,
) -> Page:
    """A page of inbound referrals for the worklist, with `last_action_at` on each row.

    `scope`: "mine" (assigned to the user), "department" (the user's departments),
    "unassigned" or "all" (everything the role may see). `sort` is a WORKLIST_SORTS
    key, "-" in front for descending; "due" orders by the clocks at `now`. Rows revealing patient data are audited as
    `referral.listed`, like list_referrals; liaisons get rows without the patient.
    """
    require_any_referral_access(user)
    detail = sees_clinical_detail(user)
    queryset = filtered(visible_referrals(user), filters).filter(direction="inbound")
    if scope == "mine":
        queryset = queryset.filter(assignee=user)
    elif scope == "department":
        queryset = queryset.filter(department__in=user.departments.all())
    elif scope == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    condition = text_matches(text, patient_names=detail)
    if condition is not None:
        queryset = queryset.filter(condition)

    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in WORKLIST_SORTS or (key == PATIENT_SORT and not detail):
        key, descending = "received", False
    by_name = key == PATIENT_SORT
    if by_name:
        descending_names, descending = descending, False
    latest_event = ReferralEvent.objects.filter(referral=OuterRef("pk")).order_by("-at", "-pk")
    ordered = queryset
    if key == "last_action":
        ordered = ordered.annotate(last_action_at=Subquery(latest_event.values("at")[:1]))
    # NULLS LAST only where a column can be null: on received_at or number it would stop
    # SQLite from reading the rows in index order and force a sort of every match.
    order = [
        (e.desc(nulls_last=True) if descending else e.asc(nulls_last=True))
        if key in NULLABLE_SORTS
        else (e.desc() if descending else e.asc())
        for e in (
            next_action_order(now or timezone.now()) if key == DUE_SORT else WORKLIST_SORTS[key]
        )
    ]
    order.append(F("pk").desc() if descending else F("pk").asc())
    # Sort and page over ids alone, then load the page's rows: the sort then carries
    # narrow rows, and the joins and the last-action lookup run for 50 rows, not all.
    ids = list(ordered.order_by(*order).values_list("pk", flat=True)[offset : offset + limit])
    items: list[Referral] = []
    if ids:
        related = list(_SHOWN_WITH)
        # Encrypted columns the rows do not show are left unread: each one read is
        # decrypted, ~10 µs a value, 50 rows × 10 columns per page.
        unshown = [*UNSHOWN_REFERRAL_TEXT, *(UNSHOWN_PATIENT_FIELDS if detail else ())]
        by_id = (
            Referral.objects.select_related(*(["patient", *related] if detail else related))
            .defer(*unshown)
            .in_bulk(ids)
        )
        last_action = dict(
            ReferralEvent.objects.filter(referral_id__in=ids)
            .values("referral_id")
            .annotate(last=Max("at"))
            .values_list("referral_id", "last")
        )
        items = [by_id[pk] for pk in ids]
        for referral in items:
            # The same attribute the annotated path above puts on each row.
            referral.last_action_at = last_action.get(referral.pk)  # type: ignore[attr-defined]
        if by_name:
            items.sort(
                key=lambda r: (r.patient.last_name.casefold(), r.patient.first_name.casefold()),
                reverse=descending_names,
            )
    # Counting stops a little past the page shown: "more than 1,000" is as useful to a
    # coordinator as 23,517 and does not cost a scan of every open referral.
    ceiling = max(COUNT_CEILING, offset + limit) + 1
    counted = queryset.order_by()[:ceiling].count()
    exact = counted < ceiling
    page = Page(
        items=items,
        total=counted if exact else ceiling - 1,
        limit=limit,
        offset=offset,
        exact=exact,
    )
    if page.items and detail:
        audit.record_many("referral.listed", [touch(r) for r in page.items], actor=user, now=now)
    return page


@dataclass(frozen=True)
class PatientMatch:
    patient: Patient
    open_referrals: int
    same_name: bool  # False: same last name and date of birth only (a nickname, a typo)


def find_patient_matches(
    user, *, first_name: str, last_name: str, date_of_birth: date, limit: int = 10, now=None
) -> list[PatientMatch]:
    """Patients already on record with this date of birth and the same normalized name
    (or the same last name), among those on referrals `user` may see; each one shown is
    audited as a patient read."""
    require(user, Capability.VIEW_REFERRALS)
    if not normalized_name("", last_name).strip() or date_of_birth is None:
        return []
    key = name_key(first_name, last_name)
    open_referrals = Q(referrals__direction=Direction.INBOUND) & Q(
        referrals__state__in=lifecycle.open_states(Direction.INBOUND)
    ) | Q(referrals__direction=Direction.OUTBOUND) & Q(
        referrals__state__in=lifecycle.open_states(Direction.OUTBOUND)
    )
    candidates = (
        Patient.objects.filter(
            birth_key=birth_key(date_of_birth), last_name_key=last_name_key(last_name)
        )
        .filter(pk__in=visible_referrals(user).values("patient_id"))
        .annotate(open_count=Count("referrals", filter=open_referrals, distinct=True))
        .order_by("-created_at", "-pk")
    )
    matches = [
        PatientMatch(patient, patient.open_count, patient.name_key == key)
        for patient in candidates[: limit * 3]
    ]
    matches.sort(key=lambda m: not m.same_name)
    matches = matches[:limit]
    if matches:
        audit.record_many(
            "patient.read",
            [audit.Touch("patient", m.patient.pk, patient_id=m.patient.pk) for m in matches],
            actor=user,
            detail={"via": "duplicate_check"},
            now=now,
        )
    return matches


# ---- the referral detail page (workspace) --------------------------------------


def assignable_staff() -> QuerySet:
    """Active staff a referral may be assigned to (services.assign_referral accepts them)."""
    return User.objects.filter(is_active=True, role__in=ASSIGNABLE_ROLES).order_by(
        "first_name", "last_name", "username"
    )


def appointments_of(referral: Referral) -> list:
    """A visible referral's appointments with their department, location and clinician."""
    if "appointments" in getattr(referral, "_prefetched_objects_cache", {}):
        return list(referral.appointments.all())  # read with them by get_referral
    return list(
        referral.appointments.select_related("department", "location", "clinician").order_by(
            "starts_at", "pk"
        )
    )


def reveal_patient(user, referral: Referral, *, purpose: str = "show", now=None) -> Patient:
    """The patient of a referral already read through get_referral, audited as patient.read."""
    require(user, Capability.VIEW_REFERRALS)
    audit.record(
        "patient.read",
        audit.Touch(
            "patient", referral.patient_id, patient_id=referral.patient_id, referral_id=referral.pk
        ),
        actor=user,
        detail={"purpose": purpose},
        now=now,
    )
    return referral.patient


# ---- who answers for a referral (notices, alerts, escalations) -----------------


def answerable_staff(referral: Referral) -> list[User]:
    """Who answers for a referral: the assignee, else the department's point of contact, else
    the admins. Every staff notice and alert about one referral goes to them."""
    assignee = referral.assignee
    if assignee is not None and assignee.is_active:
        return [assignee]
    return point_of_contact(referral)


def point_of_contact(referral: Referral) -> list[User]:
    """Who an escalation goes to: the department's point of contact, else the admins."""
    department = referral.department
    contact = department.point_of_contact if department is not None else None
    if contact is not None and contact.is_active:
        return [contact]
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk"))
