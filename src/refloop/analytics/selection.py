"""The referrals behind a point of an analytics chart.

`select` reads every drill-down parameter in one place, refuses anything it does not know
with a sentence naming it, and returns the ReferralFact rows the point counted. The
parameters carry only ids, codes and dates, never patient data: they end up in URLs,
browser histories and access logs.

Four populations, as the metrics count them (docs/design.md):

- received (the default): inbound referrals received in the period, `metrics.cohort`;
- appointments=referred|non_referred|all: referrals with an attended or missed
  appointment dated in the period (the show rate);
- closure=closed|not_closed: referrals seen in the period (the loop closure rate);
- outbound=1: outbound referrals sent in the period (leakage).
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from refloop.analytics import metrics, referrers
from refloop.analytics.metrics import (
    LOOP_CLOSURE_HOURS,
    REFERRED_SOURCES,
    Scope,
    cohort,
    inbound,
)
from refloop.analytics.models import (
    FUNNEL_STATES,
    REACHED_BIT,
    AppointmentFact,
    ReferralFact,
)
from refloop.analytics.periods import SCOPE_PARAMS, scope_from, scope_params
from refloop.core.errors import InvalidInput
from refloop.network.models import Practice
from refloop.practice.models import Department, Location
from refloop.referrals.clocks import FIRST_CONTACT, clock_q
from refloop.referrals.lifecycle import LOST
from refloop.referrals.models import (
    CancelReason,
    DeclineReason,
    State,
    UnreachableReason,
)

# What each drill-down parameter selects, in the words the error sentences use.
DRILL_PARAMS = {
    "month": "a month of receipt as yyyymm, e.g. 202603",
    "reached": "a state the referrals have been in",
    "state": "the state the referrals are in now",
    "lost": "1: referrals now declined, unreachable or cancelled",
    "stage": "with lost=1, the state a lost referral was in before it was lost",
    "lost_reason": "with lost=1, the reason code recorded when it was lost",
    "segment": "the segment of the referring practice: loyal, semi_loyal, new, non_referring or receiver",
    "npi": "the referring provider's NPI (10 digits)",
    "provider_rank": "the referring provider's rank by referrals in the period (1 = most)",
    "over_sla": "1: first contact later than the urgency's SLA; 0: within it",
    "contacted": "1: contacted at least once; 0: never contacted",
    "booked": "1: has an appointment; 0: has none",
    "new_patient": "1: the patient's first referral",
    "no_practice": "1: no referring practice named",
    "appointments": "referred, non_referred or all: referrals with an appointment in the period",
    "outcome": "with appointments: attended or no_show",
    "closure": "closed or not_closed: referrals seen in the period, closed within 7 days or not",
    "outbound": "1: outbound referrals sent in the period",
    "in_network": "with outbound=1: 1 in network, 0 out of network",
    "receiving_practice": "with outbound=1: the receiving practice's id",
}
PAGE_PARAMS = ("page", "sort")
ALLOWED = (*SCOPE_PARAMS, *DRILL_PARAMS, *PAGE_PARAMS)

RECEIVED_ONLY = (
    "month",
    "reached",
    "lost",
    "stage",
    "lost_reason",
    "segment",
    "npi",
    "provider_rank",
    "over_sla",
    "contacted",
    "booked",
    "new_patient",
    "no_practice",
)
POPULATION_PARAMS = {"appointments": "appointments", "closure": "closure", "outbound": "outbound"}
NEEDS = {"outcome": "appointments", "in_network": "outbound", "receiving_practice": "outbound"}
# Outbound referrals have no source, channel, referring practice or urgency of ours.
OUTBOUND_FILTERS = ("department", "location")

LOST_REASONS = sorted({*DeclineReason.values, *CancelReason.values, *UnreachableReason.values})
SORTS = {
    "received": "received_at",
    "first_contact": "first_contact_hours",
    "appointment": "appointment_hours",
}
MONTH = re.compile(r"(\d{4})(\d{2})")


@dataclass
class Selection:
    scope: Scope
    population: str  # received, appointments, closure, outbound
    drill: dict[str, str]  # the drill-down parameters given, checked
    queryset: QuerySet  # of ReferralFact
    words: list[str] = field(default_factory=list)  # what is selected, in words
    sort: str = ""
    note: str = ""

    def params(self, **changes) -> dict[str, str]:
        """Scope, drill-down and page parameters that give this selection back."""
        merged = {**scope_params(self.scope), **self.drill}
        if self.sort:
            merged["sort"] = self.sort
        merged.update(changes)
        return {k: str(v) for k, v in merged.items() if v not in (None, "")}


def drill_url(scope: Scope, **selection) -> str:
    """The drill-down page for `scope` narrowed by `selection` (ids, codes, dates only)."""
    params = {**scope_params(scope), **{k: str(v) for k, v in selection.items() if v is not None}}
    return reverse("analytics_drilldown") + "?" + urlencode(params)


def select(params, *, now: datetime) -> Selection:
    """The selection the query parameters describe. Raises InvalidInput naming the first
    parameter that is unknown, malformed or does not go with the others."""
    for name in params:
        if name not in ALLOWED:
            raise InvalidInput(
                f"Unknown parameter {name}: a drill-down takes the period and filters "
                f"({', '.join(SCOPE_PARAMS)}) and {', '.join(DRILL_PARAMS)}.",
                field=name,
            )
    scope = scope_from(params, now)
    drill = {
        name: params.get(name, "").strip() for name in DRILL_PARAMS if params.get(name, "").strip()
    }
    chosen = [name for name in POPULATION_PARAMS if name in drill]
    if len(chosen) > 1:
        raise InvalidInput(
            f"{chosen[1]} cannot be combined with {chosen[0]}: choose one.", field=chosen[1]
        )
    population = chosen[0] if chosen else "received"
    for name, needed in NEEDS.items():
        if name in drill and needed not in drill:
            raise InvalidInput(f"{name} goes with {needed}: {DRILL_PARAMS[name]}.", field=name)
    if population != "received":
        for name in RECEIVED_ONLY:
            if name in drill:
                raise InvalidInput(
                    f"{name} selects among referrals received in the period; "
                    f"it cannot be combined with {population}.",
                    field=name,
                )
    build = {
        "received": _received,
        "appointments": _appointments,
        "closure": _closure,
        "outbound": _outbound,
    }[population]
    selection = Selection(scope, population, drill, ReferralFact.objects.none())
    selection.queryset = build(selection)
    if "state" in drill:
        _choice(drill, "state", State.values)
        selection.queryset = selection.queryset.filter(state=drill["state"])
        selection.words.append(f"now {_human(drill['state'])}")
    selection.sort = _sort(params.get("sort", "").strip(), population)
    return selection


# ---- the populations ----------------------------------------------------------------


def _received(s: Selection) -> QuerySet:
    scope, drill = s.scope, s.drill
    qs = cohort(scope)
    s.words.append(f"Referrals received {period_words(scope)}")
    s.words.extend(_filter_words(scope))
    if "month" in drill:
        month = _month(drill["month"], scope)
        qs = qs.filter(received_month=month)
        s.words.append(f"received in {date(month // 100, month % 100, 1):%B %Y}")
    if "reached" in drill:
        state = _choice(drill, "reached", FUNNEL_STATES)
        bit = REACHED_BIT[state]
        qs = qs.alias(reached_bit=F("reached").bitand(bit)).filter(reached_bit=bit)
        s.words.append(f"that reached {_human(state)}")
    lost = "lost" in drill or "stage" in drill or "lost_reason" in drill
    if "stage" in drill or "lost_reason" in drill:
        _flag(
            drill,
            "lost",
            ones_only=True,
            required_by="stage" if "stage" in drill else "lost_reason",
        )
    if "lost" in drill:
        _flag(drill, "lost", ones_only=True)
    if lost:
        qs = qs.filter(state__in=LOST)
        s.words.append("lost (declined, unreachable or cancelled)")
    if "stage" in drill:
        stage = _choice(drill, "stage", FUNNEL_STATES)
        qs = qs.filter(lost_stage=stage)
        s.words.append(f"lost while {_human(stage)}")
    if "lost_reason" in drill:
        reason = _choice(drill, "lost_reason", LOST_REASONS)
        qs = qs.filter(lost_reason=reason)
        s.words.append(f"for the reason {_human(reason)}")
    if "segment" in drill:
        segment = _choice(drill, "segment", referrers.SEGMENTS)
        ids = [
            pk
            for pk, seg in referrers.segments(scope.period.end, scope.zone).items()
            if seg == segment
        ]
        qs = qs.filter(practice_id__in=ids)
        s.words.append(f"from {_human(segment)} practices (as of {scope.period.end:%-d %b %Y})")
    if "npi" in drill:
        if not re.fullmatch(r"\d{10}", drill["npi"]):
            raise InvalidInput("npi is a referring provider's NPI: 10 digits.", field="npi")
        qs = qs.filter(provider_npi=drill["npi"])
        s.words.append(f"from the provider with NPI {drill['npi']}")
    if "provider_rank" in drill:
        ranking = metrics.provider_ranking(scope)
        rank = _whole(drill, "provider_rank")
        if not 1 <= rank <= len(ranking):
            raise InvalidInput(
                f"provider_rank must be between 1 and {len(ranking)} for this period and these filters.",
                field="provider_rank",
            )
        qs = qs.filter(provider_npi=ranking[rank - 1][0])
        s.words.append(f"from Provider {rank} (by referrals in the period)")
    if "over_sla" in drill:
        late = _flag(drill, "over_sla")
        qs = qs.filter(contacted_within_target(scope.now or timezone.now(), late=late))
        s.words.append(
            "first contacted later than the SLA" if late else "first contacted within the SLA"
        )
    if "contacted" in drill:
        contacted = _flag(drill, "contacted")
        qs = qs.filter(first_contact_hours__isnull=not contacted)
        s.words.append("contacted" if contacted else "never contacted")
    if "booked" in drill:
        booked = _flag(drill, "booked")
        qs = qs.filter(appointment_hours__isnull=not booked)
        s.words.append("with an appointment" if booked else "without an appointment")
    if "new_patient" in drill:
        _flag(drill, "new_patient", ones_only=True)
        qs = qs.filter(first_of_patient=True)
        s.words.append("the patient's first referral")
    if "no_practice" in drill:
        _flag(drill, "no_practice", ones_only=True)
        if scope.filters.practice:
            raise InvalidInput("no_practice cannot be combined with practice.", field="no_practice")
        qs = qs.filter(practice__isnull=True)
        s.words.append("with no referring practice")
    return qs


def _appointments(s: Selection) -> QuerySet:
    scope, drill = s.scope, s.drill
    group = _choice(drill, "appointments", ("referred", "non_referred", "all"))
    start, end = scope.bounds
    appointments = scope.filters.appointments(
        AppointmentFact.objects.filter(
            starts_at__gte=start, starts_at__lt=end, outcome__in=("attended", "no_show")
        )
    )
    if group == "referred":
        appointments = appointments.filter(source_type__in=REFERRED_SOURCES)
    elif group == "non_referred":
        appointments = appointments.exclude(source_type__in=REFERRED_SOURCES)
    outcome = ""
    if "outcome" in drill:
        outcome = _choice(drill, "outcome", ("attended", "no_show"))
        appointments = appointments.filter(outcome=outcome)
    who = {
        "referred": "referred patients",
        "non_referred": "non-referred patients",
        "all": "all patients",
    }
    what = {"attended": "an attended", "no_show": "a missed", "": "an attended or missed"}[outcome]
    s.words.append(f"Referrals of {who[group]} with {what} appointment {period_words(scope)}")
    s.words.extend(_filter_words(scope))
    return ReferralFact.objects.filter(pk__in=appointments.values("referral_id"))


def _closure(s: Selection) -> QuerySet:
    scope, drill = s.scope, s.drill
    closed = _choice(drill, "closure", ("closed", "not_closed")) == "closed"
    start, end = scope.bounds
    qs = scope.filters.referrals(inbound().filter(seen_at__gte=start, seen_at__lt=end))
    if closed:
        qs = qs.filter(report_hours__lte=LOOP_CLOSURE_HOURS)
    else:
        qs = qs.filter(Q(report_hours__isnull=True) | Q(report_hours__gt=LOOP_CLOSURE_HOURS))
    s.words.append(
        f"Referrals seen {period_words(scope)} "
        + (
            "whose loop was closed within 7 days"
            if closed
            else "whose loop was not closed within 7 days"
        )
    )
    s.words.extend(_filter_words(scope))
    return qs


def _outbound(s: Selection) -> QuerySet:
    scope, drill = s.scope, s.drill
    _flag(drill, "outbound", ones_only=True)
    qs = metrics.outbound_sent(scope)
    s.words.append(f"Outbound referrals sent {period_words(scope)}")
    s.words.extend(_filter_words(scope, only=OUTBOUND_FILTERS))
    ignored = [name for name in scope.filters.as_params() if name not in OUTBOUND_FILTERS]
    if ignored:
        s.note = f"The {', '.join(ignored)} filter does not apply to outbound referrals."
    if "in_network" in drill:
        inside = _flag(drill, "in_network")
        qs = (
            qs.exclude(receiving_in_network=False)
            if inside
            else qs.filter(receiving_in_network=False)
        )
        s.words.append(
            "to practices in network (or not recorded)" if inside else "to practices out of network"
        )
    if "receiving_practice" in drill:
        pk = _whole(drill, "receiving_practice")
        name = Practice.objects.filter(pk=pk).values_list("name", flat=True).first()
        if name is None:
            raise InvalidInput(
                f"receiving_practice {pk} does not exist.", field="receiving_practice"
            )
        qs = qs.filter(receiving_practice_id=pk)
        s.words.append(f"to {name}")
    return qs


# ---- checking values ---------------------------------------------------------------


def _choice(drill: dict, name: str, allowed) -> str:
    value = drill[name]
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}.", field=name)
    return value


def _flag(drill: dict, name: str, *, ones_only: bool = False, required_by: str = "") -> bool:
    value = drill.get(name)
    if required_by and value is None:
        raise InvalidInput(f"{required_by} selects lost referrals: add lost=1.", field=required_by)
    allowed = ("1",) if ones_only else ("0", "1")
    if value not in allowed:
        raise InvalidInput(
            f"{name} must be {' or '.join(allowed)}: {DRILL_PARAMS[name]}.", field=name
        )
    return value == "1"


def _whole(drill: dict, name: str) -> int:
    value = drill[name]
    if not value.isdigit():
        raise InvalidInput(f"{name} must be a whole number.", field=name)
    return int(value)


def _month(value: str, scope: Scope) -> int:
    match = MONTH.fullmatch(value)
    if not match or not 1 <= int(match[2]) <= 12:
        raise InvalidInput(
            "month must be a month written yyyymm, for example 202603.", field="month"
        )
    month = int(value)
    if month not in scope.period.months():
        raise InvalidInput(
            f"month {value} is not in the period {period_words(scope)}.", field="month"
        )
    return month


def _sort(value: str, population: str) -> str:
    if not value:
        return ""
    allowed = ["received"] if population == "outbound" else list(SORTS)
    if value.lstrip("-") not in allowed:
        choices = ", ".join(f"{key}, -{key}" for key in allowed)
        raise InvalidInput(f"sort must be one of {choices}.", field="sort")
    return value


def contacted_within_target(now: datetime, *, late: bool = False) -> Q:
    """Facts of referrals first contacted by the target stamped on them when they
    arrived, or (`late`) after it: the first-contact clock's rule (referrals.clocks),
    read through the fact's referral, so an SLA edit does not move past referrals."""
    condition = clock_q(FIRST_CONTACT, "late" if late else "met", now=now, prefix="referral__")
    return Q(first_contact_hours__isnull=False) & condition


# ---- words -------------------------------------------------------------------------


def period_words(scope: Scope) -> str:
    last = scope.period.end - timedelta(days=1)
    return f"from {scope.period.start:%-d %b %Y} to {last:%-d %b %Y}"


def _human(code: str) -> str:
    return code.replace("_", " ")


def _filter_words(scope: Scope, only: tuple[str, ...] | None = None) -> list[str]:
    f = scope.filters
    words = []
    if f.department and (only is None or "department" in only):
        words.append(
            f"to {Department.objects.filter(pk=f.department).values_list('name', flat=True).first()}"
        )
    if f.location and (only is None or "location" in only):
        words.append(
            f"at {Location.objects.filter(pk=f.location).values_list('name', flat=True).first()}"
        )
    if only is None:
        if f.source_type:
            words.append(f"source {_human(f.source_type)}")
        if f.channel:
            words.append(f"by {_human(f.channel)}")
        if f.practice:
            words.append(
                f"from {Practice.objects.filter(pk=f.practice).values_list('name', flat=True).first()}"
            )
        if f.urgency:
            words.append(f"{f.urgency} urgency")
    return words
