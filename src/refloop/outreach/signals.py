"""Tasks the referral side raises for the liaison: one task per occurrence of each signal.

- **Declining referrer** (analytics.referrers' flag) -> "Visit: referrals from X went from a to b";
- **first referral** of a practice or a provider (a reaction to `referral.received`) ->
  "Thank-you note to ...";
- **declined as not a fit** 3 of its last 5 inbound referrals -> "Share what we treat with X",
  with the department's intake criteria and the one-pager (a reaction to `referral.declined`,
  and the sweep);
- **service problem**: 2 or more of a practice's referrals in the last 30 days late on a
  clock (first contact, or the report after the visit: referrals.clocks) -> "Service problem
  at our end for X";
- **overdue visit**: a tier A practice past its cadence (outreach.tiers) -> "Overdue visit";
- **low office rating**: a referring office answers its survey (advocacy.office) with a low
  score -> "Call X: they rated us low" (a reaction to `survey.answered`); with no liaison to
  give it to, the department's point of contact (else the admins) hears of it too.

Each task carries a `signal_key` naming its occurrence; the key is unique, so a signal seen
again (the next sweep, a second worker, a reaction run twice) finds its task there and
raises none. The task goes to the liaison of the practice's territory, else to nobody (the
"unassigned" list). `sweep(now=...)` runs every sweep-type signal; the worker runs it
periodically (outreach.tasks.signals_sweep).
"""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from refloop.advocacy.models import AdvocacyEvent, AdvocacySettings, Audience, Response, Survey
from refloop.advocacy.surveys import questions_for
from refloop.analytics import referrers
from refloop.core.models import User
from refloop.core.roles import Role
from refloop.messaging import outbox
from refloop.messaging.recipients import staff_user
from refloop.messaging.rules import rule
from refloop.network.models import Practice, Provider
from refloop.outreach import tiers
from refloop.outreach.models import Relationship, Task, TaskKind, Tier
from refloop.practice.models import Organization
from refloop.public.selectors import DepartmentGuide, referral_guide
from refloop.referrals import clocks
from refloop.referrals.models import DeclineReason, Direction, Referral, ReferralEvent, State
from refloop.referrals.selectors import point_of_contact

# Declines that say the referral was not a fit for what we treat (not insurance, capacity,
# missing information or a duplicate: those are not the referrer's to learn from).
NOT_A_FIT_REASONS = (DeclineReason.NOT_CLINICALLY_INDICATED, DeclineReason.OUTSIDE_SCOPE)
NOT_A_FIT_OF = 5  # of a practice's last 5 inbound referrals...
NOT_A_FIT_MIN = 3  # ...3 declined as not a fit
SERVICE_DAYS = 30
SERVICE_MIN_LATE = 2  # referrals late on a clock within SERVICE_DAYS
# How long one occurrence of a standing condition lasts: a practice still flagged declining
# after the whole recent window (90 days) has new figures, and gets a new task; a service
# problem still there after 30 days likewise.
DECLINING_DAYS = referrers.RECENT_DAYS
# A not-a-fit run whose newest decline is older than this is history, not news.
NOT_A_FIT_RECENT_DAYS = 90

DUE_IN_DAYS: dict[str, int] = {
    TaskKind.DECLINING: 7,
    TaskKind.FIRST_REFERRAL: 3,
    TaskKind.NOT_A_FIT: 14,
    TaskKind.SERVICE_PROBLEM: 7,
    TaskKind.OVERDUE_VISIT: 0,
    TaskKind.OFFICE_FEEDBACK: 3,
}


def liaisons_by_practice(practice_ids) -> dict[int, int | None]:
    """{practice id: the user id of its territory's liaison} (absent: no territory)."""
    return dict(
        Relationship.objects.filter(practice_id__in=list(practice_ids)).values_list(
            "practice_id", "territory__liaison_id"
        )
    )


def raise_task(
    *,
    key: str,
    kind: str,
    title: str,
    detail: str,
    practice_id: int,
    on: date,
    provider_id: int | None = None,
    staff_id: int | None = None,
    owner_id: int | None = None,
    find_owner: bool = True,
) -> Task | None:
    """Create the task of occurrence `key`, or nothing if it exists (None). Safe with two
    workers at once: the second insert fails on the unique key inside its own savepoint."""
    if find_owner and owner_id is None:
        owner_id = liaisons_by_practice([practice_id]).get(practice_id)
    try:
        with transaction.atomic():
            return Task.objects.create(
                signal_key=key,
                kind=kind,
                title=title[:200],
                detail=detail,
                practice_id=practice_id,
                provider_id=provider_id,
                staff_id=staff_id,
                owner_id=owner_id,
                due_on=on + timedelta(days=DUE_IN_DAYS[kind]),
            )
    except IntegrityError:
        return None


def _latest_dated_keys(kind: str) -> dict[int, date]:
    """{practice id: the date in its newest key of `kind`} for keys ending in an ISO date."""
    latest: dict[int, date] = {}
    for practice_id, key in Task.objects.filter(kind=kind, signal_key__isnull=False).values_list(
        "practice_id", "signal_key"
    ):
        try:
            day = date.fromisoformat((key or "").rsplit(":", 1)[1])
        except (IndexError, ValueError):
            continue
        if practice_id not in latest or day > latest[practice_id]:
            latest[practice_id] = day
    return latest


def _local_today(now: datetime) -> date:
    return timezone.localdate(now, Organization.current().zone)


def _per_90(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


# ---- declining referrers ------------------------------------------------------------------


def declining_tasks(*, now: datetime) -> list[Task]:
    """A visit task for each practice analytics flags as declining today, once per flagged
    period: while one raised in the last 90 days stands, no other is raised."""
    today = _local_today(now)
    # As of tomorrow's midnight (exclusive), as the dashboard's default period: today counts.
    drift = referrers.drift(today + timedelta(days=1), Organization.current().zone)
    flagged = {pk: row for pk, row in drift.items() if row["declining"]}
    if not flagged:
        return []
    last = _latest_dated_keys(TaskKind.DECLINING)
    names = dict(Practice.objects.filter(pk__in=flagged).values_list("pk", "name"))
    owners = liaisons_by_practice(flagged)
    made = []
    for pk, row in flagged.items():
        if pk in last and (today - last[pk]).days < DECLINING_DAYS:
            continue
        before, after = _per_90(row["expected"]), row["recent"]
        p = "< 0.001" if row["p_value"] < 0.001 else f"{row['p_value']:.3f}"
        task = raise_task(
            key=f"declining:practice:{pk}:{today.isoformat()}",
            kind=TaskKind.DECLINING,
            title=f"Visit: referrals from {names[pk]} went from {before} to {after} per 90 days",
            detail=(
                f"{after} referral{'s' if after != 1 else ''} in the last 90 days against "
                f"{row['prior']} in the 365 days before (about {before} per 90 days). "
                f"That few by chance: p = {p}. Ask what changed."
            ),
            practice_id=pk,
            on=today,
            owner_id=owners.get(pk),
            find_owner=False,
        )
        if task is not None:
            made.append(task)
    return made


# ---- first referral (a reaction) ----------------------------------------------------------


def _earlier(referral: Referral):
    return Referral.objects.filter(
        direction=Direction.INBOUND, merged_into__isnull=True, received_at__lt=referral.received_at
    ).exclude(pk=referral.pk)


def on_referral_received(event: ReferralEvent) -> None:
    """Listed in referrals.reactions under `referral.received`: a thank-you task for the
    first referral of its practice and of its provider (idempotent: keyed once ever)."""
    first_referral_tasks(event.referral)


def first_referral_tasks(referral: Referral) -> list[Task]:
    if referral.direction != Direction.INBOUND:
        return []
    provider = (
        Provider.objects.select_related("practice").get(pk=referral.referring_provider_id)
        if referral.referring_provider_id
        else None
    )
    practice_id = referral.referring_practice_id or (provider.practice_id if provider else None)
    if practice_id is None:
        return []  # a self-referral: nobody at a practice to thank
    practice = Practice.objects.get(pk=practice_id)
    on = _local_today(referral.received_at)
    made = []
    earlier = _earlier(referral)
    when = f"received {on:%-d %b %Y} ({referral.number})"
    if not earlier.filter(referring_practice_id=practice_id).exists():
        task = raise_task(
            key=f"first_referral:practice:{practice_id}",
            kind=TaskKind.FIRST_REFERRAL,
            title=f"Thank-you note to {practice.name}: their first referral",
            detail=f"The first referral from {practice.name}, {when}.",
            practice_id=practice_id,
            on=on,
        )
        made.append(task)
    if provider is not None and not earlier.filter(referring_provider_id=provider.pk).exists():
        task = raise_task(
            key=f"first_referral:provider:{provider.pk}",
            kind=TaskKind.FIRST_REFERRAL,
            title=f"Thank-you note to {provider} ({practice.name}): first referral",
            detail=f"The first referral from {provider} of {practice.name}, {when}.",
            practice_id=practice_id,
            provider_id=provider.pk,
            on=on,
        )
        made.append(task)
    return [t for t in made if t is not None]


# ---- declined as not a fit ----------------------------------------------------------------


def one_pager_link() -> str | None:
    """The address of the printable "How to refer" one-pager, or None where the public
    pages are not served."""
    try:
        return reverse("how_to_refer_pdf")
    except NoReverseMatch:
        return None


def criteria_words(guide: DepartmentGuide) -> str:
    """A department's intake criteria as the one-pager says them."""
    treats = guide.treats.rstrip(". ") or "no description yet (Settings, Departments)"
    parts = [f"{guide.name}: {treats}"]
    if guide.specialties:
        parts.append("Specialties: " + ", ".join(guide.specialties))
    if guide.accepted_conditions:
        parts.append("Conditions accepted (ICD-10): " + ", ".join(guide.accepted_conditions))
    not_fit = [*guide.excluded_conditions, *guide.excluded_keywords]
    if guide.has_age_limit:
        not_fit.append(f"patients outside {guide.ages.lower()}")
    parts.append("Not a fit: " + (", ".join(not_fit) if not_fit else "no exclusions listed"))
    parts.append(
        "Insurance: " + ("only " + ", ".join(guide.insurances) if guide.insurances else "all plans")
    )
    return ". ".join(parts) + "."


def not_a_fit_tasks(*, now: datetime) -> list[Task]:
    """A task to share what we treat with each practice whose last 5 inbound referrals
    include 3 declined as not a fit and one of those declines is recent; once per run: a new
    task only when the referrals behind the last one have all left its last five."""
    recent = now - timedelta(days=NOT_A_FIT_RECENT_DAYS)
    candidates = (
        _not_a_fit_declines()
        .filter(referring_practice__isnull=False)
        .values("referring_practice")
        .annotate(n=Count("pk"), newest=Count("pk", filter=Q(closed_at__gte=recent)))
        .filter(n__gte=NOT_A_FIT_MIN, newest__gte=1)
        .values_list("referring_practice", flat=True)
    )
    return _not_a_fit_raise(list(candidates), now=now)


def on_referral_declined(event: ReferralEvent) -> None:
    """Listed in referrals.reactions under `referral.declined`: the not-a-fit task at once,
    for the declining referral's practice only, under the key the sweep would use (so the
    sweep and the reaction together raise it once)."""
    not_a_fit_task_after_decline(event.referral, now=event.at)


def not_a_fit_task_after_decline(referral: Referral, *, now: datetime) -> list[Task]:
    """The not-a-fit task of `referral`'s practice, if this decline (as not a fit) makes
    the run; a decline for another reason raises none."""
    practice_id = referral.referring_practice_id
    if practice_id is None or not _not_a_fit_declines().filter(pk=referral.pk).exists():
        return []
    return _not_a_fit_raise([practice_id], now=now)


def _not_a_fit_declines():
    return Referral.objects.filter(
        direction=Direction.INBOUND,
        merged_into__isnull=True,
        state=State.DECLINED,
        end_reason__in=NOT_A_FIT_REASONS,
    )


def _not_a_fit_raise(practice_ids: list[int], *, now: datetime) -> list[Task]:
    """For each of `practice_ids`: its task if 3 of its last 5 referrals are declined as not
    a fit and no earlier task stands for any of those five."""
    if not practice_ids:
        return []
    today = _local_today(now)
    previous: dict[int, set[int]] = defaultdict(set)
    for practice_id, key in Task.objects.filter(
        kind=TaskKind.NOT_A_FIT, signal_key__isnull=False, practice_id__in=practice_ids
    ).values_list("practice_id", "signal_key"):
        previous[practice_id].add(int((key or "").rsplit(":", 1)[1]))
    guides: dict[str, DepartmentGuide] | None = None
    link = one_pager_link()
    made = []
    for practice_id in practice_ids:
        last = list(
            Referral.objects.filter(
                direction=Direction.INBOUND,
                merged_into__isnull=True,
                referring_practice_id=practice_id,
            )
            .select_related("department", "referring_practice")
            .order_by("-received_at", "-pk")[:NOT_A_FIT_OF]
        )
        declined = [
            r for r in last if r.state == State.DECLINED and r.end_reason in NOT_A_FIT_REASONS
        ]
        if len(declined) < NOT_A_FIT_MIN or previous[practice_id] & {r.pk for r in last}:
            continue
        practice = last[0].referring_practice
        assert practice is not None  # the referrals were chosen by their practice
        if guides is None:
            guides = {g.name: g for g in referral_guide().departments}
        reasons = Counter(DeclineReason(r.end_reason).label.lower() for r in declined)
        departments = Counter(r.department.name for r in declined if r.department)
        criteria = [criteria_words(guides[name]) for name, _ in departments.most_common()]
        detail = [
            f"{len(declined)} of its last {len(last)} referrals were declined as not a fit "
            f"({', '.join(f'{reason} ×{n}' for reason, n in reasons.most_common())}): "
            + ", ".join(r.number for r in declined)
            + ".",
            *(f"What we treat, {c}" for c in criteria),
            f"The one-pager to leave with them: {link}"
            if link
            else "There is no one-pager to leave: the public “How to refer” pages are not served.",
        ]
        task = raise_task(
            key=f"not_a_fit:practice:{practice_id}:{declined[0].pk}",
            kind=TaskKind.NOT_A_FIT,
            title=f"Share what we treat with {practice.name}: "
            f"{len(declined)} of {len(last)} referrals declined as not a fit",
            detail="\n".join(detail),
            practice_id=practice_id,
            on=today,
        )
        if task is not None:
            made.append(task)
    return made


# ---- service problems ---------------------------------------------------------------------


def service_problem_tasks(*, now: datetime) -> list[Task]:
    """For each practice with 2 or more referrals late on a clock in the last 30 days (the
    first contact of those received, the report of those seen), once per 30 days."""
    today = _local_today(now)
    since = now - timedelta(days=SERVICE_DAYS)
    of_practice = Referral.objects.filter(
        direction=Direction.INBOUND, merged_into__isnull=True, referring_practice__isnull=False
    )
    contact = {
        row["referring_practice"]: row
        for row in of_practice.filter(received_at__gte=since)
        .values("referring_practice")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=clocks.clock_q(clocks.FIRST_CONTACT, "late", now=now)),
        )
    }
    reports = {
        row["referring_practice"]: row
        for row in of_practice.filter(seen_at__gte=since)
        .values("referring_practice")
        .annotate(
            n=Count("pk"), late=Count("pk", filter=clocks.clock_q(clocks.REPORT, "late", now=now))
        )
    }
    late = {
        pk
        for rows in (contact, reports)
        for pk, row in rows.items()
        if row["late"] >= SERVICE_MIN_LATE
    }
    if not late:
        return []
    last = _latest_dated_keys(TaskKind.SERVICE_PROBLEM)
    names = dict(Practice.objects.filter(pk__in=late).values_list("pk", "name"))
    owners = liaisons_by_practice(late)
    hours = clocks.report_within().total_seconds() / 3600
    made = []
    for pk in sorted(late):
        if pk in last and (today - last[pk]).days < SERVICE_DAYS:
            continue
        findings = []
        if pk in contact and contact[pk]["late"]:
            findings.append(
                f"{contact[pk]['late']} of {contact[pk]['n']} referrals received in the last "
                "30 days "
                "missed the first-contact target"
            )
        if pk in reports and reports[pk]["late"]:
            findings.append(
                f"{reports[pk]['late']} of {reports[pk]['n']} patients seen in the last 30 days "
                f"were not reported back within {hours:g} hours"
            )
        task = raise_task(
            key=f"service:practice:{pk}:{today.isoformat()}",
            kind=TaskKind.SERVICE_PROBLEM,
            title=f"Service problem at our end for {names[pk]}",
            detail="; ".join(findings)
            + ". Call the office before they notice, and tell the intake team.",
            practice_id=pk,
            on=today,
            owner_id=owners.get(pk),
            find_owner=False,
        )
        if task is not None:
            made.append(task)
    return made


# ---- overdue visits -----------------------------------------------------------------------


def overdue_visit_tasks(*, now: datetime) -> list[Task]:
    """For each tier A practice past its cadence, once per due date (a visit moves it)."""
    today = _local_today(now)
    overdue = [d for d in tiers.due_visits(on=today, within_days=0, tiers=(Tier.A,)) if d.overdue]
    made = []
    for due in overdue:
        relationship = due.relationship
        owner = relationship.territory.liaison_id if relationship.territory else None
        task = raise_task(
            key=f"overdue_visit:practice:{relationship.practice_id}:{due.due_on.isoformat()}",
            kind=TaskKind.OVERDUE_VISIT,
            title=f"Overdue visit: {due.practice.name} ({due.overdue_days} days overdue)",
            detail=due.reason + ".",
            practice_id=relationship.practice_id,
            on=today,
            owner_id=owner,
            find_owner=False,
        )
        if task is not None:
            made.append(task)
    return made


# ---- a referring office's low rating (a reaction) -------------------------------------------

LOW_RATING_NOTICE = "staff.office_feedback_low"


def on_office_survey_answered(event: AdvocacyEvent) -> None:
    """Listed in advocacy.reactions under `survey.answered`: a referring office's low answer
    raises a task for the practice's liaison (a patient's survey is advocacy's own business)."""
    if event.survey_id is None:
        return
    office_feedback_task(
        Survey.objects.select_related("referring_practice").get(pk=event.survey_id), now=event.at
    )


def office_feedback_task(survey: Survey, *, now: datetime) -> Task | None:
    """One task per office survey answered with any of its questions at or below the
    practice's low score (idempotent: keyed by the survey), for the liaison of the practice's
    territory. With no liaison, the task waits unassigned and whoever answers for the referral's
    department (its point of contact, else the admins) gets a notice. None when nothing is low."""
    if survey.audience != Audience.OFFICE or survey.referring_practice_id is None:
        return None
    response = Response.objects.filter(survey=survey).first()
    if response is None:
        return None
    limit = AdvocacySettings.current().office_low_score
    texts = {q.key: q.text for q in questions_for(Audience.OFFICE)}
    low = [(key, value) for key, value in response.answers.items() if value <= limit]
    if not low:
        return None
    practice = survey.referring_practice
    assert practice is not None  # checked above
    scores = "; ".join(f"{texts.get(key, key)} {value} of 5" for key, value in low)
    kind, _, contact_id = survey.recipient.partition(":")
    owner_id = liaisons_by_practice([practice.pk]).get(practice.pk)
    detail = [f"Their low answers: {scores}."]
    if response.comment:
        detail.append(
            "They left a comment: staff who may see referrals can read it on the practice's "
            "relationship page."
        )
    detail.append("Call the office, listen, and tell the team what to fix.")
    task = raise_task(
        key=f"office_feedback:{survey.pk}",
        kind=TaskKind.OFFICE_FEEDBACK,
        title=f"Call {practice.name}: they rated us low",
        detail=" ".join(detail),
        practice_id=practice.pk,
        provider_id=int(contact_id) if kind == "provider" else None,
        staff_id=int(contact_id) if kind == "staff_contact" else None,
        on=_local_today(now),
        owner_id=owner_id,
        find_owner=False,
    )
    if owner_id is None:
        _notify_without_liaison(survey, practice, scores, now=now)
    return task


def _notify_without_liaison(
    survey: Survey, practice: Practice, scores: str, *, now: datetime
) -> None:
    """The in-app notice of a low rating nobody in outreach owns (once per survey and user:
    the outbox dedupes by cause)."""
    referral = survey.referral
    if referral is not None:
        users = point_of_contact(referral)
    else:
        users = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk"))
    org = Organization.current()
    for user in users:
        outbox.queue(
            rule=rule(LOW_RATING_NOTICE),
            recipient=staff_user(user),
            cause=f"office_feedback:{survey.pk}",
            values={
                "practice.name": org.name,
                "practice.phone": org.phone,
                "department.name": referral.department.name
                if referral and referral.department
                else "",
                "referral.number": referral.number if referral else "",
                "referrer.practice": practice.name,
                "feedback.scores": scores,
            },
            due_at=now,
            now=now,
            referral=referral,
        )


SWEEPS = {
    TaskKind.DECLINING: declining_tasks,
    TaskKind.NOT_A_FIT: not_a_fit_tasks,
    TaskKind.SERVICE_PROBLEM: service_problem_tasks,
    TaskKind.OVERDUE_VISIT: overdue_visit_tasks,
}


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Run every sweep-type signal; {task kind: tasks raised}."""
    now = now or timezone.now()
    return {kind: len(find(now=now)) for kind, find in SWEEPS.items()}
