"""Triage and routing: every new referral, whatever its channel, is checked against its
department's intake criteria, given a department and an owner, and compared with recent
referrals for the same patient from the same source.

`assess` is a pure reading of a referral against a department; `triage_new_referral`
stores the result (inside the creating transaction) and `refresh_assessment` re-reads it
when documents arrive or the department changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection

from refloop.core.models import User
from refloop.core.roles import Role
from refloop.practice.models import Department, Organization
from refloop.practice.selectors import suggest_department
from refloop.referrals.models import Direction, Fit, Referral, kind_label

DUPLICATE_WINDOW = timedelta(days=30)


@dataclass
class Assessment:
    fit: str
    reasons: list[str] = field(default_factory=list)
    missing_documents: list[str] = field(default_factory=list)


def practice_day(moment: datetime) -> date:
    """The practice's calendar day at `moment`: a patient's age turns over at local midnight,
    not at midnight UTC (the evening before, in the Americas)."""
    return moment.astimezone(Organization.current().zone).date()


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def assess(
    referral: Referral,
    department: Department | None,
    on: date,
    attached: Iterable[str] | None = None,
) -> Assessment:
    """How `referral` fits `department`'s intake criteria, with a sentence per finding.

    `not_fit` when something the department excludes is present (a condition, a word in
    the reason, the insurance, the age); `needs_review` when nothing confirms the fit or a
    required document is missing; `fit` when a condition or keyword it accepts is present
    and nothing speaks against it. `attached` are the kinds of the documents on the
    referral (read from the database when not given).
    """
    if department is None:
        return Assessment(Fit.NEEDS_REVIEW, ["No department matched: choose one."])
    name = department.name
    against: list[str] = []
    unsure: list[str] = []
    support: list[str] = []

    for code in referral.icd10_codes:
        excluded = department.excludes_condition(code)
        if excluded:
            against.append(f"{code} is a condition {name} does not take ({excluded}).")
        elif department.accepts_condition(code):
            support.append(f"{code} is a condition {name} accepts.")
        elif department.accepted_conditions:
            unsure.append(f"{code} is not among the conditions {name} lists.")

    reason = (referral.reason or "").lower()
    for word in department.excluded_keywords:
        if word.strip() and word.lower() in reason:
            against.append(f"“{word}” in the reason is something {name} does not take.")
    for word in department.accepted_keywords:
        if word.strip() and word.lower() in reason:
            support.append(f"“{word}” in the reason matches {name}.")
            break

    patient = referral.patient
    accepted = [payer.lower() for payer in department.accepted_insurances]
    if accepted:
        payer = (patient.insurance_payer or "").strip()
        if not payer:
            unsure.append(f"No insurance given; {name} accepts only some payers.")
        elif payer.lower() not in accepted:
            against.append(f"{name} does not accept the insurance “{payer}”.")

    if department.min_age is not None or department.max_age is not None:
        age = _age(patient.date_of_birth, on)
        low = department.min_age if department.min_age is not None else 0
        if age < low or (department.max_age is not None and age > department.max_age):
            span = f"{low}–{department.max_age}" if department.max_age is not None else f"{low}+"
            against.append(f"The patient is {age}; {name} sees ages {span}.")

    present = set(
        referral.attachments.values_list("kind", flat=True) if attached is None else attached
    )
    missing = [kind for kind in department.required_documents if kind not in present]
    if missing:
        unsure.append(
            f"{name} needs {', '.join(kind_label(k).lower() for k in missing)}, not yet attached."
        )

    if (
        not support
        and not against
        and (department.accepted_conditions or department.accepted_keywords)
    ):
        unsure.append(f"No code or word in the reason confirms a fit for {name}.")

    if against:
        verdict = Fit.NOT_FIT
    elif unsure:
        verdict = Fit.NEEDS_REVIEW
    else:
        verdict = Fit.FIT
    return Assessment(verdict, [*against, *unsure, *support], missing)


def next_assignee(department_id: int) -> User | None:
    """Round-robin among the department's active coordinators, else its point of contact.

    Only the round-robin takes the department's row lock, so two referrals arriving at
    once go to two coordinators rather than both to the same one; a department without
    coordinators is neither locked nor written.
    """
    coordinators = list(
        User.objects.filter(
            departments=department_id, role=Role.COORDINATOR, is_active=True
        ).order_by("pk")
    )
    if not coordinators:
        department = Department.objects.select_related("point_of_contact").get(pk=department_id)
        contact = department.point_of_contact
        return contact if contact is not None and contact.is_active else None
    # The pointer moves in one statement, which takes the row lock as SELECT … FOR UPDATE
    # did: the coordinator after the last one routed to (by id), or the first.
    table = Department._meta.db_table
    column = Department._meta.get_field("last_routed_to").column
    ids = [user.pk for user in coordinators]
    cases = " ".join(f"WHEN {column} < %s THEN %s" for _ in ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE WHEN {column} IS NULL THEN %s {cases} "  # noqa: S608 (our names; values are parameters)
            f"ELSE %s END WHERE {Department._meta.pk.column} = %s RETURNING {column}",
            [ids[0], *[value for pk in ids for value in (pk, pk)], ids[0], department_id],
        )
        (chosen_id,) = cursor.fetchone()
    return next(user for user in coordinators if user.pk == chosen_id)


def possible_duplicate(referral: Referral) -> Referral | None:
    """The latest earlier inbound referral for the same patient (normalized name and date
    of birth) from the same referring practice (or both without one) within 30 days."""
    patient = referral.patient
    # Only the patient's identity goes to the database, so it is read through the identity
    # index whatever the planner knows: given the practice and the dates too, SQLite walked
    # every referral the practice sent in those two months. A patient has few referrals,
    # so the rule's few columns come back and the whole row only for a match: building every
    # earlier referral of the patient was most of an intake's duplicate check.
    earliest = referral.received_at - DUPLICATE_WINDOW
    latest = referral.received_at + DUPLICATE_WINDOW
    matches = [
        (received_at, pk)
        for pk, direction, merged_into_id, practice_id, received_at in Referral.objects.filter(
            patient__name_key=patient.name_key, patient__birth_key=patient.birth_key
        ).values_list("pk", "direction", "merged_into_id", "referring_practice_id", "received_at")
        if pk != referral.pk
        and direction == Direction.INBOUND
        and merged_into_id is None
        and practice_id == referral.referring_practice_id
        and earliest <= received_at <= latest
    ]
    if not matches:
        return None
    return Referral.objects.get(pk=max(matches)[1])


def triage_new_referral(
    referral: Referral, *, now: datetime
) -> tuple[dict, Assessment, Referral | None]:
    """Route, assess and flag an inbound referral about to be created (not yet saved: the
    caller writes it with what this sets).

    Returns what routing decided (department and why, assignee), the assessment and the
    possible duplicate.

    Runs inside the creating transaction. The department is kept if the creator chose
    one, else suggested from codes and reason; the assignee likewise, else round-robin.
    """
    routing = {}
    if referral.department_id is None:
        department, why = suggest_department(
            reason=referral.reason, icd10_codes=referral.icd10_codes
        )
        if department is not None:
            referral.department = department
            routing["department"] = department.code
            routing["department_reason"] = why
    # Nothing can be attached to a referral still being created.
    result = assess(referral, referral.department, practice_day(now), attached=())
    _store(referral, result)
    duplicate = possible_duplicate(referral)
    if duplicate is not None:
        referral.possible_duplicate_of = duplicate
    # Last: the round-robin holds the department's row until commit (on PostgreSQL, where
    # intakes for one department queue on it), so as little as possible comes after it.
    if referral.assignee_id is None and referral.department_id is not None:
        assignee = next_assignee(referral.department_id)
        if assignee is not None:
            referral.assignee = assignee
            routing["assignee"] = assignee.get_username()
    return routing, result, duplicate


def refresh_assessment(referral: Referral, *, on: date) -> bool:
    """Re-read the fit after documents arrive or the department changes; True if it changed."""
    result = assess(referral, referral.department, on)
    if (result.fit, result.reasons, result.missing_documents) == (
        referral.fit,
        referral.fit_reasons,
        referral.missing_documents,
    ):
        return False
    _store(referral, result)
    return True


def _store(referral: Referral, result: Assessment) -> None:
    referral.fit, referral.fit_reasons = result.fit, result.reasons
    referral.missing_documents = result.missing_documents
