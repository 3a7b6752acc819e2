"""Writes behind the feedback settings: when surveys go out, the patient questions, and the
review sites per location. Each checks MANAGE_SETTINGS, writes in one transaction and records
the change in the audit log. (The refer-a-friend rewards settings are written elsewhere.)

There is no setting that ties the review invitation to a score, and none may be added here:
see `refloop.advocacy.reviews`.
"""

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from refloop.advocacy.models import AdvocacySettings, Audience, Question, ReviewSite
from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, require
from refloop.practice.models import Department, Location

# The survey settings this page owns, with the range each number must fall in.
SURVEY_FIELDS: dict[str, tuple[int, int] | None] = {
    "survey_after_seen": None,
    "survey_after_visits": None,
    "survey_interval_days": (1, 365),
    "low_score": (0, 10),
    "office_survey_after_loop": None,
    "office_survey_sample_percent": (0, 100),
    "office_survey_quarterly": None,
    "office_low_score": (1, 5),
}


def _record(action: str, touch: audit.Touch, actor, detail: dict, now: datetime) -> None:
    audit.record(action, touch, actor=actor, detail=detail, now=now)


def update_survey_settings(
    *, acting_user, values: Mapping, departments: list[Department], now: datetime
) -> list[str]:
    """Save the survey settings; returns the names of what changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    for field, bounds in SURVEY_FIELDS.items():
        value = values[field]
        if bounds is None:
            if not isinstance(value, bool):
                raise InvalidInput("Choose yes or no.", field=field)
        elif not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
            raise InvalidInput(f"Enter a number from {bounds[0]} to {bounds[1]}.", field=field)
    with transaction.atomic():
        AdvocacySettings.current()
        found = AdvocacySettings.objects.select_for_update().get(pk=1)
        changed: dict[str, list] = {}
        for field in SURVEY_FIELDS:
            old, new = getattr(found, field), values[field]
            if old != new:
                changed[field] = [old, new]
                setattr(found, field, new)
        if changed:
            found.save(update_fields=[*changed, "updated_at"])
        old_ids = sorted(found.survey_visit_departments.values_list("pk", flat=True))
        new_ids = sorted(d.pk for d in departments)
        if old_ids != new_ids:
            found.survey_visit_departments.set(departments)
            changed["survey_visit_departments"] = [old_ids, new_ids]
        if changed:
            _record(
                "settings.advocacy_changed",
                audit.Touch("advocacysettings", found.pk),
                acting_user,
                changed,
                now,
            )
    return list(changed)


def _text(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput("Write the question.", field="text")
    if len(text) > 200:
        raise InvalidInput("Keep the question to 200 characters.", field="text")
    return text


def _patient_question(question: Question) -> Question:
    if question.audience != Audience.PATIENT:
        raise InvalidInput("The referring-office questions are fixed, so their scores compare.")
    return question


def add_question(*, acting_user, text: str, now: datetime) -> Question:
    """A new patient question (1 to 5), asked last."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    text = _text(text)
    with transaction.atomic():
        patient = Question.objects.select_for_update().filter(audience=Audience.PATIENT)
        last = patient.aggregate(last=Max("position"))["last"]
        base = slugify(text)[:30] or "question"
        key, n = base, 2
        while Question.objects.filter(audience=Audience.PATIENT, key=key).exists():
            key, n = f"{base[:27]}-{n}", n + 1
        question = Question.objects.create(
            audience=Audience.PATIENT, key=key, text=text, position=(last or 0) + 1
        )
        _record(
            "settings.advocacy_question_added",
            audit.Touch("question", question.pk),
            acting_user,
            {"text": text},
            now,
        )
    return question


def change_question(
    *, acting_user, question: Question, text: str, active: bool, now: datetime
) -> list[str]:
    """Reword a patient question or switch it off; past answers keep their key."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    with transaction.atomic():
        question = _patient_question(Question.objects.select_for_update().get(pk=question.pk))
        text = _text(text)
        changed: dict[str, list] = {}
        if question.text != text:
            changed["text"] = [question.text, text]
            question.text = text
        if question.active != active:
            changed["active"] = [question.active, active]
            question.active = active
        if changed:
            question.save(update_fields=list(changed))
            _record(
                "settings.advocacy_question_changed",
                audit.Touch("question", question.pk),
                acting_user,
                changed,
                now,
            )
    return list(changed)


def move_question(*, acting_user, question: Question, up: bool, now: datetime) -> bool:
    """Swap a patient question with the one before (up) or after it; False at an end."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    _patient_question(question)
    with transaction.atomic():
        ordered = list(
            Question.objects.select_for_update()
            .filter(audience=Audience.PATIENT)
            .order_by("position", "pk")
        )
        index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(ordered):
            return False
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, each in enumerate(ordered):
            if each.position != position:
                each.position = position
                each.save(update_fields=["position"])
        _record(
            "settings.advocacy_question_moved",
            audit.Touch("question", question.pk),
            acting_user,
            {"up": up},
            now,
        )
    return True


def _site_values(name: str, url: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Name the review site (Google, Healthgrades, ...).", field="name")
    if len(name) > 60:
        raise InvalidInput("Keep the site's name to 60 characters.", field="name")
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or len(url) > 500:
        raise InvalidInput("Give the review page's full address, starting https://.", field="url")
    return name, url


def add_site(
    *, acting_user, name: str, url: str, location: Location | None, now: datetime
) -> ReviewSite:
    require(acting_user, Capability.MANAGE_SETTINGS)
    name, url = _site_values(name, url)
    with transaction.atomic():
        last = ReviewSite.objects.aggregate(last=Max("position"))["last"]
        site = ReviewSite.objects.create(
            name=name, url=url, location=location, position=(last or 0) + 1
        )
        _record(
            "settings.review_site_added",
            audit.Touch("reviewsite", site.pk),
            acting_user,
            {"name": name, "url": url, "location": location.pk if location else None},
            now,
        )
    return site


def change_site(
    *, acting_user, site: ReviewSite, name: str, url: str, active: bool, now: datetime
) -> list[str]:
    require(acting_user, Capability.MANAGE_SETTINGS)
    name, url = _site_values(name, url)
    with transaction.atomic():
        site = ReviewSite.objects.select_for_update().get(pk=site.pk)
        changed: dict[str, list] = {}
        for field, new in (("name", name), ("url", url), ("active", active)):
            if getattr(site, field) != new:
                changed[field] = [getattr(site, field), new]
                setattr(site, field, new)
        if changed:
            site.save(update_fields=list(changed))
            _record(
                "settings.review_site_changed",
                audit.Touch("reviewsite", site.pk),
                acting_user,
                changed,
                now,
            )
    return list(changed)
