"""What follows a case's events and a patient's answers (named in `advocacy.reactions`):
a case for a low score or a complaining comment, and the staff notices when a case's clock
runs out. Each handler is idempotent: run twice, it does its work once.
"""

from datetime import timedelta

from django.db import transaction

from refloop.advocacy import case_clocks, cases
from refloop.advocacy.complaints import guess_category, reads_as_complaint
from refloop.advocacy.models import (
    AdvocacyEvent,
    AdvocacySettings,
    Audience,
    Case,
    CaseCategory,
    CaseSource,
    Response,
)
from refloop.core.models import User
from refloop.core.roles import Role
from refloop.messaging import outbox
from refloop.messaging.recipients import staff_user
from refloop.messaging.rules import RULES

_NO_COMMENT = "The patient gave a likelihood-to-recommend of {score} out of 10 and no comment."


def case_for_answer(event: AdvocacyEvent) -> None:
    """`survey.answered` by a patient: mark a complaining comment, and open one case when the
    score is low (at or below the setting) or the comment reads as a complaint. Nothing here
    touches the review invitation: every respondent gets the same offer."""
    survey = event.survey
    if survey is None or survey.audience != Audience.PATIENT:
        return
    response = Response.objects.filter(survey=survey).first()
    if response is None:
        return
    complaint = reads_as_complaint(response.comment)
    if complaint != response.complaint:
        response.complaint = complaint
        response.save(update_fields=["complaint"])
    low = (
        response.recommend is not None
        and response.recommend <= AdvocacySettings.current().low_score
    )
    if not (low or complaint):
        return
    with transaction.atomic():
        # One case per response, whatever runs twice (the lock serialises two workers).
        Response.objects.select_for_update().get(pk=response.pk)
        if Case.objects.filter(response=response).exists():
            return
        comment = response.comment.strip()
        cases.open_case(
            acting_user=None,
            source=CaseSource.LOW_SCORE if low else CaseSource.COMMENT,
            category=guess_category(comment) if comment else CaseCategory.OTHER,
            summary=comment or _NO_COMMENT.format(score=response.recommend),
            now=event.at,
            referral=survey.referral,
            patient=survey.patient,
            response=response,
            department=survey.department,
        )


def _escalation_people(case: Case) -> list[User]:
    """The owner and the department's point of contact (the admins when there is none)."""
    people: list[User] = []
    if case.owner is not None and case.owner.is_active:
        people.append(case.owner)
    contact = case.department.point_of_contact if case.department is not None else None
    if contact is not None and contact.is_active:
        others = [contact]
    else:
        others = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk"))
    return people + [u for u in others if u.pk not in {p.pk for p in people}]


def notify_overdue(event: AdvocacyEvent) -> None:
    """`case.acknowledge_overdue` / `case.resolve_overdue`: an in-app notice to each person
    who answers for the case, once per event (the outbox dedupes on the event)."""
    case = event.case
    if case is None:
        return
    clock = event.kind.removeprefix("case.").removesuffix("_overdue")
    due = case.acknowledge_by if clock == case_clocks.ACKNOWLEDGE else case.resolve_by
    rule = RULES[f"staff.case_{clock}_overdue"]
    values = {
        "case.number": case.number,
        "case.category": CaseCategory(case.category).label,
        "case.late": case_clocks.span(max(event.at - due, timedelta(0))),
        "department.name": case.department.name if case.department else "",
    }
    for user in _escalation_people(case):
        outbox.queue(
            rule=rule,
            recipient=staff_user(user),
            cause=f"advocacy_event:{event.pk}",
            values=values,
            due_at=event.at,
            now=event.at,
            referral=case.referral,
        )
