"""The feedback numbers: NPS and satisfaction with response rates, review invitations and their
clicks, service-recovery cases against their clocks, advocates and the referrals they brought,
and the referring offices' scores, for one analytics scope (period and filters).

Every figure comes out as an `analytics.tables.Table`, each cell marked as analytics marks
its own (a count of people, or what a rate, mean or NPS rests on), so `analytics.tables.
suppress` hides an analyst's small cells here exactly as it does on the dashboard: the page,
its charts, the CSV and the API all read these tables. No table names a patient.
"""

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet

from refloop.advocacy import case_clocks
from refloop.advocacy.models import (
    Advocate,
    Audience,
    Case,
    CaseCategory,
    CaseSource,
    CaseState,
    FriendReferral,
    Question,
    ReviewClick,
    ReviewInvitation,
    Survey,
)
from refloop.analytics import privacy
from refloop.analytics.metrics import Scope, parse_scope
from refloop.analytics.periods import with_default_period
from refloop.analytics.suppression import Basis, Cell, Total
from refloop.analytics.tables import Table, suppress
from refloop.core.errors import InvalidInput
from refloop.network.models import Practice
from refloop.practice.models import Department, Location
from refloop.referrals.models import Referral, SourceType

# The filters of the analytics scope that mean something for feedback.
FILTERS = ("department", "location", "source_type", "practice")
PARAMS = ("start", "end", *FILTERS)

# Fewer answers than this and a figure is said to be shaky, in these words everywhere.
FEW_RESPONSES = 30
CAUTION = "few responses: read with care"
Z95 = 1.959963984540054
NOT_RECORDED = "Not recorded"
ALL = "All"

BREAKDOWNS = {
    "department": "Department",
    "location": "Location",
    "clinician": "Clinician",
    "source_type": "Source type",
    "practice": "Referring practice",
    "month": "Month",
}

TABLES = {
    **{
        f"satisfaction_by_{by}": f"NPS and satisfaction by {label.lower()}"
        for by, label in BREAKDOWNS.items()
    },
    "reviews_by_month": "Review invitations by month",
    "reviews_by_site": "Review clicks by site",
    "cases_by_category": "Cases by category",
    "cases_by_source": "Cases by source",
    "advocates": "Advocates",
    "office_scores": "Referring-office scores",
}


# ---- the statistics ---------------------------------------------------------------


def nps(promoters: int, passives: int, detractors: int) -> tuple[float, float] | None:
    """The Net Promoter Score in points (promoters' share minus detractors', times 100) and
    its 95% margin of error, from the standard error of a difference of two shares of one
    multinomial sample: sqrt((p + d - (p - d)^2) / n). None without answers."""
    n = promoters + passives + detractors
    if n == 0:
        return None
    p, d = promoters / n, detractors / n
    margin = Z95 * math.sqrt((p + d - (p - d) ** 2) / n)
    return 100 * (p - d), 100 * margin


def wilson(successes: int, trials: int) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a rate, as shares (0 to 1). None without trials."""
    if trials == 0:
        return None
    p, z2 = successes / trials, Z95**2
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials**2)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def caution(answers: int) -> str:
    return CAUTION if 0 < answers < FEW_RESPONSES else ""


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _round(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)


# ---- building tables --------------------------------------------------------------


class _Count(int):
    """A cell counting people (or surveys, invitations, cases): hidden when 1 to 10."""


@dataclass
class _Derived:
    value: object
    columns: tuple[int, ...] = ()  # the count cells of the same row it rests on
    counts: tuple[int, ...] = ()  # counts it rests on that are not cells


@dataclass
class _Builder:
    key: str
    headers: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    counts: set[Cell] = field(default_factory=set)
    derived: dict[Cell, Basis] = field(default_factory=dict)
    totals: list[Total] = field(default_factory=list)

    def add(self, *values) -> int:
        row, plain = len(self.rows), []
        for column, value in enumerate(values):
            here = Cell(self.key, row, column)
            if isinstance(value, _Count):
                self.counts.add(here)
                value = int(value)
            elif isinstance(value, _Derived):
                cells = tuple(Cell(self.key, row, c) for c in value.columns)
                self.derived[here] = Basis(tuple(value.counts), cells)
                value = value.value
            plain.append(value)
        self.rows.append(tuple(plain))
        return row

    def total_row(self, parts: list[int], total: int, columns: Iterable[int]) -> None:
        for column in columns:
            self.totals.append(
                Total(
                    Cell(self.key, total, column), tuple(Cell(self.key, r, column) for r in parts)
                )
            )

    def table(self) -> Table:
        return Table(
            key=self.key,
            title=TABLES[self.key],
            headers=self.headers,
            rows=tuple(self.rows),
            counts=frozenset(self.counts),
            derived=dict(self.derived),
            totals=tuple(self.totals),
        )


def _tie(tables: list[_Builder], row_of: Callable[[_Builder], int], columns: Iterable[int]):
    """The same figure shown in several tables (the "All" row): hiding it in one hides it in
    every other, so no table gives it back."""
    first = tables[0]
    for other in tables[1:]:
        for column in columns:
            other.totals.append(
                Total(
                    Cell(other.key, row_of(other), column),
                    (Cell(first.key, row_of(first), column),),
                )
            )


# ---- the patient surveys ------------------------------------------------------------


def _zone(scope: Scope) -> tzinfo:
    assert isinstance(scope.zone, tzinfo)
    return scope.zone


def _local_month(at: datetime, scope: Scope) -> int:
    local = at.astimezone(_zone(scope))
    return local.year * 100 + local.month


def month_label(yyyymm: int) -> str:
    return f"{yyyymm // 100}-{yyyymm % 100:02d}"


def surveys(scope: Scope, audience: str = Audience.PATIENT) -> QuerySet:
    """The surveys sent in the period, filtered."""
    start, end = scope.bounds
    qs = Survey.objects.filter(audience=audience, created_at__gte=start, created_at__lt=end)
    return _filter_surveys(qs, scope, "")


def _filter_surveys(qs: QuerySet, scope: Scope, prefix: str) -> QuerySet:
    found = scope.filters
    lookups = {
        "department_id": found.department,
        "location_id": found.location,
        "source_type": found.source_type,
        "referring_practice_id": found.practice,
    }
    return qs.filter(**{prefix + name: value for name, value in lookups.items() if value})


def patient_questions() -> list[Question]:
    return list(Question.objects.filter(audience=Audience.PATIENT, active=True))


@dataclass
class _Tally:
    sent: int = 0
    answered: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    scores: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def take(self, survey: dict) -> None:
        self.sent += 1
        if survey["answered"] is None:
            return
        self.answered += 1
        score = survey["recommend"]
        if score is not None:
            if score >= 9:
                self.promoters += 1
            elif score >= 7:
                self.passives += 1
            else:
                self.detractors += 1
        for key, value in (survey["answers"] or {}).items():
            if isinstance(value, int) and 1 <= value <= 5:
                self.scores[key].append(value)

    @property
    def recommended(self) -> int:
        return self.promoters + self.passives + self.detractors


def _names(model, ids: set) -> dict:
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


def _clinician_names(ids: set) -> dict:
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: (user.get_full_name() or user.get_username()) for user in users}


def _survey_rows(scope: Scope) -> list[dict]:
    return list(
        surveys(scope).values(
            "department_id",
            "location_id",
            "clinician_id",
            "source_type",
            "referring_practice_id",
            "created_at",
            answered=F("response__submitted_at"),
            recommend=F("response__recommend"),
            answers=F("response__answers"),
        )
    )


def _group_key(by: str, survey: dict, scope: Scope):
    if by == "month":
        return _local_month(survey["created_at"], scope)
    column = {"practice": "referring_practice_id", "source_type": "source_type"}.get(by, f"{by}_id")
    return survey[column] or None


def _group_labels(by: str, keys: set, scope: Scope) -> dict:
    ids = {key for key in keys if key is not None}
    if by == "department":
        return _names(Department, ids)
    if by == "location":
        return _names(Location, ids)
    if by == "practice":
        return _names(Practice, ids)
    if by == "clinician":
        return _clinician_names(ids)
    if by == "source_type":
        return {key: SourceType(key).label if key in SourceType.values else key for key in ids}
    return {key: month_label(key) for key in ids}


def satisfaction_tables(scope: Scope) -> list[_Builder]:
    rows = _survey_rows(scope)
    questions = patient_questions()
    built = []
    for by, label in BREAKDOWNS.items():
        groups: dict = defaultdict(_Tally)
        if by == "month":
            for month in scope.period.months():
                groups[month]  # every month of the period, answered or not
        overall = _Tally()
        for survey in rows:
            groups[_group_key(by, survey, scope)].take(survey)
            overall.take(survey)
        labels = _group_labels(by, set(groups), scope)
        named = [key for key in groups if key is not None]
        if by == "month":
            named.sort()
        else:
            named.sort(key=lambda k: str(labels.get(k, k)).lower())
        order = named + ([None] if None in groups else [])
        builder = _Builder(
            f"satisfaction_by_{by}",
            (
                label,
                "Surveys sent",
                "Answered",
                "Response rate (%)",
                "Response rate low (95%)",
                "Response rate high (95%)",
                "Recommend answers",
                "NPS (points)",
                "NPS margin of error (± points, 95%)",
                *(f"Mean {q.key} (1-5)" for q in questions),
                *(f"Answers {q.key}" for q in questions),
                "Note",
            ),
        )
        parts = [
            _satisfaction_row(
                builder,
                labels.get(key, NOT_RECORDED) if key is not None else NOT_RECORDED,
                groups[key],
                questions,
            )
            for key in order
        ]
        total = _satisfaction_row(builder, ALL, overall, questions)
        answer_columns = range(9 + len(questions), 9 + 2 * len(questions))
        builder.total_row(parts, total, (1, 2, 6, *answer_columns))
        built.append(builder)
    _tie(
        built,
        lambda b: len(b.rows) - 1,
        (1, 2, 6, *range(9 + len(questions), 9 + 2 * len(questions))),
    )
    return built


def _satisfaction_row(builder: _Builder, label: str, tally: _Tally, questions) -> int:
    rate = wilson(tally.answered, tally.sent)
    score = nps(tally.promoters, tally.passives, tally.detractors)
    means = []
    n_questions = len(questions)
    for index, question in enumerate(questions):
        answers = tally.scores.get(question.key, [])
        means.append(
            _Derived(
                _round(statistics.fmean(answers), 2) if answers else None,
                columns=(9 + n_questions + index,),
            )
        )
    return builder.add(
        label,
        _Count(tally.sent),
        _Count(tally.answered),
        _Derived(_percent(tally.answered / tally.sent) if tally.sent else None, columns=(1, 2)),
        _Derived(_percent(rate[0]) if rate else None, columns=(1, 2)),
        _Derived(_percent(rate[1]) if rate else None, columns=(1, 2)),
        _Count(tally.recommended),
        _Derived(_round(score[0]) if score else None, columns=(6,)),
        _Derived(_round(score[1]) if score else None, columns=(6,)),
        *means,
        *(_Count(len(tally.scores.get(q.key, []))) for q in questions),
        caution(tally.answered),
    )


# ---- review invitations ----------------------------------------------------------


def invitations(scope: Scope) -> QuerySet:
    """The review invitations made in the period. Location is the invitation's; the other
    filters are those of the survey it came from (an invitation by message has none, so a
    department, source or practice filter leaves it out)."""
    start, end = scope.bounds
    qs = ReviewInvitation.objects.filter(created_at__gte=start, created_at__lt=end)
    if scope.filters.location:
        qs = qs.filter(location_id=scope.filters.location)
    without_location = Scope(scope.period, _without_location(scope), scope.now, scope.zone)
    return _filter_surveys(qs, without_location, "survey__")


def _without_location(scope: Scope):
    return replace(scope.filters, location=None)


def review_tables(scope: Scope) -> list[_Builder]:
    found = list(invitations(scope).values("pk", "created_at"))
    clicks = list(
        ReviewClick.objects.filter(invitation__in=[i["pk"] for i in found]).values(
            "invitation_id", "site_id", "site__name"
        )
    )
    by_month = _Builder(
        "reviews_by_month",
        (
            "Month",
            "Invitations sent",
            "Invitations clicked",
            "Clicks",
            "Click-through rate (%)",
            "Click-through low (95%)",
            "Click-through high (95%)",
            "Note",
        ),
    )
    month_of = {i["pk"]: _local_month(i["created_at"], scope) for i in found}
    sent: dict[int, int] = defaultdict(int)
    clicked: dict[int, set] = defaultdict(set)
    click_count: dict[int, int] = defaultdict(int)
    for invitation in found:
        sent[month_of[invitation["pk"]]] += 1
    for click in clicks:
        month = month_of[click["invitation_id"]]
        clicked[month].add(click["invitation_id"])
        click_count[month] += 1

    def row(builder, label, n_sent, n_clicked, n_clicks):
        rate = wilson(n_clicked, n_sent)
        return builder.add(
            label,
            _Count(n_sent),
            _Count(n_clicked),
            _Count(n_clicks),
            _Derived(_percent(n_clicked / n_sent) if n_sent else None, columns=(1, 2)),
            _Derived(_percent(rate[0]) if rate else None, columns=(1, 2)),
            _Derived(_percent(rate[1]) if rate else None, columns=(1, 2)),
            caution(n_sent),
        )

    parts = [
        row(by_month, month_label(m), sent[m], len(clicked[m]), click_count[m])
        for m in scope.period.months()
    ]
    all_clicked = {c["invitation_id"] for c in clicks}
    total = row(by_month, ALL, len(found), len(all_clicked), len(clicks))
    by_month.total_row(parts, total, (1, 2, 3))

    by_site = _Builder(
        "reviews_by_site",
        (
            "Site",
            "Clicks",
            "Invitations clicked through",
            "Share of invitations sent (%)",
            "Share low (95%)",
            "Share high (95%)",
            "Note",
        ),
    )
    sites: dict[str, list] = defaultdict(list)
    for click in clicks:
        sites[click["site__name"]].append(click["invitation_id"])
    sent_cell = Cell(by_month.key, total, 1)
    for name in sorted(sites, key=str.lower):
        through = len(set(sites[name]))
        rate = wilson(through, len(found))
        here = len(by_site.rows)
        by_site.add(
            name,
            _Count(len(sites[name])),
            _Count(through),
            _Derived(_percent(through / len(found)) if found else None, columns=(2,)),
            _Derived(_percent(rate[0]) if rate else None, columns=(2,)),
            _Derived(_percent(rate[1]) if rate else None, columns=(2,)),
            caution(len(found)),
        )
        for column in (3, 4, 5):  # a share rests on the invitations sent as well
            cell = Cell(by_site.key, here, column)
            by_site.derived[cell] = Basis((), (*by_site.derived[cell].cells, sent_cell))
    return [by_month, by_site]


# ---- service recovery ---------------------------------------------------------------


def cases(scope: Scope) -> QuerySet:
    """The cases opened in the period. Department is the case's own; location, source type
    and practice are those of the survey the case came from, or of its referral."""
    start, end = scope.bounds
    qs = Case.objects.filter(opened_at__gte=start, opened_at__lt=end)
    found = scope.filters
    if found.department:
        qs = qs.filter(department_id=found.department)
    if found.location:
        qs = qs.filter(response__survey__location_id=found.location)
    if found.source_type:
        qs = qs.filter(
            Q(response__survey__source_type=found.source_type)
            | Q(referral__source_type=found.source_type)
        )
    if found.practice:
        qs = qs.filter(referring_practice_id=found.practice)
    return qs


@dataclass
class _Clocks:
    count: int = 0
    open_now: int = 0
    late_now: int = 0
    to_acknowledge: list[float] = field(default_factory=list)
    to_resolve: list[float] = field(default_factory=list)
    acknowledge_due: int = 0
    acknowledged_on_time: int = 0
    resolve_due: int = 0
    resolved_on_time: int = 0

    def take(self, case: dict, now: datetime) -> None:
        self.count += 1
        acknowledged, resolved = case["acknowledged_at"], case["resolved_at"]
        if acknowledged is not None:
            self.to_acknowledge.append((acknowledged - case["opened_at"]).total_seconds() / 3600)
        if resolved is not None:
            self.to_resolve.append((resolved - case["opened_at"]).total_seconds() / 3600)
        # A clock counts once it is met or has run out: a case still inside it is not judged.
        if acknowledged is not None or case_clocks.ran_out(case["acknowledge_by"], now):
            self.acknowledge_due += 1
            self.acknowledged_on_time += acknowledged is not None and not case_clocks.ran_out(
                case["acknowledge_by"], acknowledged
            )
        if resolved is not None or case_clocks.ran_out(case["resolve_by"], now):
            self.resolve_due += 1
            self.resolved_on_time += resolved is not None and not case_clocks.ran_out(
                case["resolve_by"], resolved
            )
        if case["state"] in (CaseState.OPEN, CaseState.ACKNOWLEDGED):
            self.open_now += 1
            self.late_now += case_clocks.is_overdue(
                Case(
                    state=case["state"],
                    acknowledge_by=case["acknowledge_by"],
                    resolve_by=case["resolve_by"],
                ),
                now=now,
            )


def case_tables(scope: Scope, now: datetime) -> list[_Builder]:
    rows = list(
        cases(scope).values(
            "category",
            "source",
            "state",
            "opened_at",
            "acknowledge_by",
            "acknowledged_at",
            "resolve_by",
            "resolved_at",
        )
    )
    built = []
    for by, label, choices in (
        ("category", "Category", CaseCategory),
        ("source", "Source", CaseSource),
    ):
        builder = _Builder(
            f"cases_by_{by}",
            (
                label,
                "Cases",
                "Median hours to acknowledge",
                "Median hours to resolve",
                "Acknowledged on time (%)",
                "Resolved on time (%)",
                "Open now",
                "Late now",
            ),
        )
        groups: dict[str, _Clocks] = {value: _Clocks() for value in choices.values}
        overall = _Clocks()
        for case in rows:
            groups.setdefault(case[by], _Clocks()).take(case, now)
            overall.take(case, now)
        parts = [
            _case_row(builder, str(choices(key).label) if key in choices.values else key, tally)
            for key, tally in groups.items()
        ]
        total = _case_row(builder, ALL, overall)
        builder.total_row(parts, total, (1, 6, 7))
        built.append(builder)
    _tie(built, lambda b: len(b.rows) - 1, (1, 6, 7))
    return built


def _case_row(builder: _Builder, label: str, tally: _Clocks) -> int:
    def median(values: list[float]) -> float | None:
        return _round(statistics.median(values)) if values else None

    def share(part: int, whole: int) -> float | None:
        return _percent(part / whole) if whole else None

    return builder.add(
        label,
        _Count(tally.count),
        _Derived(median(tally.to_acknowledge), columns=(1,), counts=(len(tally.to_acknowledge),)),
        _Derived(median(tally.to_resolve), columns=(1,), counts=(len(tally.to_resolve),)),
        _Derived(
            share(tally.acknowledged_on_time, tally.acknowledge_due),
            columns=(1,),
            counts=(tally.acknowledge_due,),
        ),
        _Derived(
            share(tally.resolved_on_time, tally.resolve_due),
            columns=(1,),
            counts=(tally.resolve_due,),
        ),
        _Count(tally.open_now),
        _Count(tally.late_now),
    )


# ---- advocates --------------------------------------------------------------------


def advocate_referrals(scope: Scope) -> QuerySet:
    """Referrals received in the period that an advocate brought: through their link
    (FriendReferral) or naming the patient who recommended us (Referral.advocate_patient)."""
    start, end = scope.bounds
    qs = Referral.objects.filter(received_at__gte=start, received_at__lt=end).filter(
        Q(friend_referral__isnull=False) | Q(advocate_patient__isnull=False)
    )
    found = scope.filters
    lookups = {
        "department_id": found.department,
        "source_type": found.source_type,
        "referring_practice_id": found.practice,
    }
    return qs.filter(**{name: value for name, value in lookups.items() if value})


def advocate_table(scope: Scope) -> _Builder:
    start, end = scope.bounds
    enrolled = Advocate.objects.filter(opted_in_at__gte=start, opted_in_at__lt=end).count()
    active = (
        Advocate.objects.filter(opted_in_at__lt=end)
        .filter(Q(opted_out_at__isnull=True) | Q(opted_out_at__gte=end))
        .count()
    )
    brought = advocate_referrals(scope)
    through_link = FriendReferral.objects.filter(referral__in=brought).count()
    total, seen = brought.count(), brought.filter(seen_at__isnull=False).count()
    builder = _Builder("advocates", ("Figure", "Value"))
    builder.add("Advocates enrolled in the period", _Count(enrolled))
    builder.add("Advocates active at the end of the period", _Count(active))
    referrals_row = builder.add("Referrals they brought", _Count(total))
    builder.add("of which through an advocate's link", _Count(through_link))
    seen_row = builder.add("of which seen", _Count(seen))
    builder.add(
        "Share seen (%)",
        _Derived(_percent(seen / total) if total else None),
    )
    share = Cell(builder.key, len(builder.rows) - 1, 1)
    builder.derived[share] = Basis(
        (), (Cell(builder.key, referrals_row, 1), Cell(builder.key, seen_row, 1))
    )
    return builder


# ---- referring offices --------------------------------------------------------------


OFFICE_KEYS = ("ease", "speed", "informed")


def _quarter(at: datetime, scope: Scope) -> str:
    local = at.astimezone(_zone(scope))
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def office_table(scope: Scope) -> _Builder:
    """The office questions' means and answer counts by referring practice and quarter,
    for answers given in the period."""
    start, end = scope.bounds
    answered = Survey.objects.filter(
        audience=Audience.OFFICE,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    )
    answered = _filter_surveys(answered, scope, "")
    rows = answered.values("referring_practice_id", "response__submitted_at", "response__answers")
    groups: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    counted: dict[tuple, int] = defaultdict(int)
    for row in rows:
        key = (row["referring_practice_id"], _quarter(row["response__submitted_at"], scope))
        counted[key] += 1
        for name in OFFICE_KEYS:
            value = (row["response__answers"] or {}).get(name)
            if isinstance(value, int) and 1 <= value <= 5:
                groups[key][name].append(value)
    names = _names(Practice, {practice for practice, _ in counted if practice})
    builder = _Builder(
        "office_scores",
        (
            "Referring practice",
            "Quarter",
            "Responses",
            *(f"Mean {name} (1-5)" for name in OFFICE_KEYS),
            *(f"Answers {name}" for name in OFFICE_KEYS),
            "Note",
        ),
    )
    order = sorted(counted, key=lambda k: (str(names.get(k[0], NOT_RECORDED)).lower(), k[1]))
    for key in order:
        scores = groups[key]
        builder.add(
            names.get(key[0], NOT_RECORDED),
            key[1],
            _Count(counted[key]),
            *(
                _Derived(
                    _round(statistics.fmean(scores[name]), 2) if scores[name] else None,
                    columns=(6 + index,),
                )
                for index, name in enumerate(OFFICE_KEYS)
            ),
            *(_Count(len(scores[name])) for name in OFFICE_KEYS),
            caution(counted[key]),
        )
    return builder


# ---- all of them --------------------------------------------------------------------


def read_scope(params, now) -> tuple[dict, Scope | None, InvalidInput | None]:
    """The feedback filters of the query (the period defaulting to the last 12 months, as on
    the dashboard), its scope, or the error that stopped it."""
    asked = with_default_period({k: params.get(k, "") for k in PARAMS}, now)
    try:
        return asked, parse_scope(asked, now=now), None
    except InvalidInput as error:
        return asked, None, error


def tables_for(user, scope: Scope, now, *, suppressed: bool | None = None) -> list[Table]:
    """The feedback tables as `user` may see them: suppressed for an analyst (and for anyone
    who asks), all of them at once since they repeat each other's totals."""
    found = tables(scope, now=now)
    hide = privacy.applies_to(user) if suppressed is None else suppressed
    return suppress(found) if hide else found


def tables(scope: Scope, *, now: datetime) -> list[Table]:
    """Every feedback table for the scope, in `TABLES` order, with exact figures."""
    built = [
        *satisfaction_tables(scope),
        *review_tables(scope),
        *case_tables(scope, now),
        advocate_table(scope),
        office_table(scope),
    ]
    return [builder.table() for builder in built]
