"""Events: invitees, attendance, and the cost shared among those who came on the ledger."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from refloop.core.errors import Conflict, NotAllowed
from refloop.demo import factories as f
from refloop.outreach import events, ledger
from refloop.outreach.models import Attendee, EventKind, GiftEntry, GiftKind

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def people(practice_a):
    return {
        "md": f.ProviderFactory(practice=practice_a, credentials="MD", last_name="Abara"),
        "np": f.ProviderFactory(practice=practice_a, credentials="NP", last_name="Brook"),
        "ma": f.StaffContactFactory(practice=practice_a, name="Cass Diaz"),
    }


@pytest.fixture
def lunch(lia, org, practice_a, people):
    event = events.create_event(
        acting_user=lia,
        kind=EventKind.LUNCH_AND_LEARN,
        title="Back pain: when to refer",
        starts_at=timezone.make_aware(dt.datetime(2026, 4, 14, 12, 0), org.zone),
        host_practice=practice_a,
    )
    events.invite(
        acting_user=lia, event=event, providers=[people["md"], people["np"]], staff=[people["ma"]]
    )
    return event


def attendee(event, person):
    field = "staff" if hasattr(person, "role") and not hasattr(person, "npi") else "provider"
    return Attendee.objects.get(event=event, **{field: person})


def attend(lia, event, *persons, cost):
    return events.set_attendance(
        acting_user=lia,
        event=event,
        attended=[attendee(event, p).pk for p in persons],
        total_cost=D(cost),
    )


def shares(event):
    return sorted(
        (str(e.provider or e.staff), e.value, e.kind, e.given_on)
        for e in GiftEntry.objects.filter(event=event)
    )


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [
        ("90.00", 3, ["30.00", "30.00", "30.00"]),
        ("100.00", 3, ["33.34", "33.33", "33.33"]),
        ("0.02", 3, ["0.01", "0.01", "0.00"]),
        ("10.00", 0, []),
    ],
)
def test_the_cost_is_split_to_the_cent_and_adds_up(total, count, expected):
    parts = events.split(D(total), count)
    assert parts == [D(x) for x in expected]
    assert sum(parts, D("0")) == (D(total) if count else 0)


def test_inviting_twice_keeps_one_invitation(lia, lunch, people):
    assert events.invite(acting_user=lia, event=lunch, providers=[people["md"]]) == 0
    assert lunch.attendees.count() == 3


def test_each_attendee_gets_one_share_on_the_ledger(lia, lunch, people):
    shared = attend(lia, lunch, people["md"], people["np"], people["ma"], cost="150.00")
    assert len(shared.shares) == 3
    rows = shares(lunch)
    assert [r[1] for r in rows] == [D("50.00")] * 3
    assert {r[2] for r in rows} == {GiftKind.EVENT}
    assert {r[3] for r in rows} == {dt.date(2026, 4, 14)}
    md_entry = GiftEntry.objects.get(event=lunch, provider=people["md"])
    assert md_entry.physician is True
    assert "Back pain: when to refer" in md_entry.description


def test_re_sharing_changes_the_shares_and_never_doubles_them(lia, lunch, people):
    attend(lia, lunch, people["md"], people["np"], cost="150.00")
    first = set(GiftEntry.objects.filter(event=lunch).values_list("pk", flat=True))
    attend(lia, lunch, people["md"], people["np"], people["ma"], cost="150.00")
    assert GiftEntry.objects.filter(event=lunch).count() == 3
    assert first <= set(GiftEntry.objects.filter(event=lunch).values_list("pk", flat=True))
    attend(lia, lunch, people["md"], cost="120.00")
    assert shares(lunch) == [(str(people["md"]), D("120.00"), GiftKind.EVENT, dt.date(2026, 4, 14))]
    attend(lia, lunch, people["md"], cost="120.00")
    assert GiftEntry.objects.filter(event=lunch).count() == 1
    attend(lia, lunch, cost="120.00")
    assert not GiftEntry.objects.filter(event=lunch).exists()


def test_a_share_past_a_physicians_limit_is_refused_naming_the_attendee(lia, lunch, people):
    ledger.record_gift(
        acting_user=lia,
        recipient=people["md"],
        given_on=dt.date(2026, 2, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("500.00"),
    )
    attend(lia, lunch, people["np"], cost="60.00")
    with pytest.raises(Conflict) as refused:
        attend(lia, lunch, people["md"], people["np"], cost="71.00")  # $35.50 each
    assert f"The attendee {people['md']}" in refused.value.message
    assert "$535.50" in refused.value.message
    # Nothing changed: attendance, cost and shares are as before.
    lunch.refresh_from_db()
    assert lunch.total_cost == D("60.00")
    assert not attendee(lunch, people["md"]).attended
    assert shares(lunch) == [(str(people["np"]), D("60.00"), GiftKind.EVENT, dt.date(2026, 4, 14))]
    # $35.00 each takes the physician exactly to the limit: accepted, with the warning.
    shared = attend(lia, lunch, people["md"], people["np"], cost="70.00")
    assert len(shared.warnings) == 1
    assert ledger.year_total(people["md"].pk, 2026) == D("535.00")


def test_re_sharing_counts_the_event_share_once_against_the_limit(lia, lunch, people):
    ledger.record_gift(
        acting_user=lia,
        recipient=people["md"],
        given_on=dt.date(2026, 2, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("435.00"),
    )
    attend(lia, lunch, people["md"], cost="100.00")
    # The same $100 shared again is not $200: the old share is replaced, not added.
    attend(lia, lunch, people["md"], cost="100.00")
    assert ledger.year_total(people["md"].pk, 2026) == D("535.00")


def test_event_shares_refuse_a_non_liaison(cora, lunch, people):
    with pytest.raises(NotAllowed):
        attend(cora, lunch, people["md"], cost="10.00")
