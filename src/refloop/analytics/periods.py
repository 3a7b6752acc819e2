"""The period a dashboard or drill-down page shows: the quick choices, the default (the last
12 months) and the query parameters that carry a scope from one analytics page to the next."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from refloop.analytics.metrics import Scope, parse_scope
from refloop.analytics.referrers import months_before
from refloop.practice.models import Organization

SCOPE_PARAMS = (
    "start",
    "end",
    "department",
    "location",
    "source_type",
    "channel",
    "practice",
    "urgency",
)
DEFAULT_CHOICE = "last_12_months"


def quick_choices(today: date) -> list[dict]:
    """(key, label, start, end) of each quick choice; `end` is the day after the last one."""
    tomorrow = today + timedelta(days=1)
    this_year = date(today.year, 1, 1)
    return [
        {
            "key": "last_30_days",
            "label": "Last 30 days",
            "start": tomorrow - timedelta(days=30),
            "end": tomorrow,
        },
        {
            "key": "last_90_days",
            "label": "Last 90 days",
            "start": tomorrow - timedelta(days=90),
            "end": tomorrow,
        },
        {
            "key": "last_12_months",
            "label": "Last 12 months",
            "start": months_before(tomorrow, 12),
            "end": tomorrow,
        },
        {"key": "this_year", "label": "This year", "start": this_year, "end": tomorrow},
        {
            "key": "last_year",
            "label": "Last year",
            "start": date(today.year - 1, 1, 1),
            "end": this_year,
        },
    ]


def local_today(now: datetime) -> date:
    return now.astimezone(Organization.current().zone).date()


def with_default_period(params, now: datetime) -> dict[str, str]:
    """The scope parameters of `params` (a QueryDict or dict), the period defaulting to the
    last 12 months when neither start nor end is given."""
    values = {name: (params.get(name) or "").strip() for name in SCOPE_PARAMS}
    if not values["start"] and not values["end"]:
        default = next(c for c in quick_choices(local_today(now)) if c["key"] == DEFAULT_CHOICE)
        values["start"], values["end"] = default["start"].isoformat(), default["end"].isoformat()
    return {name: value for name, value in values.items() if value}


def scope_from(params, now: datetime) -> Scope:
    """A Scope from query parameters; raises InvalidInput naming the parameter at fault."""
    return parse_scope(with_default_period(params, now), now=now)


def scope_params(scope: Scope) -> dict[str, str]:
    """The query parameters that give back `scope` (only ids, codes and dates)."""
    params = {"start": scope.period.start.isoformat(), "end": scope.period.end.isoformat()}
    params.update({name: str(value) for name, value in scope.filters.as_params().items()})
    return params


def query(params: dict) -> str:
    """`?a=1&b=2` for the non-empty values, or "" when there are none."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""
