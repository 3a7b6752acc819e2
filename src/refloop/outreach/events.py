"""Events for referring practices (lunch-and-learn, CME evening, open house): invitees, who
came, and the cost shared equally among those who came, each share on the gift ledger.

A share goes through the ledger's rules like any gift: a share that would take a physician
past the year's limit refuses the whole attendance, naming the attendee. Attendance or the
cost changed later re-shares: each attendee keeps one entry for the event, its value
changed; people no longer marked as attending lose theirs.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import ledger
from refloop.outreach.models import Attendee, Event, EventKind, GiftEntry, GiftKind
from refloop.practice.models import Organization


def create_event(
    *,
    acting_user: User,
    kind: str,
    title: str,
    starts_at: datetime,
    place: str = "",
    host_practice: Practice | None = None,
    total_cost: Decimal = Decimal("0"),
    now: datetime | None = None,
) -> Event:
    require(acting_user, Capability.WORK_OUTREACH)
    if kind not in EventKind.values:
        raise InvalidInput("Choose the kind of event.", field="kind")
    if not title.strip():
        raise InvalidInput("Give the event a title.", field="title")
    if total_cost < 0:
        raise InvalidInput("The cost cannot be negative.", field="total_cost")
    with transaction.atomic():
        event = Event.objects.create(
            kind=kind,
            title=title.strip(),
            starts_at=starts_at,
            place=place.strip(),
            host_practice=host_practice,
            total_cost=total_cost,
            organizer=acting_user,
        )
        audit.record(
            "event.created", audit.Touch("event", event.pk), actor=acting_user, detail={}, now=now
        )
    return event


def invite(
    *,
    acting_user: User,
    event: Event,
    providers: Iterable[Provider] = (),
    staff: Iterable[StaffContact] = (),
) -> int:
    """Add invitees; those already invited stay as they are. Returns how many were added."""
    require(acting_user, Capability.WORK_OUTREACH)
    with transaction.atomic():
        known_providers = set(event.attendees.values_list("provider_id", flat=True))
        known_staff = set(event.attendees.values_list("staff_id", flat=True))
        new = [Attendee(event=event, provider=p) for p in providers if p.pk not in known_providers]
        new += [Attendee(event=event, staff=s) for s in staff if s.pk not in known_staff]
        Attendee.objects.bulk_create(new)
        if new:
            audit.record(
                "event.invited",
                audit.Touch("event", event.pk),
                actor=acting_user,
                detail={"added": len(new)},
            )
    return len(new)


def split(total: Decimal, count: int) -> list[Decimal]:
    """`total` in `count` equal shares to the cent; the cents left over go one each to the
    first shares, so the shares add up to the total exactly."""
    if count == 0:
        return []
    base = (total / count).quantize(ledger.CENT, rounding=ROUND_DOWN)
    left = int((total - base * count) / ledger.CENT)
    return [base + (ledger.CENT if i < left else 0) for i in range(count)]


def event_day(event: Event) -> date:
    return timezone.localdate(event.starts_at, Organization.current().zone)


@dataclass(frozen=True)
class Shared:
    shares: list[tuple[Attendee, Decimal]]
    removed: int
    warnings: list[str]


def _who(attendee: Attendee) -> Provider | StaffContact:
    person = attendee.provider or attendee.staff
    assert person is not None
    return person


def set_attendance(
    *,
    acting_user: User,
    event: Event,
    attended: Iterable[int],
    total_cost: Decimal,
    now: datetime | None = None,
) -> Shared:
    """Mark who came (Attendee ids) and the event's total cost, and share the cost among them
    on the ledger, all or nothing."""
    require(acting_user, Capability.WORK_OUTREACH)
    now = now or timezone.now()
    if total_cost < 0:
        raise InvalidInput("The cost cannot be negative.", field="total_cost")
    came = set(attended)
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        invitees = list(event.attendees.select_related("provider", "staff").order_by("pk"))
        unknown = came - {a.pk for a in invitees}
        if unknown:
            raise InvalidInput("Mark only people invited to this event.", field="attended")
        for attendee in invitees:
            if attendee.attended != (attendee.pk in came):
                attendee.attended = attendee.pk in came
                attendee.save(update_fields=["attended"])
        event.total_cost = ledger.cents(total_cost)
        event.save(update_fields=["total_cost"])
        shared = _share(acting_user, event, [a for a in invitees if a.attended], now)
        audit.record(
            "event.attendance",
            audit.Touch("event", event.pk),
            actor=acting_user,
            detail={
                "attended": len(shared.shares),
                "total_cost": str(event.total_cost),
                "removed": shared.removed,
            },
            now=now,
        )
    return shared


def _share(acting_user: User, event: Event, came: list[Attendee], now: datetime) -> Shared:
    existing = {(e.provider_id, e.staff_id): e for e in GiftEntry.objects.filter(event=event)}
    values = split(event.total_cost, len(came))
    keep = set()
    shares, warnings = [], []
    label = EventKind(event.kind).label
    description = (
        f"{event.title} ({label}, {event_day(event):%b %-d, %Y}): a share of "
        f"{ledger.money(event.total_cost)} among {len(came)}"
    )
    for attendee, value in zip(came, values, strict=True):
        if value <= 0:
            continue
        key = (attendee.provider_id, attendee.staff_id)
        replacing = existing.get(key)
        keep.add(key)
        person = _who(attendee)
        try:
            recorded = ledger.write_entry(
                acting_user=acting_user,
                person=person,
                given_on=event_day(event),
                kind=GiftKind.EVENT,
                description=description,
                value=value,
                activity=None,
                event=event,
                replacing=replacing,
                who=f"The attendee {person}",
                now=now,
            )
        except ledger.OverLimit as refused:
            raise Conflict(
                f"{refused.message} Nothing was saved: unmark this attendee or change the cost.",
                field="attended",
            ) from None
        shares.append((attendee, value))
        if recorded.warning:
            warnings.append(recorded.warning)
    gone = [e for k, e in existing.items() if k not in keep]
    for entry in gone:
        if hasattr(entry, "overage"):
            raise Conflict(f"{entry} carries an overage; a compliance officer must handle it.")
        audit.record(
            "gift.withdrawn",
            audit.Touch("giftentry", entry.pk),
            actor=acting_user,
            detail={"event": event.pk, "value": str(entry.value)},
            now=now,
        )
        entry.delete()
    return Shared(shares, len(gone), warnings)
