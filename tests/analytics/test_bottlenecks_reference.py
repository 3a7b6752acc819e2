"""The bottleneck finder says exactly what it said before its reads were made numeric
(tests/analytics/bottlenecks_before.py), over a varied generated history: the benchmark's
three years of synthetic referrals (bench/analytics_gen.py), with changes planted in
their facts so that there is something to find, in many scopes."""

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count, F

from refloop.analytics import bottlenecks, shifts
from refloop.analytics.facts import rebuild_all
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.analytics.models import AppointmentFact, ReferralFact
from refloop.analytics.referrers import months_before
from refloop.practice.models import Department, Location, Organization
from tests.analytics import bottlenecks_before

BENCH = Path(__file__).resolve().parents[2] / "bench"
# Appended, not prepended: bench/ holds scripts whose names must never shadow a package.
sys.path.append(str(BENCH))

import analytics_gen  # noqa: E402

REFERRALS = 3000


def plant() -> None:
    """Four things that went wrong, each from its own date, in the facts themselves."""
    zone = Organization.current().zone
    day = analytics_gen.NOW.astimezone(zone)
    spine = Department.objects.get(code="spine")
    inbound = ReferralFact.objects.filter(direction="inbound")
    # Spine's first contact three times slower from four months ago.
    inbound.filter(department=spine, received_at__gte=day - timedelta(days=120)).update(
        first_contact_hours=F("first_contact_hours") * 3
    )
    # The busiest practice's referrals declined as outside scope from two months ago.
    busiest = (
        inbound.exclude(practice=None)
        .values("practice_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "practice_id")
        .first()
    )
    practice = busiest["practice_id"]
    recent = inbound.filter(practice_id=practice, received_at__gte=day - timedelta(days=60))
    recent.update(state="declined", lost_reason="outside_scope", lost_stage="received")
    # Half the appointments at one location missed from three months ago.
    location = Location.objects.order_by("pk").first()
    late = AppointmentFact.objects.filter(
        location=location, starts_at__gte=day - timedelta(days=90)
    ).order_by("pk")
    missed = list(late.values_list("pk", flat=True)[::2])
    AppointmentFact.objects.filter(pk__in=missed).update(outcome="no_show")
    # One coordinator's referrals wait twice as long for missing information.
    coordinator = inbound.exclude(assignee=None).order_by("pk").values_list("assignee", flat=True)
    inbound.filter(assignee=coordinator[0], received_at__gte=day - timedelta(days=200)).update(
        dwell_pending_info=F("dwell_pending_info") * 2
    )


class _Writer(analytics_gen.Writer):
    """The bench's writer without its bulk-load settings (SQLite's PRAGMAs cannot change
    inside the test's transaction) and without moving PostgreSQL's sequences past the ids
    it chose (the test's database user may not, and nothing is inserted after it)."""

    def begin(self) -> None:
        pass

    def finish(self) -> None:
        pass


@pytest.fixture
def generated(db):
    analytics_gen.Generator(REFERRALS, seed=19).run(_Writer())
    rebuild_all()
    plant()


def scopes() -> list[tuple[Scope, bool | None]]:
    zone = Organization.current().zone
    end = analytics_gen.NOW.astimezone(zone).date() + timedelta(days=1)
    spine = Department.objects.get(code="spine")
    found = []
    for start in (end - timedelta(days=30), end - timedelta(days=90), months_before(end, 12)):
        for filters in (
            Filters(),
            Filters(department=spine.pk),
            Filters(channel="fax"),
            Filters(urgency="urgent"),
        ):
            for compared in (None, False):
                scope = Scope.of(Period(start, end), filters, now=analytics_gen.NOW)
                found.append((scope, compared))
    return found


def test_the_finder_says_what_it_said_before_in_every_scope(generated, monkeypatch):
    """Every scope's whole answer (sentences, findings with their figures, dates and
    p-values, stages) is the same; again with groups of over 150 samples tested on a
    sample of them, which depends on the order the samples were read in."""
    said = set()
    for most_tested in (shifts.MOST_TESTED, 150):
        monkeypatch.setattr(shifts, "MOST_TESTED", most_tested)
        for scope, compared in scopes():
            now = bottlenecks.find(scope, compared=compared)
            before = bottlenecks_before.find(scope, compared=compared)
            assert now == before, (most_tested, scope, compared)
            said.update(finding["sentence"] for finding in now["findings"])
    # The planted changes are found, so the comparison covers findings, not only silence.
    text = " ".join(said)
    assert "for first contact" in text
    assert "declined" in text and "outside scope" in text
    assert "no-show" in text
