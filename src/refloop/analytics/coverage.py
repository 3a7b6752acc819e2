"""What the data covers: from the first referral on record (imported history included, as
it is in the facts) to today. A period the data only partly covers is said to be partial,
its months are marked, and it is never compared with another period as if it were whole.

The rule, the same for the tiles, the bottlenecks, the referrers (page, API, exports) and
the monthly report: two periods are compared only when the data covers both entirely;
otherwise the comparison is withheld, with a sentence saying why.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Min

from refloop.analytics.metrics import Period, Scope, once
from refloop.analytics.models import ReferralFact


def first_day(zone) -> date | None:
    """The local date of the first referral on record, inbound or outbound (an imported
    history's first row counts: the history app builds its facts too)."""

    def read() -> date | None:
        # Per direction, so each minimum is one probe of the (direction, received_at) index.
        firsts = [
            ReferralFact.objects.filter(direction=direction).aggregate(first=Min("received_at"))[
                "first"
            ]
            for direction in ("inbound", "outbound")
        ]
        known = [first for first in firsts if first is not None]
        return min(known).astimezone(zone).date() if known else None

    return once("first_day", zone, read)


def _words(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


@dataclass(frozen=True)
class Coverage:
    """The data covers [start, end): the first day on record to today included (today
    counts to date). `start` is None when nothing is on record yet."""

    start: date | None
    end: date

    @classmethod
    def of(cls, scope: Scope) -> "Coverage":
        now = scope.now or datetime.now(scope.zone)  # type: ignore[arg-type]
        today = now.astimezone(scope.zone).date()  # type: ignore[arg-type]
        return cls(first_day(scope.zone), today + timedelta(days=1))

    def part(self, period: Period) -> Period | None:
        """The part of `period` the data covers, or None when it covers none of it."""
        if self.start is None:
            return None
        start, end = max(period.start, self.start), min(period.end, self.end)
        return Period(start, end) if start < end else None

    def covers(self, period: Period) -> bool:
        return self.part(period) == period

    def months(self, period: Period) -> list[dict]:
        """Per local month `period` touches: the days counted (the period and the data
        both cover them) and whether that is less than the whole month (`partial`), with
        a label saying which days, e.g. "Dec 2026 (to 6 Dec)"."""
        rows = []
        for yyyymm in period.months():
            first = date(yyyymm // 100, yyyymm % 100, 1)
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            counted = self.part(Period(max(first, period.start), min(after, period.end)))
            partial = counted != Period(first, after)
            label = f"{first:%b %Y}"
            if counted is None:
                label += " (no data)"
            elif partial:
                last = counted.end - timedelta(days=1)
                if counted.start == first:
                    label += f" (to {_short(last)})"
                elif counted.end == after:
                    label += f" (from {_short(counted.start)})"
                else:
                    label += f" ({counted.start.day}–{_short(last)})"
            rows.append(
                {
                    "month": yyyymm,
                    "label": label,
                    "partial": partial,
                    "counted_from": counted.start if counted else None,
                    "counted_to": counted.end if counted else None,
                }
            )
        return rows


def comparison(scope: Scope) -> dict:
    """Whether the scope's period is compared with the one before it, and the sentence
    saying why not when it is not. Keys: compared, note, data_from, previous_start,
    previous_end (exclusive)."""
    coverage = Coverage.of(scope)
    current, previous = scope.period, scope.period.previous()
    found = {
        "compared": False,
        "note": "",
        "data_from": coverage.start,
        "previous_start": previous.start,
        "previous_end": previous.end,
    }
    span = f"{_words(previous.start)} to {_words(previous.end - timedelta(days=1))}"
    if coverage.start is None:
        found["note"] = "No referrals are on record yet, so there is nothing to compare."
    elif coverage.part(previous) is None:
        found["note"] = (
            f"Not compared with the period before ({span}): the data starts on "
            f"{_words(coverage.start)}, after it."
        )
    elif not coverage.covers(previous):
        found["note"] = (
            f"Not compared: the period before ({span}) is only partly covered, with data "
            f"from {_words(coverage.start)}, so its figures would count fewer days."
        )
    elif not coverage.covers(current):
        found["note"] = (
            f"Not compared: this period runs past today ({_words(coverage.end - timedelta(days=1))}), "
            "so it counts fewer days than the period before."
        )
    else:
        found["compared"] = True
    return found
