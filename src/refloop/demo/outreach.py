"""The demo practice's outreach: two liaisons with territories, six months of visits, calls
and drop-offs with the people met, planned visits for the coming fortnight, a lunch-and-learn,
a physician close to the gift limit, and the tasks the signals raise.

Built after the referral history, from it: tiers follow the referrals the replay made, and the
practices the liaisons visit most are the ones that matter to the practice.
"""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from refloop.core.models import User
from refloop.network.models import Practice
from refloop.outreach import events, ledger, signals, tiers
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    EventKind,
    GiftKind,
    OutreachSettings,
    Relationship,
    Task,
    TaskKind,
    Territory,
    Tier,
    Topic,
)
from refloop.referrals.models import Direction, Referral

# Territory name, liaison username, the towns it covers.
TERRITORIES = [
    (
        "West",
        "liaison",
        [
            "Springfield",
            "Chatham",
            "Rochester",
            "Sherman",
            "Jacksonville",
            "Petersburg",
            "Lincoln",
            "Bloomington",
        ],
    ),
    (
        "East",
        "bcallahan",
        ["Taylorville", "Decatur", "Pana", "Litchfield", "Carlinville", "Mattoon"],
    ),
]
MONTHS = 6
VISIT_NOTES = [
    "Dropped off the new spine referral pad; the coordinator keeps it at the front desk.",
    "Office manager asked how fast we see urgent knee injuries; explained the 24-hour slot.",
    "Brought lunch for the team; two MAs asked about our Saturday clinic.",
    "Dr. asked for faster consult notes; promised a report within a week of the visit.",
    "Front desk said patients struggle with our phone tree; passed on to scheduling.",
    "New NP started in March: introduced our hand surgery service.",
    "Referral coordinator prefers e-mail over fax now; updated the contact.",
    "Complaint about a lost fax last month; walked through the portal instead.",
]
CALL_NOTES = [
    "Checked in after the complaint; the coordinator says faxes arrive fine now.",
    "Confirmed next month's visit with the office manager.",
    "Thanked the practice for the recent referrals.",
]
FOLLOW_UPS = [
    "Send the updated referral guidelines",
    "Introduce Dr. Herrera to the new NP",
    "Bring the portal sign-up sheet",
]


def seed_outreach(rng: random.Random, users: dict[str, User], now: datetime, zone) -> dict:
    """Everything above, into a database holding the replayed referrals; returns counts."""
    today = now.astimezone(zone).date()
    OutreachSettings.current()
    territories = _territories(users)
    tiers.refresh_tiers(now)
    relationships = list(
        Relationship.objects.select_related("practice", "territory").order_by("practice__name")
    )
    topics = list(Topic.objects.filter(active=True))
    made = _history(rng, relationships, territories, topics, users, today)
    # Read again: the history set each practice's last visit.
    relationships = list(
        Relationship.objects.select_related("practice", "territory").order_by("practice__name")
    )
    planned = _planned(rng, relationships, today, zone)
    events = _lunch_and_learn(rng, relationships, users, today, zone)
    gifts = _gifts(rng, relationships, users, today)
    tasks = _tasks(rng, relationships, users, now)
    return {
        "activities": made,
        "planned": planned,
        "events": events,
        "gifts": gifts,
        "tasks": tasks,
    }


def _territories(users: dict[str, User]) -> dict[str, Territory]:
    made = {}
    for name, liaison, towns in TERRITORIES:
        territory = Territory.objects.create(name=name, liaison=users[liaison], cities=towns)
        made[name] = territory
        practices = Practice.objects.filter(city__in=towns).values_list("pk", flat=True)
        for pk in practices:
            Relationship.objects.update_or_create(practice_id=pk, defaults={"territory": territory})
    return made


def _liaison_of(relationship: Relationship, users: dict[str, User]) -> User:
    if relationship.territory is not None and relationship.territory.liaison is not None:
        return relationship.territory.liaison
    return users["liaison"]


def _history(rng, relationships, territories, topics, users, today: date) -> int:
    """Six months of activity: in-person visits about as often as each tier's cadence asks
    (a few practices left overdue, as in any real territory), calls and e-mails between."""
    settings = OutreachSettings.current()
    start = today - timedelta(days=30 * MONTHS)
    activities: list[Activity] = []
    people: list[tuple[list[int], list[int], list[int]]] = []
    behind_in: set[int | None] = set()
    for relationship in relationships:
        tier = relationship.tier
        if tier == Tier.PROSPECT and rng.random() < 0.7:
            continue
        cadence = settings.cadence(tier)
        liaison = _liaison_of(relationship, users)
        # A few tier A and B practices fell behind: their last visit is past the cadence
        # (always the first tier A practice of each territory, so the demo shows one).
        first_a = tier == Tier.A and relationship.territory_id not in behind_in
        if first_a:
            behind_in.add(relationship.territory_id)
        behind = first_a or (tier in (Tier.A, Tier.B) and rng.random() < 0.2)
        day = start + timedelta(days=rng.randrange(cadence))
        last_allowed = today - timedelta(days=cadence + rng.randrange(5, 20)) if behind else today
        while day <= last_allowed:
            kind = rng.choices(
                [ActivityKind.VISIT, ActivityKind.DROP_OFF, ActivityKind.LUNCH_AND_LEARN],
                [0.75, 0.2, 0.05],
            )[0]
            activities.append(_activity(rng, relationship, liaison, kind, day, VISIT_NOTES, today))
            people.append(_met(rng, relationship, topics))
            day += timedelta(days=max(7, int(cadence * rng.uniform(0.6, 1.1))))
        for _ in range(rng.randrange(0, 4)):
            day = start + timedelta(days=rng.randrange((today - start).days))
            kind = rng.choice([ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.THANK_YOU_NOTE])
            activities.append(_activity(rng, relationship, liaison, kind, day, CALL_NOTES, today))
            people.append(_met(rng, relationship, topics))
    Activity.objects.bulk_create(activities, batch_size=500)
    _link_people(activities, people)
    for relationship in relationships:
        tiers.note_contact(relationship.practice_id)
    return len(activities)


def _activity(rng, relationship, liaison, kind, day: date, notes, today: date) -> Activity:
    follow = rng.random() < 0.15 and kind == ActivityKind.VISIT
    return Activity(
        kind=kind,
        status=ActivityStatus.DONE,
        practice_id=relationship.practice_id,
        liaison=liaison,
        occurred_on=day,
        notes=rng.choice(notes),
        follow_up=rng.choice(FOLLOW_UPS) if follow else "",
        follow_up_on=day + timedelta(days=14) if follow else None,
        cost=Decimal(rng.choice(["0", "0", "0", "12.50", "24.00"])),
    )


def _met(rng, relationship: Relationship, topics) -> tuple[list[int], list[int], list[int]]:
    practice = relationship.practice
    providers = [p.pk for p in practice.providers.all()]
    staff = [s.pk for s in practice.staff.all()]
    return (
        rng.sample(providers, min(len(providers), rng.choice([0, 1, 1, 2]))),
        rng.sample(staff, min(len(staff), rng.choice([1, 1, 2]))),
        [t.pk for t in rng.sample(topics, min(len(topics), rng.choice([1, 1, 2])))],
    )


def _link_people(activities: list[Activity], people) -> None:
    through = {
        "providers": (Activity.providers.through, "provider_id"),
        "staff": (Activity.staff.through, "staffcontact_id"),
        "topics": (Activity.topics.through, "topic_id"),
    }
    rows: dict[str, list] = defaultdict(list)
    for activity, (providers, staff, topics) in zip(activities, people, strict=True):
        for name, ids in (("providers", providers), ("staff", staff), ("topics", topics)):
            model, column = through[name]
            rows[name] += [model(activity_id=activity.pk, **{column: pk}) for pk in ids]
    for name, (model, _) in through.items():
        model._default_manager.bulk_create(rows[name], batch_size=1000)


def _lunch_and_learn(rng, relationships, users, today: date, zone) -> int:
    """Last month's lunch-and-learn at the busiest tier A practice, its cost shared on the
    ledger among those who came; and next month's CME evening, invitations out."""
    liaison = users["liaison"]
    # The host: an A or B practice visited lately (not one left overdue on purpose).
    settings = OutreachSettings.current()
    hosts = sorted(
        (
            r
            for r in relationships
            if r.tier in (Tier.A, Tier.B)
            and r.last_visit_on
            and not tiers.standing(r, today, settings).overdue
            and r.practice.providers.exists()
        ),
        key=lambda r: (r.tier, -r.last_visit_on.toordinal(), r.practice.name),
    )
    if not hosts:
        return 0
    host = hosts[0].practice
    held = today - timedelta(days=24)
    lunch = events.create_event(
        acting_user=liaison,
        kind=EventKind.LUNCH_AND_LEARN,
        title="Lunch-and-learn: when to refer low back pain",
        starts_at=datetime.combine(held, time(12), tzinfo=zone),
        place=host.name,
        host_practice=host,
    )
    events.invite(
        acting_user=liaison,
        event=lunch,
        providers=host.providers.all(),
        staff=host.staff.all(),
    )
    invited = list(lunch.attendees.order_by("pk"))
    came = [a.pk for a in invited if rng.random() < 0.8] or [invited[0].pk]
    # Shared on the ledger only in a year whose limit is known (see _gifts).
    cost = Decimal("186.40") if ledger.entered_limit(held.year) is not None else Decimal("0")
    events.set_attendance(acting_user=liaison, event=lunch, attended=came, total_cost=cost)
    Activity.objects.create(
        kind=ActivityKind.LUNCH_AND_LEARN,
        practice=host,
        liaison=liaison,
        occurred_on=held,
        event=lunch,
        notes="Dr. Okafor on red flags in back pain; the team asked for the referral pad.",
    )
    tiers.note_contact(host.pk)
    cme = events.create_event(
        acting_user=liaison,
        kind=EventKind.CME,
        title="CME evening: modern hip and knee replacement",
        starts_at=datetime.combine(today + timedelta(days=30), time(18, 30), tzinfo=zone),
        place="Lakeside Orthopedics, Main clinic",
    )
    events.invite(
        acting_user=liaison,
        event=cme,
        providers=[p for r in hosts[:4] for p in r.practice.providers.all()[:2]],
    )
    return 2


def _gifts(rng, relationships, users, today: date) -> int:
    """Meals and small gifts through the year, within the rules; one physician at about 85%
    of the year's limit, so the ledger's warning shows."""
    if ledger.entered_limit(today.year) is None:
        # CMS publishes each year's limit in January and an admin enters it; the demo
        # invents no legal figure, so a demo built in a year not yet entered has no gifts.
        return 0
    liaison = users["liaison"]
    physicians = [
        p
        for r in relationships
        if r.tier in (Tier.A, Tier.B)
        for p in r.practice.providers.all()
        if ledger.is_physician(p.credentials)
    ]
    made = 0
    start = date(today.year, 1, 1)
    for provider in physicians[1:12]:
        day = start + timedelta(days=rng.randrange(max(1, (today - start).days)))
        ledger.record_gift(
            acting_user=liaison,
            recipient=provider,
            given_on=day,
            kind=GiftKind.MEAL,
            description="Lunch for the office (share)",
            value=Decimal(rng.choice(["14.20", "18.75", "22.10"])),
        )
        made += 1
    if physicians:
        close = physicians[0]
        limit = ledger.limit_for(today.year)
        spent = ledger.year_total(close.pk, today.year)
        for day_offset, share in ((60, Decimal("0.45")), (20, Decimal("0.40"))):
            ledger.record_gift(
                acting_user=liaison,
                recipient=close,
                given_on=max(start, today - timedelta(days=day_offset)),
                kind=GiftKind.GIFT if share < Decimal("0.42") else GiftKind.MEAL,
                description="Dinner after the CME evening"
                if share > Decimal("0.42")
                else "Anatomy textbook for the office",
                value=ledger.cents((limit - spent) * share),
            )
            made += 1
    return made


def _tasks(rng, relationships, users, now: datetime) -> int:
    """The tasks the referral side raises (the replay ran with reactions off, so the
    first-referral ones are raised here for the last month's newcomers), each activity's
    follow-up, and a couple made by hand."""
    since = now - timedelta(days=30)
    newcomers = (
        Referral.objects.filter(direction=Direction.INBOUND, received_at__gte=since)
        .exclude(referring_practice__isnull=True)
        .order_by("received_at", "pk")
    )
    raised = 0
    for referral in newcomers:
        raised += len(signals.first_referral_tasks(referral))
    raised += sum(signals.sweep(now=now).values())
    latest = Activity.objects.filter(kind=ActivityKind.VISIT, status=ActivityStatus.DONE).first()
    if latest is not None and not latest.follow_up:
        latest.follow_up, latest.follow_up_on = FOLLOW_UPS[0], latest.occurred_on + timedelta(14)
        latest.save(update_fields=["follow_up", "follow_up_on"])
    for activity in Activity.objects.filter(follow_up_on__gte=now.date() - timedelta(days=30)):
        Task.objects.create(
            kind=TaskKind.FOLLOW_UP,
            title=activity.follow_up,
            owner=activity.liaison,
            due_on=activity.follow_up_on,
            practice_id=activity.practice_id,
            activity=activity,
        )
        raised += 1
    for relationship in relationships[:2]:
        Task.objects.create(
            title=f"Ask {relationship.practice.name} about their new location",
            owner=users["liaison"],
            due_on=now.date() + timedelta(days=rng.randrange(3, 10)),
            practice_id=relationship.practice_id,
            created_by=users["liaison"],
        )
        raised += 1
    return raised


def _planned(rng, relationships, today: date, zone) -> int:
    """Visits planned for the next two weeks, for the liaisons' calendars: the most overdue
    practices of each territory first."""
    made = 0
    settings = OutreachSettings.current()
    due = [tiers.standing(r, today, settings) for r in relationships if r.territory_id]
    due.sort(key=lambda d: -d.overdue_days)
    for offset, standing in enumerate(due[:8]):
        day = today + timedelta(days=1 + offset % 10)
        if day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        starts = datetime.combine(day, time(9 + (offset % 4) * 2), tzinfo=zone)
        relationship = standing.relationship
        liaison = relationship.territory.liaison if relationship.territory else None
        if liaison is None:
            continue
        Activity.objects.create(
            kind=ActivityKind.VISIT,
            status=ActivityStatus.PLANNED,
            practice_id=relationship.practice_id,
            liaison=liaison,
            occurred_on=day,
            starts_at=starts,
        )
        made += 1
    return made
