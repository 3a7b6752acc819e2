"""What the referring offices told us: the three office questions' averages (1 to 5) and
response counts by practice and quarter, and their latest comments.

Read by the relationship page (outreach) and, by dotted path, by the practice's scorecard
(analytics, below this app). Scores are counts and averages, for anyone who may see the
practice; a comment may name a patient, so `latest_comments` is for callers that checked the
user may see referrals, and it audits what it hands out.
"""

from dataclasses import dataclass
from datetime import date, datetime

from refloop.advocacy.models import Audience, Response
from refloop.advocacy.office import local_day, quarter_start
from refloop.advocacy.surveys import questions_for
from refloop.core import audit
from refloop.practice.models import Organization

QUARTERS = 4
COMMENTS = 5
_WHO = {"provider": "A provider", "staff_contact": "Staff", "practice": "The office"}


@dataclass(frozen=True)
class Average:
    key: str
    text: str
    average: float | None  # None: nobody answered it
    answers: int

    @property
    def shown(self) -> str:
        return "–" if self.average is None else f"{self.average:.1f}"


@dataclass(frozen=True)
class QuarterScores:
    start: date
    responses: int
    averages: tuple[Average, ...]

    @property
    def label(self) -> str:
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"


@dataclass(frozen=True)
class Comment:
    submitted_on: date
    text: str
    who: str  # who at the office answered: "A provider", "Staff", "The office"


def _add_quarters(start: date, n: int) -> date:
    months = start.year * 12 + start.month - 1 + 3 * n
    return date(months // 12, months % 12 + 1, 1)


def _responses(practice_id: int):
    return Response.objects.filter(
        survey__audience=Audience.OFFICE, survey__referring_practice_id=practice_id
    ).select_related("survey")


def _averages(responses: list[Response]) -> tuple[Average, ...]:
    found = []
    for question in questions_for(Audience.OFFICE):
        values = [r.answers[question.key] for r in responses if question.key in r.answers]
        found.append(
            Average(
                key=question.key,
                text=question.text,
                average=sum(values) / len(values) if values else None,
                answers=len(values),
            )
        )
    return tuple(found)


def quarterly_scores(
    practice_id: int, *, now: datetime, quarters: int = QUARTERS
) -> list[QuarterScores]:
    """The last `quarters` local calendar quarters up to this one, oldest first, each with
    its responses (by the day they were submitted) and the three questions' averages."""
    zone = Organization.current().zone
    this = quarter_start(local_day(now))
    starts = [_add_quarters(this, -n) for n in reversed(range(quarters))]
    by_start: dict[date, list[Response]] = {start: [] for start in starts}
    for response in _responses(practice_id).filter(submitted_at__lte=now):
        start = quarter_start(response.submitted_at.astimezone(zone).date())
        if start in by_start:
            by_start[start].append(response)
    return [
        QuarterScores(start=start, responses=len(rows), averages=_averages(rows))
        for start, rows in by_start.items()
    ]


@dataclass(frozen=True)
class Ratings:
    """A practice's answers over a span: what the scorecard shows as "How you rated us"."""

    responses: int
    averages: tuple[Average, ...]


def ratings(practice_id: int, start: datetime, end: datetime) -> Ratings:
    """The practice's office answers submitted in [start, end)."""
    rows = list(_responses(practice_id).filter(submitted_at__gte=start, submitted_at__lt=end))
    return Ratings(responses=len(rows), averages=_averages(rows))


def latest_comments(
    practice_id: int, *, actor, now: datetime, limit: int = COMMENTS
) -> list[Comment]:
    """The practice's newest non-empty comments. Only for a user who may see referrals (the
    caller checks): a comment may name a patient, so each one handed out is audited."""
    zone = Organization.current().zone
    found: list[Comment] = []
    shown = []
    for response in (
        _responses(practice_id).filter(submitted_at__lte=now).order_by("-submitted_at", "-pk")
    ):
        if not response.comment:
            continue
        found.append(
            Comment(
                submitted_on=response.submitted_at.astimezone(zone).date(),
                text=response.comment,
                who=_WHO.get(response.survey.recipient.split(":", 1)[0], "The office"),
            )
        )
        shown.append(response.survey.audit_touch())
        if len(found) == limit:
            break
    if shown:
        audit.record_many("survey.comment_viewed", shown, actor=actor, now=now)
    return found
