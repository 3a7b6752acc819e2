"""The demo practice: an orthopedic and spine group with 18 months of referral history.

The same data every run: fixed seeds for `random` and Faker drive the practice, its
referral partner directory and every referral's story (only the passwords and the
referral numbers come from `secrets`). Every referral write goes through the real
services with `now` set in the past, so timelines, audit entries and timestamps agree;
side effects (messages, notices) are suppressed for the history.
"""

import os
import random
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import factory
import factory.random
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker

from refloop.analytics import facts
from refloop.analytics.referrers import months_before
from refloop.core import context
from refloop.core.models import Notification, User
from refloop.core.roles import Role
from refloop.demo import advocacy, letters, outreach, partners, planted
from refloop.demo import content as c
from refloop.demo import factories as f
from refloop.demo.faxes import make_packet
from refloop.demo.journeys import Planner
from refloop.demo.plans import ProviderRef, ReceiverRef, Staff
from refloop.intake.pipeline import process_document
from refloop.intake.reading import ocr_available
from refloop.intake.services import ingest
from refloop.network.models import Channel, Practice, Provider, Segment, StaffRole
from refloop.practice.models import Department, Location, Organization
from refloop.referrals import effects, reactions, services, sla, transitions
from refloop.referrals.models import Direction, Referral, ReferralEvent
from refloop.referrals.reports import write_progress_report
from refloop.referrals.transitions import AppointmentInput

SEED = 20_260_302
FULL_SIZE = 2000
STEPS_PER_TRANSACTION = 1500

# username, first name, last name, role, departments, title
STAFF = [
    ("admin", "Maren", "Holt", Role.ADMIN, [], "practice manager"),
    ("coordinator", "Tasha", "Greene", Role.COORDINATOR, ["spine"], "referral coordinator, Spine"),
    ("clinician", "Daniel", "Okafor", Role.CLINICIAN, ["spine", "joint"], "orthopedic surgeon"),
    ("liaison", "Jenna", "Marsh", Role.LIAISON, [], "physician liaison, West territory"),
    ("bcallahan", "Brooke", "Callahan", Role.LIAISON, [], "physician liaison, East territory"),
    ("analyst", "Victor", "Chen", Role.ANALYST, [], "reporting analyst"),
    ("dwhitfield", "Dana", "Whitfield", Role.COORDINATOR, ["joint"], "referral coordinator, Joint"),
    (
        "lortega",
        "Luis",
        "Ortega",
        Role.COORDINATOR,
        ["sports-hand"],
        "referral coordinator, Sports & Hand",
    ),
    ("smercer", "Samuel", "Mercer", Role.CLINICIAN, ["spine"], "physiatrist"),
    ("plindqvist", "Petra", "Lindqvist", Role.CLINICIAN, ["joint"], "joint replacement surgeon"),
    ("rherrera", "Rafael", "Herrera", Role.CLINICIAN, ["sports-hand"], "hand surgeon"),
    ("kbrandt", "Kara", "Brandt", Role.CLINICIAN, ["sports-hand"], "physician assistant"),
]
LOGIN_USERS = ["admin", "coordinator", "clinician", "liaison", "analyst"]
# Staff of the two referring practices that send the most, signed in to the portal: the
# only practices whose referrals arrive through it.
PORTAL_USERS = [("portal-a", "Olivia", "Brooks"), ("portal-b", "Marcus", "Reid")]
COORDINATOR_FOR = {"spine": "coordinator", "joint": "dwhitfield", "sports-hand": "lortega"}


@dataclass
class SeedResult:
    inbound: int
    outbound: int
    seconds: float
    logins: dict[str, str]
    logins_file: Path


def logins_path() -> Path:
    return settings.DATA_DIR / "demo-logins.txt"


def seed_demo(
    *,
    now: datetime | None = None,
    referrals: int = FULL_SIZE,
    outbound: int | None = None,
    logins_file: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Build the demo practice into an empty database; returns counts and the demo logins."""
    started = time.monotonic()
    now = now or timezone.now()
    outbound = max(7, referrals // 50) if outbound is None else outbound
    rng = random.Random(SEED)
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    factory.random.reseed_random(SEED)  # any factory default left unset stays repeatable too

    with transaction.atomic():
        org = _organization()
        departments = _departments()
        logins = {name: secrets.token_urlsafe(12) for name in LOGIN_USERS}
        users = _staff(departments, logins)
        for code, username in COORDINATOR_FOR.items():
            departments[code].point_of_contact = users[username]
            departments[code].save(update_fields=["point_of_contact"])
        practices, providers, provider_refs, receivers = _directory(rng, fake, referrals, now)
        portal, titles = _portal_users(logins, practices, provider_refs, now)
        users.update(portal)

    staff = Staff(
        coordinator_for=COORDINATOR_FOR,
        coordinators=[s[0] for s in STAFF if s[3] == Role.COORDINATOR],
        clinicians={
            d: [u for u, _, _, role, depts, _ in STAFF if d in depts and role == Role.CLINICIAN]
            for d in departments
        },
        locations={d["code"]: d["locations"] for d in c.DEPARTMENTS},
    )
    planner = Planner(
        rng=rng,
        fake=fake,
        zone=org.zone,
        now=now,
        staff=staff,
        providers=provider_refs,
        receivers=receivers,
        max_attempts=org.max_contact_attempts,
        portal_users={
            practices.index(user.partner_practice): name for name, user in portal.items()
        },
        sla_hours={
            "routine": org.sla_routine_hours,
            "urgent": org.sla_urgent_hours,
            "stat": org.sla_stat_hours,
        },
    )
    plans = planner.plan_all(inbound=referrals, outbound=outbound)
    planted.first_referral(planner, plans)
    planted.not_a_fit_run(planner, plans, seed=SEED)
    planted.slow_first_calls(planner, plans)
    lookups = _Lookups(users, departments, practices, providers)
    with context.using(context.RequestContext(channel="web")), effects.suppressed():
        _replay(plans, planner.sweep_times(plans), lookups, progress)
    _settle(now)
    _recent_messages(now)

    titles = {name: f"{role.value} ({title})" for name, _, _, role, _, title in STAFF} | titles
    with effects.suppressed():  # the seed reads the faxes itself; the worker need not
        _document_inbox(now)
    facts.rebuild_all()  # the replay suppressed the per-change rebuilds
    with transaction.atomic():
        outreach.seed_outreach(rng, users, now, org.zone)
    with transaction.atomic():
        advocacy.seed_advocacy(rng, users, now, org.zone)
    path = logins_file or logins_path()
    write_logins(path, logins, titles, now=now)
    return SeedResult(
        inbound=sum(p.direction == "inbound" for p in plans),
        outbound=sum(p.direction == "outbound" for p in plans),
        seconds=time.monotonic() - started,
        logins=logins,
        logins_file=path,
    )


# ---- the practice and its people -----------------------------------------------


def _organization() -> Organization:
    org = f.OrganizationFactory(pk=1)
    for name, value in c.ORGANIZATION.items():
        setattr(org, name, value)
    org.save()
    return Organization.objects.get(pk=1)


def _departments() -> dict[str, Department]:
    locations = {spec["name"]: f.LocationFactory(**spec) for spec in c.LOCATIONS}
    departments = {}
    for spec in c.DEPARTMENTS:
        fields = {k: v for k, v in spec.items() if k != "locations"}
        department = f.DepartmentFactory(**fields)
        department.locations.set([locations[name] for name in spec["locations"]])
        departments[spec["code"]] = department
    return departments


def _staff(departments: dict[str, Department], logins: dict[str, str]) -> dict[str, User]:
    # Hashing is deliberately slow; the threads run it on every core at once.
    with ThreadPoolExecutor(max_workers=len(logins)) as pool:
        hashes = dict(zip(logins, pool.map(make_password, logins.values()), strict=True))
    users = {}
    for username, first, last, role, depts, _title in STAFF:
        users[username] = f.UserFactory(
            username=username,
            first_name=first,
            last_name=last,
            role=role,
            email=f"{username}@lakeside-ortho.example",
            password=factory.Transformer.Force(hashes.get(username) or make_password(None)),
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
            departments=[departments[d] for d in depts],
        )
    return users


def _portal_users(
    logins: dict[str, str], practices: list[Practice], refs: list[ProviderRef], now: datetime
) -> tuple[dict[str, User], dict[str, str]]:
    """portal-a and portal-b, staff of the two practices that refer most; with their titles."""
    sent: dict[int, float] = defaultdict(float)
    for ref in refs:
        sent[ref.practice] += ref.weight
    busiest = sorted((p for p in sent if sent[p] > 0), key=lambda p: (-sent[p], p))
    users, titles = {}, {}
    for (username, first, last), index in zip(PORTAL_USERS, busiest, strict=False):
        practice = practices[index]
        logins[username] = secrets.token_urlsafe(12)
        user = f.UserFactory(
            username=username,
            first_name=first,
            last_name=last,
            role=Role.PORTAL,
            email=f"{username}@{practice.pk}.partners.example",
            password=factory.Transformer.Force(make_password(logins[username])),
            partner_practice=practice,
            date_joined=now - timedelta(days=600),
        )
        users[username] = cast(User, user)
        titles[username] = f"portal (staff of {practice.name})"
    return users, titles


def _recent_messages(now: datetime) -> None:
    """The messages the last three days of the history call for (acknowledgments, reminders
    of coming appointments…), queued as the worker would have: the demo's outbox is not
    empty, and its worker sends what is due to the files under the data folder."""
    recent = ReferralEvent.objects.filter(at__gte=now - timedelta(days=3), at__lte=now)
    with context.using(context.RequestContext(channel="worker")):
        for event in recent.select_related("referral").order_by("pk"):
            reactions.run_now(event, within="refloop.messaging.automation.")
            # The post-visit survey of a visit these days (refloop.demo.advocacy has the rest).
            reactions.run_now(event, within="refloop.advocacy.sending.")


# Synthetic faxes (refloop.demo.faxes) waiting in the document review queue.
DEMO_FAXES = [(7, False), (8, False), (11, True)]  # (seed, scanned); scans need tesseract


def _document_inbox(now: datetime) -> None:
    """A few faxes read and waiting for review, and one damaged file in quarantine."""
    received = now - timedelta(hours=len(DEMO_FAXES) + 1)
    for number, (seed, scanned) in enumerate(DEMO_FAXES, start=1):
        if scanned and not ocr_available():
            continue
        content, extension, _ = make_packet(seed, patients=2, scanned=scanned)
        document = ingest(
            content=content,
            filename=f"fax-{number:04}.{extension}",
            source="watched_folder",
            now=received + timedelta(hours=number),
        )
        process_document(document.pk)
    damaged = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n"
    document = ingest(content=damaged, filename="fax-0009.pdf", source="watched_folder", now=now)
    process_document(document.pk)


def write_logins(
    path: Path, logins: dict[str, str], titles: dict[str, str], *, now: datetime
) -> None:
    """The demo users' passwords, readable by this system user only."""
    lines = [f"# refloop demo logins, created {now:%Y-%m-%d %H:%M} UTC. Keep this file private."]
    lines += [f"{name:<12} {password:<18} {titles[name]}" for name, password in logins.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("\n".join(lines) + "\n")
    path.chmod(0o600)


def read_logins(path: Path | None = None) -> list[str]:
    path = path or logins_path()
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


# ---- the referral partner directory -------------------------------------------


def _directory(rng, fake, referrals: int, now: datetime):
    """About 60 practices and 150 providers at full size; fewer for a small seed."""
    scale = min(1.0, max(0.2, referrals / FULL_SIZE))
    practices: list[Practice] = []
    providers: list[Provider] = []
    refs: list[ProviderRef] = []
    receivers: list[ReceiverRef] = []
    names: set[str] = set()
    npis: set[str] = set()
    for kind in partners.PRACTICE_KINDS:
        count = round(kind.count * scale) or (1 if kind.outbound_target or kind.count >= 5 else 0)
        for _ in range(count):
            practice = _practice(rng, fake, kind, names)
            practices.append(practice)
            if kind.outbound_target:
                receivers.append(ReceiverRef(len(practices) - 1, kind.key, kind.outbound_target))
            for _ in range(rng.randint(*kind.providers)):
                providers.append(_provider(rng, fake, kind, practice, npis))
                refs.append(ProviderRef(len(providers) - 1, len(practices) - 1, kind.key, 0.0))
            for role in _staff_roles(rng):
                _staff_contact(rng, fake, practice, role)
    _referral_weights(rng, refs, now)
    return practices, providers, refs, receivers


def _practice(rng, fake, kind: partners.PracticeKind, names: set[str]) -> Practice:
    for _ in range(50):
        town, postal_code = rng.choice(partners.TOWNS)
        name = rng.choice(kind.names).format(town=town, surname=fake.last_name())
        if name not in names:
            break
    else:
        name = f"{name} {len(names)}"
    names.add(name)
    domain = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
    return f.PracticeFactory(
        name=name,
        address=fake.street_address(),
        city=town,
        state="IL",
        postal_code=postal_code,
        phone=_phone(rng),
        fax=_phone(rng),
        email=f"referrals@{domain}.example",
        preferred_channel=rng.choices(
            [Channel.FAX, Channel.EMAIL, Channel.PHONE, Channel.PORTAL], [0.55, 0.2, 0.15, 0.1]
        )[0],
        best_time=rng.choice(partners.BEST_TIMES),
        notes=rng.choice(partners.STAFF_NOTES[-4:]),
        in_network=rng.random() < kind.in_network,
    )


def _provider(
    rng, fake, kind: partners.PracticeKind, practice: Practice, npis: set[str]
) -> Provider:
    credentials, specialty, taxonomy, _ = rng.choices(
        kind.clinicians, [x[3] for x in kind.clinicians]
    )[0]
    npi = f.npi_from(rng.randrange(10**7, 10**8))
    while npi in npis:
        npi = f.npi_from(rng.randrange(10**7, 10**8))
    npis.add(npi)
    female = rng.random() < 0.5
    first = fake.first_name_female() if female else fake.first_name_male()
    last = fake.last_name()
    return f.ProviderFactory(
        practice=practice,
        npi=npi,
        first_name=first,
        last_name=last,
        credentials=credentials,
        specialty=specialty,
        taxonomy_code=taxonomy,
        phone=practice.phone,
        fax=practice.fax,
        email=f"{first[0]}{last}@{practice.email.split('@')[1]}".lower()
        if rng.random() < 0.4
        else "",
        preferred_channel=rng.choice([Channel.FAX, Channel.PHONE, Channel.EMAIL, ""]),
        best_time=rng.choice(partners.BEST_TIMES) if rng.random() < 0.4 else "",
        notes=rng.choice(partners.PROVIDER_NOTES),
    )


def _staff_roles(rng) -> list[str]:
    roles = [StaffRole.REFERRAL_COORDINATOR] if rng.random() < 0.8 else [StaffRole.FRONT_DESK]
    extra = [
        StaffRole.NURSE,
        StaffRole.MEDICAL_ASSISTANT,
        StaffRole.FRONT_DESK,
        StaffRole.OFFICE_MANAGER,
    ]
    return roles + rng.sample(extra, rng.choice([0, 1, 1, 2]))


def _staff_contact(rng, fake, practice: Practice, role: str) -> None:
    first = fake.first_name_female() if rng.random() < 0.8 else fake.first_name_male()
    f.StaffContactFactory(
        practice=practice,
        name=f"{first} {fake.last_name()}",
        role=role,
        phone=practice.phone,
        fax=practice.fax if role == StaffRole.REFERRAL_COORDINATOR else "",
        email=f"{first.lower()}@{practice.email.split('@')[1]}" if rng.random() < 0.6 else "",
        preferred_channel=rng.choice([Channel.PHONE, Channel.EMAIL, Channel.FAX]),
        best_time=rng.choice(partners.BEST_TIMES),
        notes=rng.choice(partners.STAFF_NOTES),
    )


def _phone(rng) -> str:
    return f"({rng.choice(['217', '217', '309', '618'])}) 555-{rng.randrange(10000):04d}"


def _referral_weights(rng, refs: list[ProviderRef], now: datetime) -> None:
    """A Zipf-like spread (the top fifth send about 80%), a few drifting away, a few new."""
    order = list(range(len(refs)))
    rng.shuffle(order)
    silent = set(order[-max(1, len(order) // 12) :])  # in the directory, never refer
    for rank, index in enumerate(order):
        refs[index].weight = 0.0 if index in silent else (rank + 1) ** -1.2
    by_practice: dict[int, float] = defaultdict(float)
    for ref in refs:
        by_practice[ref.practice] += ref.weight
    ranked = sorted(by_practice, key=lambda p: (-by_practice[p], p))
    top = ranked[: max(3, len(ranked) // 3)]
    declining = rng.sample(top, min(3, len(top) - 1))
    middle = [p for p in ranked[len(ranked) // 3 : 2 * len(ranked) // 3] if p not in declining]
    new = rng.sample(middle, min(2, len(middle)))
    for ref in refs:
        if ref.practice in declining:
            ref.fades_at = now - timedelta(days=rng.randint(100, 130))
        if ref.practice in new:
            ref.starts_at = now - timedelta(days=rng.randint(45, 80))
            ref.weight = max(ref.weight, 0.02) * 3


# ---- replaying the stories ------------------------------------------------------


@dataclass
class _Lookups:
    users: dict[str, User]
    departments: dict[str, Department]
    practices: list[Practice]
    providers: list[Provider]

    def __post_init__(self):
        self.locations = {loc.name: loc.pk for loc in Location.objects.all()}
        self.patients: dict[int, object] = {}  # plan index -> Patient


def _replay(plans, sweeps: list[datetime], lookups: _Lookups, progress) -> None:
    """Every plan's steps in time order, with the SLA sweep where it would have run."""
    queue = [
        (step.at, 0, plan.index, n, plan, step)
        for plan in plans
        for n, step in enumerate(plan.steps)
    ]
    queue += [(at, 1, 0, 0, None, None) for at in sweeps]
    queue.sort(key=lambda item: item[:4])
    for start in range(0, len(queue), STEPS_PER_TRANSACTION):
        with transaction.atomic():
            for at, _, _, _, plan, step in queue[start : start + STEPS_PER_TRANSACTION]:
                if plan is None:
                    with context.using(context.RequestContext(channel="worker")):
                        sla.sweep_sla_breaches(now=at)
                else:
                    _run(plan, step, lookups)
        if progress:
            progress(min(start + STEPS_PER_TRANSACTION, len(queue)), len(queue))


def _appointment(step, lookups: _Lookups) -> AppointmentInput:
    a = step.args
    if "department" not in a:
        return AppointmentInput(starts_at=a["starts_at"])
    return AppointmentInput(
        starts_at=a["starts_at"],
        department_id=lookups.departments[a["department"]].pk,
        location_id=lookups.locations[a["location"]],
        clinician_id=lookups.users[a["clinician"]].pk,
    )


# The steps whose planned arguments are the transition's own, passed as they are.
_TRANSITIONS: dict[str, Callable[..., object]] = {
    "review": transitions.start_review,
    "request_info": transitions.request_info,
    "decline": transitions.decline_referral,
    "contacting": transitions.start_contacting,
    "no_show": transitions.record_no_show,
    "seen": transitions.mark_seen,
    "unreachable": transitions.mark_unreachable,
    "cancel": transitions.cancel_referral,
    "send": transitions.send_outbound,
    "complete": transitions.complete_outbound,
}


def _run(plan, step, lookups: _Lookups) -> None:
    user, a, at, pk = lookups.users.get(step.actor), step.args, step.at, plan.referral_id
    kind = step.kind
    if kind in ("create", "create_out"):
        _create(plan, step, user, lookups)
    elif kind == "assign":
        assignee = lookups.users[a["assignee"]]
        services.assign_referral(pk, acting_user=user, assignee=assignee, now=at)
    elif kind == "attach":
        assert user is not None  # who filed it: the sender, or the coordinator
        services.add_attachment(
            pk,
            acting_user=user,
            upload=letters.document(a["document"]),
            filename=letters.filename(a["document"]),
            kind=a["document"],
            now=at,
        )
    elif kind == "attempt":
        services.record_contact_attempt(pk, acting_user=user, at=at, now=at, **a)
    elif kind == "accept":
        department = lookups.departments[a["department"]] if a.get("department") else None
        transitions.accept_referral(pk, acting_user=user, department=department, now=at)
    elif kind == "schedule":
        transitions.schedule_referral(
            pk, acting_user=user, appointment=_appointment(step, lookups), now=at
        )
    elif kind == "reschedule":
        transitions.reschedule_appointment(
            pk, acting_user=user, appointment=_appointment(step, lookups), now=at
        )
    elif kind == "close":  # the loop is closed with the clinician's report, written first
        assert user is not None  # a person writes the report and closes the loop
        _write_report(pk, user, a["report_summary"], at - timedelta(minutes=30))
        transitions.close_loop(pk, acting_user=user, now=at, **a)
    elif kind in _TRANSITIONS:
        _TRANSITIONS[kind](pk, acting_user=user, now=at, **a)
    else:
        raise ValueError(f"unknown demo step {kind!r}")


def _write_report(pk: int, user: User, summary: str, at: datetime) -> None:
    """The progress report behind a planned summary ("Seen for ... Plan: ...")."""
    findings, _, plan = summary.partition(" Plan: ")
    write_progress_report(
        pk, acting_user=user, findings=findings, plan=plan or "Follow-up as discussed.", now=at
    )


def _create(plan, step, user: User, lookups: _Lookups) -> None:
    fields = dict(plan.create)
    patient = plan.patient if plan.patient is not None else lookups.patients[plan.patient_of]
    code = fields.pop("department")
    department = lookups.departments[code] if code else None
    practice = fields.pop("practice")
    practice = lookups.practices[practice] if practice is not None else None
    if plan.direction == Direction.OUTBOUND:
        referral = services.create_outbound_referral(
            acting_user=user,
            patient=patient,
            receiving_practice=practice,
            department=department,
            now=step.at,
            **fields,
        )
    else:
        provider = fields.pop("provider")
        assignee = fields.pop("assignee")
        referral, _ = services.create_inbound_referral(
            acting_user=user,
            patient=patient,
            department=department,
            referring_practice=practice,
            referring_provider=lookups.providers[provider] if provider is not None else None,
            assignee=lookups.users[assignee] if assignee else None,
            advocate_patient=lookups.patients.get(plan.advocate_of),
            received_at=step.at,
            now=step.at,
            **fields,
        )
    plan.referral_id = referral.pk
    lookups.patients[plan.index] = referral.patient


# ---- after the history ------------------------------------------------------------


def _settle(now: datetime) -> None:
    """Staff read their old notices; each practice gets its relationship segment."""
    Notification.objects.filter(
        created_at__lt=now - timedelta(days=2), read_at__isnull=True
    ).update(read_at=F("created_at") + timedelta(hours=3))
    zone = Organization.current().zone
    received = defaultdict(list)
    rows = Referral.objects.filter(direction=Direction.INBOUND, referring_practice__isnull=False)
    for practice_id, at in rows.values_list("referring_practice_id", "received_at"):
        received[practice_id].append(at)
    sent_to = set(
        Referral.objects.filter(direction=Direction.OUTBOUND, receiving_practice__isnull=False)
        .values_list("receiving_practice_id", flat=True)
        .distinct()
    )
    today = now.astimezone(zone).date()
    edges = [months_before(today, months) for months in (12, 9, 6, 3, 0)]
    segments: dict[str, list[int]] = defaultdict(list)
    for practice_id in Practice.objects.values_list("pk", flat=True):
        dates = [at.astimezone(zone).date() for at in received[practice_id]]
        blocks = Counter(
            next(i for i in range(4) if edges[i] <= d < edges[i + 1])
            for d in dates
            if edges[0] <= d < edges[4]
        )
        if dates and min(dates) > today - timedelta(days=90):
            segment = Segment.NEW
        elif len(blocks) >= 3:
            segment = Segment.LOYAL
        elif blocks:
            segment = Segment.SEMI_LOYAL
        elif not dates and practice_id in sent_to:
            segment = Segment.RECEIVER
        else:
            segment = Segment.NON_REFERRING
        segments[segment].append(practice_id)
    for segment, ids in segments.items():
        Practice.objects.filter(pk__in=ids).update(segment=segment)
