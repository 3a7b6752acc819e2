"""Surveys: making one (once per cause) and taking its answers (once).

Who gets a survey and when (after a visit, a closed loop, each quarter) is decided by the
modules that send them; everything they make goes through `create_survey`, and every answer,
a patient's or a referring office's, through `submit_response`, which records the
`survey.answered` event the reactions (a case for a low score, a task for the liaison) follow.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from refloop.advocacy.events import record_event
from refloop.advocacy.models import (
    AdvocacySettings,
    Audience,
    Question,
    Response,
    Survey,
    new_code,
)
from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput

# A survey link stays usable this long: long enough for a patient back from a trip, short
# enough that an old message forwarded on is dead.
SURVEY_DAYS = 30
COMMENT_MAX = 4000


def questions_for(audience: str) -> list[Question]:
    """The questions a survey for `audience` asks now, in order."""
    return list(Question.objects.filter(audience=audience, active=True).order_by("position", "pk"))


def recently_surveyed(patient_id: int, *, now: datetime) -> bool:
    """Whether the patient got a survey within the practice's interval (90 days by default)."""
    days = AdvocacySettings.current().survey_interval_days
    return Survey.objects.filter(
        audience=Audience.PATIENT,
        patient_id=patient_id,
        created_at__gt=now - timedelta(days=days),
    ).exists()


def create_survey(
    *, audience: str, trigger: str, recipient: str, dedupe_key: str, now: datetime, **about
) -> tuple[Survey, bool]:
    """The survey for `dedupe_key`, made now unless it exists; (survey, created). `about`
    holds its links and dimensions (patient=, referral=, appointment=, referring_practice=,
    department=, location=, clinician=, source_type=, sent_by=)."""
    existing = Survey.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    survey = Survey(
        audience=audience,
        trigger=trigger,
        code=new_code("s"),
        recipient=recipient,
        dedupe_key=dedupe_key,
        created_at=now,
        expires_at=now + timedelta(days=SURVEY_DAYS),
        **about,
    )
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError:  # made meanwhile by another worker for the same cause
        return Survey.objects.get(dedupe_key=dedupe_key), False
    audit.record("survey.created", survey.audit_touch(), actor=about.get("sent_by"), now=now)
    return survey, True


def survey_by_code(code: str) -> Survey | None:
    return (
        Survey.objects.select_related("referral", "location", "department")
        .filter(code=code)
        .first()
    )


def _checked_answers(survey: Survey, answers: dict[str, int]) -> dict[str, int]:
    known = {q.key for q in questions_for(survey.audience)}
    checked = {}
    for key, value in answers.items():
        if key not in known:
            raise InvalidInput("That question is not on this survey.", field=key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise InvalidInput("Choose an answer from 1 to 5.", field=key)
        checked[key] = value
    return checked


def submit_response(
    *,
    survey: Survey,
    recommend: int | None,
    answers: dict[str, int],
    comment: str,
    now: datetime,
) -> Response:
    """Take `survey`'s answers, once: a second submission (a double click, a second tab) is
    refused and changes nothing. Every question may be skipped."""
    if survey.audience == Audience.OFFICE and recommend is not None:
        raise InvalidInput("A referring office's survey has no 0-10 question.", field="recommend")
    if recommend is not None and (
        not isinstance(recommend, int) or isinstance(recommend, bool) or not 0 <= recommend <= 10
    ):
        raise InvalidInput("Choose a number from 0 to 10.", field="recommend")
    checked = _checked_answers(survey, answers)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            f"Please keep the comment under {COMMENT_MAX} characters.", field="comment"
        )
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.answered_at is not None:
            raise Conflict("This survey was already answered. Thank you!")
        if locked.expires_at <= now:
            raise Conflict("This survey has closed.")
        response = Response.objects.create(
            survey=locked,
            recommend=recommend,
            answers=checked,
            comment=comment,
            submitted_at=now,
        )
        locked.answered_at = now
        locked.save(update_fields=["answered_at"])
        record_event(
            "survey.answered",
            actor=None,
            at=now,
            survey=locked,
            data={"audience": locked.audience, "recommend": recommend},
        )
        audit.record("survey.answered", locked.audit_touch(), actor=None, now=now)
    survey.answered_at = now
    return response
