"""Referring-office feedback: who at a referring practice is asked the three office questions,
and when.

Two causes, one rule: after a sample of closed loops (the referring provider and the
practice's staff contacts), and in the first week of each quarter (every practice that
referred in the last year: its providers who referred and its staff contacts). Either way a
contact is asked at most once a quarter: the survey's dedupe key names the contact and the
quarter, whichever cause came first. The message is about the office's experience of
referring to us, so it carries no patient data at all.
"""

import hashlib
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from refloop.advocacy.models import AdvocacySettings, Audience, Survey, Trigger
from refloop.advocacy.surveys import create_survey
from refloop.core.links import absolute_url
from refloop.messaging import outbox
from refloop.messaging.recipients import Recipient, practice_recipient, referrer_of, staff_contact
from refloop.messaging.rules import rule
from refloop.network.models import Practice, Provider, StaffContact
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, Referral, ReferralEvent

OFFICE_RULE = "referrer.office_survey"
# The quarterly survey goes out in the first week of a quarter only: one arriving mid-quarter
# would read as a reaction to something rather than the regular question it is.
QUARTER_DAYS = 7
ACTIVE_DAYS = 365


# ---- quarters and sampling ------------------------------------------------------------


def local_day(now: datetime) -> date:
    return now.astimezone(Organization.current().zone).date()


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_key(day: date) -> str:
    """'2026Q4' for any day of October to December 2026."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def dedupe_key(recipient_key: str, day: date) -> str:
    return f"office:{recipient_key}:{quarter_key(day)}"


def sampled(referral_id: int, percent: int) -> bool:
    """Whether the closed loop of `referral_id` is in the sample: the same answer on every run
    and every worker (a hash of the referral, not a random draw); 0 takes none, 100 all."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"office-survey:{referral_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


# ---- one contact --------------------------------------------------------------------------


def _values(recipient: Recipient, practice: Practice, survey: Survey) -> dict[str, str]:
    org = Organization.current()
    return {
        "practice.name": org.name,
        "practice.phone": org.phone or "our office",
        "referrer.name": recipient.name or recipient.label,
        "referrer.practice": practice.name,
        "link.survey": absolute_url(f"/s/{survey.code}/"),
    }


def survey_contact(
    recipient: Recipient,
    practice: Practice,
    *,
    trigger: str,
    now: datetime,
    referral: Referral | None = None,
) -> Survey | None:
    """Ask one contact of `practice` the office questions, unless they were asked this quarter
    already (then None). The survey and its message are made together or not at all."""
    about: dict = {"referring_practice": practice}
    if referral is not None:
        about |= {
            "referral": referral,
            "department_id": referral.department_id,
            "source_type": referral.source_type,
        }
    with transaction.atomic():
        survey, created = create_survey(
            audience=Audience.OFFICE,
            trigger=trigger,
            recipient=recipient.key,
            dedupe_key=dedupe_key(recipient.key, local_day(now)),
            now=now,
            **about,
        )
        if not created:
            return None
        survey.message = outbox.queue(
            rule=rule(OFFICE_RULE),
            recipient=recipient,
            cause=f"office_survey:{survey.pk}",
            values=_values(recipient, practice, survey),
            due_at=now,
            now=now,
        )
        survey.save(update_fields=["message"])
    return survey


def _staff_of(practice: Practice) -> list[Recipient]:
    return [staff_contact(c) for c in StaffContact.objects.filter(practice=practice).order_by("pk")]


# ---- after a closed loop ------------------------------------------------------------------


def on_loop_closed(event: ReferralEvent) -> None:
    """Listed in referrals.reactions under `referral.loop_closed`."""
    survey_after_loop(event.referral, now=event.at)


def survey_after_loop(referral: Referral, *, now: datetime) -> list[Survey]:
    """The office surveys a closed loop sends, if the practice asks after closed loops and this
    referral is in the sample: to the referring provider and each staff contact of the
    referring practice (the practice's own address when it has neither)."""
    settings = AdvocacySettings.current()
    if not settings.office_survey_after_loop or referral.direction != Direction.INBOUND:
        return []
    if not sampled(referral.pk, settings.office_survey_sample_percent):
        return []
    practice = referral.referring_practice or (
        referral.referring_provider.practice if referral.referring_provider else None
    )
    if practice is None:
        return []  # a self-referral: no office to ask
    recipients = []
    if referral.referring_provider_id is not None:
        provider_recipient = referrer_of(referral)
        assert provider_recipient is not None  # the referral names its provider
        recipients.append(provider_recipient)
    recipients += _staff_of(practice)
    if not recipients:
        recipients = [practice_recipient(practice)]
    made = []
    for recipient in recipients:
        survey = survey_contact(
            recipient, practice, trigger=Trigger.LOOP_CLOSED, now=now, referral=referral
        )
        if survey is not None:
            made.append(survey)
    return made


# ---- each quarter -------------------------------------------------------------------------


def _provider_recipient(provider: Provider, practice: Practice) -> Recipient | None:
    """A provider reached as a referral naming them reaches them (messaging.recipients)."""
    return referrer_of(Referral(referring_provider=provider, referring_practice=practice))


def active_practices(*, now: datetime) -> dict[int, set[int]]:
    """{practice id: ids of its providers who referred} for every practice that sent us an
    inbound referral in the last year."""
    found: dict[int, set[int]] = {}
    rows = (
        Referral.objects.filter(
            direction=Direction.INBOUND,
            merged_into__isnull=True,
            received_at__gte=now - timedelta(days=ACTIVE_DAYS),
            received_at__lte=now,
        )
        .filter(Q(referring_practice__isnull=False) | Q(referring_provider__practice__isnull=False))
        .values_list(
            "referring_practice_id", "referring_provider_id", "referring_provider__practice_id"
        )
        .distinct()
    )
    for practice_id, provider_id, provider_practice_id in rows:
        pk = practice_id or provider_practice_id
        providers = found.setdefault(pk, set())
        if provider_id is not None and provider_practice_id in (None, pk):
            providers.add(provider_id)
    return found


def quarterly_sweep(*, now: datetime) -> int:
    """In the first week of each quarter: each practice that referred in the last year asks
    its providers who referred and its staff contacts, each once a quarter (a contact asked
    after a closed loop this quarter is not asked again). Any other day: nothing. Returns the
    surveys made."""
    if not AdvocacySettings.current().office_survey_quarterly:
        return 0
    today = local_day(now)
    if (today - quarter_start(today)).days >= QUARTER_DAYS:
        return 0
    made = 0
    active = active_practices(now=now)
    for practice in Practice.objects.filter(pk__in=list(active)).order_by("pk"):
        recipients = [
            r
            for provider in Provider.objects.filter(pk__in=active[practice.pk]).order_by("pk")
            if (r := _provider_recipient(provider, practice)) is not None
        ]
        recipients += _staff_of(practice)
        if not recipients:
            recipients = [practice_recipient(practice)]
        for recipient in recipients:
            made += (
                survey_contact(recipient, practice, trigger=Trigger.QUARTERLY, now=now) is not None
            )
    return made
