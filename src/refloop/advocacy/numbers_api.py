"""The feedback numbers in the API: the Feedback page's tables for a period and filters,
read-only. Aggregates only, an analyst's copy suppressed as their export is (analytics.privacy);
a bad or unknown parameter answers 422 naming it, as every operation does (refloop.api)."""

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from refloop.advocacy import numbers
from refloop.core.roles import Capability, require
from refloop.core.schemas import Id, IsoDate
from refloop.referrals.models import SourceType

router = Router(tags=["advocacy"])



class NumbersIn(Schema):
    start: IsoDate | None = Field(
        None,
        description=(
            "First day of the period (YYYY-MM-DD, the practice's time). Give start and end "
            "together; without both, the last 12 months, as the Feedback page opens"
        ),
    )
    end: IsoDate | None = Field(None, description="Day after the last one: [start, end)")
    department: Id | None = Field(None, description="Department id")
    location: Id | None = Field(None, description="Location id")
    source_type: SourceType | None = None
    practice: Id | None = Field(None, description="Referring practice id")
    table: str | None = Field(
        None,
        pattern="^(" + "|".join(numbers.TABLES) + ")$",
        description="Only this table (its key); every table when omitted",
    )


class TableOut(Schema):
    key: str
    title: str
    headers: list[str]
    rows: list[list[str | int | float | None]] = Field(
        description='Figures; for an analyst a hidden one reads "<11" or "suppressed"'
    )


class NumbersOut(Schema):
    start: IsoDate
    end: IsoDate
    filters: dict[str, str | int]
    suppressed: bool = Field(description="Whether small cells are hidden in this answer")
    caution: str = Field(description=f"What a row under {numbers.FEW_RESPONSES} answers says")
    tables: list[TableOut]


@router.get("/advocacy/numbers", response={200: NumbersOut})
def advocacy_numbers(request: HttpRequest, query: Query[NumbersIn]):
    """NPS and satisfaction with response rates, review invitations and clicks, cases
    against their clocks, advocates and referring-office scores (the Feedback page's tables)."""
    require(request.user, Capability.VIEW_ANALYTICS)
    now = timezone.now()
    _, scope, error = numbers.read_scope(request.GET, now)
    if error is not None:
        raise error
    assert scope is not None
    wanted = request.GET.get("table")
    found = numbers.tables_for(request.user, scope, now)
    return {
        "start": scope.period.start,
        "end": scope.period.end,
        "filters": scope.filters.as_params(),
        "suppressed": found[0].suppressed,
        "caution": numbers.CAUTION,
        "tables": [
            {"key": t.key, "title": t.title, "headers": list(t.headers), "rows": t.rows}
            for t in found
            if not wanted or t.key == wanted
        ],
    }
