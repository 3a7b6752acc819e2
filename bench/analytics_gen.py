"""Synthetic referral history for the analytics benchmark: three years of inbound referrals
(plus ~2% outbound) from 10,000 referring providers in 2,500 practices, written straight
into refloop's own tables in bulk and deterministic for a seed.

The practice is as `dashboard.build` sees it in production: a Zipf-like network where a
few practices send most referrals (some growing, some fading away, some new, some that
stopped), three departments at two locations, every lifecycle path (review, pending-info
round trips, declines, contact attempts, unreachable patients, booking, reschedules,
no-shows and rebooking, visits with a value, reports back, cancellations at any stage) with
durations that depend on urgency, and ~0.85 patients per referral (some return, a few are
registered twice under the same name and birth date).

Rows go in with COPY on PostgreSQL and executemany on SQLite, 50,000 referrals per
transaction, with ids chosen here; the ORM would spend minutes per million in Python. The
facts are then built by refloop itself (`facts.rebuild_all`), which the benchmark times.
"""

import bisect
import datetime as dt
import functools
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# "Now" for the whole history and for every scope measured: fixed, so two runs (and the
# two databases) see the same data and the same periods.
NOW = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
NOW_TS = NOW.timestamp()
YEARS = 3
TIME_ZONE = "America/New_York"
PRACTICES = 2_500
PROVIDERS = 10_000
CHUNK = 50_000  # referrals per write (and per transaction): bounded memory at a million
OUTBOUND_SHARE = 0.02
PATIENT_RETURNS = 0.15  # a referral for a patient already on file
PATIENT_RE_REGISTERED = 0.02  # a new patient row for someone on file (same name and DOB)
HOUR = 3600.0
DAY = 24 * HOUR

# (code, name, share of referrals, decline rate, ICD-10 codes with a reason, visit value median)
DEPARTMENTS = (
    (
        "spine",
        "Spine Center",
        45,
        0.14,
        (
            ("M54.16", "Low back pain radiating to the left leg for six weeks"),
            ("M51.26", "Lumbar disc herniation on MRI, failed physical therapy"),
            ("M48.061", "Neurogenic claudication, spinal stenosis"),
            ("M54.2", "Neck pain with arm numbness"),
        ),
        420.0,
    ),
    (
        "joint",
        "Joint Replacement",
        30,
        0.09,
        (
            ("M17.11", "Right knee osteoarthritis, evaluate for arthroplasty"),
            ("M16.11", "Left hip osteoarthritis, night pain"),
            ("M25.561", "Chronic right knee pain, injections no longer help"),
        ),
        650.0,
    ),
    (
        "sports",
        "Sports Medicine",
        25,
        0.07,
        (
            ("S83.511A", "ACL tear playing soccer, knee unstable"),
            ("M75.101", "Rotator cuff tear suspected, weak abduction"),
            ("S43.431A", "Labral tear of the shoulder after a fall"),
        ),
        260.0,
    ),
)
LOCATIONS = (("Main Campus", "Springfield"), ("North Clinic", "Riverton"))
# Where each department sees patients: share at the main campus.
MAIN_CAMPUS_SHARE = (0.7, 0.55, 0.4)

SOURCES = {"provider": 72, "patient": 8, "self": 11, "marketing": 6, "other": 3}
CHANNELS = {
    "provider": {
        "fax": 40,
        "portal": 20,
        "hl7": 8,
        "fhir": 5,
        "email": 7,
        "phone": 10,
        "api": 5,
        "web_form": 3,
        "import": 2,
    },
    "patient": {"phone": 55, "web_form": 35, "walk_in": 10},
    "self": {"phone": 50, "web_form": 40, "walk_in": 10},
    "marketing": {"web_form": 70, "phone": 30},
    "other": {"phone": 60, "email": 40},
}
URGENCIES = {"routine": 82, "urgent": 15, "stat": 3}
# How much faster each urgency moves through review, contact and booking.
SPEED = {"routine": 1.0, "urgent": 0.4, "stat": 0.12}
SLA_HOURS = {"stat": 4, "urgent": 24, "routine": 48}
SEASON = (1.05, 1.0, 1.08, 1.02, 1.0, 0.95, 0.88, 0.92, 1.03, 1.06, 0.97, 0.82)  # Jan..Dec
GROWTH_PER_YEAR = 1.08
DECLINE_REASONS = {
    "not_clinically_indicated": 25,
    "outside_scope": 25,
    "insurance_not_accepted": 20,
    "no_capacity": 10,
    "incomplete_information": 10,
    "duplicate": 5,
    "other": 5,
}
CANCEL_BEFORE_ACCEPT = {
    "referrer_request": 50,
    "duplicate": 25,
    "entered_in_error": 15,
    "other": 10,
}
CANCEL_LATER = {"patient_request": 60, "care_elsewhere": 30, "referrer_request": 10}
UNSUCCESSFUL = {
    "no_answer": 45,
    "left_voicemail": 35,
    "busy": 8,
    "message_sent": 10,
    "wrong_number": 2,
}
CAMPAIGNS = ("Spring back-pain seminar", "Runner's knee clinic ads", "Joint health webinar")
OTHER_SOURCES = ("Employer health fair", "Insurance nurse line", "Community event")

FIRST_NAMES = (
    "Ava Ben Cleo Dev Elif Finn Gia Hugo Iris Jon Kai Lena Milo Nia Omar Pia Quinn Rosa Sam "
    "Tara Uma Vik Wes Xena Yara Zane Abel Bea Cruz Dora Eli Fay Gus Hana Ivo Jada Kofi Lila "
    "Mae Ned Oona Paz Rhea Saul Tess Ugo Vera Walt Yuri Zoe Amir Bo Cyra Dean Enzo Flor Gwen "
    "Hal Ines Joel Kira Lev Mila Noor Otto Priya Ravi Sina Theo Una Vito Wren Ximena Yoel Zara"
).split()
LAST_NAMES = (
    "Abbott Baker Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Moreau Novak "
    "Okafor Patel Quist Rossi Singh Tanaka Ueda Vogel Walsh Xu Young Zimmer Adler Brooks "
    "Castro Dubois Eriksen Ferreira Gupta Hansen Ibarra Jovanovic Kowalski Lindqvist Mendes "
    "Nakamura Oliveira Petrov Quinones Ramirez Schmidt Takahashi Urbina Varga Weber Yilmaz "
    "Zhang Alvarez Bianchi Costa Dimitrov Esposito Fontaine Greco Horvat Iyer Jimenez Kim "
    "Larsen Moretti Nguyen Ortiz Pereira Reyes Santos Torres Ulrich Vasquez Wong Yamamoto"
).split()
PRACTICE_WORDS = (
    "Lakeside Riverside Hillcrest Oakwood Maple Prairie Cedar Summit Valley Harbor Pine "
    "Meadow Northgate Westfield Eastview Southpoint Brookside Fairview Kingsley Ashford"
).split()
PRACTICE_KINDS = (
    "Family Medicine",
    "Internal Medicine",
    "Primary Care",
    "Pediatrics",
    "Urgent Care",
    "Physical Therapy",
    "Chiropractic",
    "Rheumatology",
    "Pain Management",
    "Health Partners",
)
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def referral_number(serial: int) -> str:
    """Unique and random-looking: an odd multiplier permutes 0..32^8-1."""
    n = (serial * 0x5DEECE66D + 0x2545F491) % (32**8)
    chars = []
    for _ in range(8):
        n, digit = divmod(n, 32)
        chars.append(NUMBER_ALPHABET[digit])
    return f"R-{''.join(chars[:4])}-{''.join(chars[4:])}"


def npi(serial: int) -> str:
    """A valid NPI (Luhn check digit over the 80840 prefix) for each serial, no repeats."""
    from refloop.network.npi import check_digit

    first_nine = f"1{(serial * 7_654_321 + 12_345) % 100_000_000:08d}"
    return first_nine + check_digit(first_nine)


class Weighted:
    """Draws from fixed weights by bisecting their running sums (rng.choices per draw
    rebuilds them every time)."""

    def __init__(self, items, weights) -> None:
        self.items = list(items)
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    @classmethod
    def of(cls, mapping: dict) -> "Weighted":
        return cls(mapping.keys(), mapping.values())

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


# --- the directory ------------------------------------------------------------------------


@dataclass
class PracticeProfile:
    pk: int
    weight: float  # base share of provider referrals (Zipf by rank)
    kind: str  # steady, declining, churned, new, growing, directory_only
    start_month: int = 0
    stop_month: int = 10**6
    decline_to: float = 1.0
    department: int = 0  # where it sends most
    providers: list[tuple[int, str]] = field(default_factory=list)  # (pk, npi)
    provider_pick: Weighted | None = None


def months_between(start: dt.datetime, end: dt.datetime) -> list[tuple[float, float, int]]:
    """(start ts, end ts, calendar month 1-12) of each UTC month the span touches."""
    spans = []
    cursor = start
    while cursor < end:
        year, month = (
            (cursor.year + 1, 1) if cursor.month == 12 else (cursor.year, cursor.month + 1)
        )
        edge = min(dt.datetime(year, month, 1, tzinfo=dt.UTC), end)
        spans.append((cursor.timestamp(), edge.timestamp(), cursor.month))
        cursor = edge
    return spans


class Generator:
    def __init__(self, referrals: int, *, seed: int = 20261120) -> None:
        self.size = referrals
        self.rng = random.Random(seed)
        self.start = NOW - dt.timedelta(days=round(365.25 * YEARS))
        self.months = months_between(self.start, NOW)
        self.stats: dict = {}
        from refloop.patients.models import birth_key, last_name_key, name_key

        self.name_key = functools.lru_cache(maxsize=None)(name_key)
        self.last_name_key = functools.lru_cache(maxsize=None)(last_name_key)
        self.birth_key = functools.lru_cache(maxsize=None)(
            lambda born: birth_key(dt.date.fromisoformat(born))
        )

    # -- setup through the ORM (a few thousand rows) -----------------------------------

    def directory(self) -> None:
        from refloop.core.models import User
        from refloop.core.roles import Role
        from refloop.network.models import Practice, Provider
        from refloop.practice.models import Department, Location, Organization

        rng = self.rng
        Organization.objects.update_or_create(
            pk=1, defaults={"name": "Lakeside Orthopedics & Spine", "time_zone": TIME_ZONE}
        )
        locations = [Location.objects.create(name=n, city=c, state="IL") for n, c in LOCATIONS]
        self.location_ids = [loc.pk for loc in locations]
        self.department_ids = []
        for code, name, *_ in DEPARTMENTS:
            department = Department.objects.create(code=code, name=name)
            department.locations.set(locations)
            self.department_ids.append(department.pk)
        staff = []
        for i in range(10):
            staff.append(
                User(
                    username=f"coordinator-{i}",
                    role=Role.COORDINATOR,
                    first_name=FIRST_NAMES[i],
                    last_name=LAST_NAMES[-i - 1],
                )
            )
        for code, *_ in DEPARTMENTS:
            staff.append(User(username=f"clinician-{code}", role=Role.CLINICIAN))
        staff.append(User(username="bench-admin", role=Role.ADMIN))
        for user in staff:
            user.set_unusable_password()
        User.objects.bulk_create(staff)
        users = {u.username: u.pk for u in User.objects.all()}
        self.coordinators = [(users[f"coordinator-{i}"], f"coordinator-{i}") for i in range(10)]
        self.coordinator_pick = Weighted(self.coordinators, [14, 13, 12, 11, 10, 10, 9, 8, 7, 6])
        self.clinicians = [users[f"clinician-{code}"] for code, *_ in DEPARTMENTS]

        practices = []
        for i in range(PRACTICES):
            practices.append(
                Practice(
                    name=f"{PRACTICE_WORDS[i % len(PRACTICE_WORDS)]} "
                    f"{PRACTICE_KINDS[(i // len(PRACTICE_WORDS)) % len(PRACTICE_KINDS)]}"
                    + (
                        f" {i // (len(PRACTICE_WORDS) * len(PRACTICE_KINDS)) + 1}"
                        if i >= 200
                        else ""
                    ),
                    city=LOCATIONS[i % 2][1],
                    state="IL",
                    in_network=rng.random() < 0.4,
                    fax=f"(217) 555-{i % 10_000:04d}",
                )
            )
        Practice.objects.bulk_create(practices, batch_size=1000)
        practice_ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
        self.in_network = dict(Practice.objects.values_list("pk", "in_network"))

        # Zipf-like: rank r sends in proportion to 1/r, so the top fifth sends ~80%.
        ranks = list(range(1, PRACTICES + 1))
        rng.shuffle(ranks)
        last = len(self.months) - 1
        department_pick = Weighted(range(len(DEPARTMENTS)), [d[2] for d in DEPARTMENTS])
        self.profiles: list[PracticeProfile] = []
        for pk, rank in zip(practice_ids, ranks, strict=True):
            roll = rng.random()
            profile = PracticeProfile(pk=pk, weight=1.0 / rank, kind="steady")
            if rank > 3:
                if roll < 0.04:
                    profile.kind, profile.weight = "directory_only", 0.0
                elif roll < 0.07:
                    profile.kind, profile.start_month = "new", last - rng.randrange(6)
                elif roll < 0.13:
                    profile.kind, profile.decline_to = "declining", rng.uniform(0.05, 0.35)
                elif roll < 0.18:
                    profile.kind, profile.stop_month = "churned", rng.randrange(6, last - 10)
                elif roll < 0.22:
                    profile.kind = "growing"
            profile.department = department_pick.draw(rng)
            self.profiles.append(profile)

        # Every practice has a provider; the other 7,500 go where the volume is.
        providers = []
        owners = list(range(PRACTICES))
        extra = Weighted(range(PRACTICES), [math.sqrt(p.weight) + 0.02 for p in self.profiles])
        owners += [extra.draw(rng) for _ in range(PROVIDERS - PRACTICES)]
        for serial, owner in enumerate(owners):
            providers.append(
                Provider(
                    practice_id=self.profiles[owner].pk,
                    npi=npi(serial),
                    first_name=FIRST_NAMES[serial % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[(serial * 7) % len(LAST_NAMES)],
                    credentials=("MD", "DO", "NP", "PA-C")[serial % 4],
                )
            )
        Provider.objects.bulk_create(providers, batch_size=2000)
        by_practice: dict[int, list[tuple[int, str]]] = {}
        for pk, practice_id, number in Provider.objects.order_by("pk").values_list(
            "pk", "practice_id", "npi"
        ):
            by_practice.setdefault(practice_id, []).append((pk, number))
        for profile in self.profiles:
            profile.providers = by_practice[profile.pk]
            # One or two providers of a practice send most of its referrals.
            profile.provider_pick = Weighted(
                profile.providers, [1.0 / (i + 1) ** 1.2 for i in range(len(profile.providers))]
            )
        # Outbound referrals go to a few hundred specialist practices.
        self.receivers = [p for p in self.profiles if p.kind != "directory_only"][:300]

        # Per month: running sums of the practices' weights for that month.
        self.practice_pick = []
        for m in range(len(self.months)):
            weights = []
            for p in self.profiles:
                weights.append(p.weight * self._factor(p, m, last) * rng.lognormvariate(0, 0.12))
            self.practice_pick.append(Weighted(self.profiles, weights))

    @staticmethod
    def _factor(p: PracticeProfile, m: int, last: int) -> float:
        if p.kind == "directory_only" or m < p.start_month or m > p.stop_month:
            return 0.0
        if p.kind == "new":
            return min(1.0, 0.4 + 0.3 * (m - p.start_month))
        if p.kind == "declining" and m > last - 5:
            # from full volume five months ago down to decline_to this month
            return 1.0 - (1.0 - p.decline_to) * (m - (last - 5)) / 5
        if p.kind == "growing":
            return 0.5 + m / last
        return 1.0

    # -- the referrals -----------------------------------------------------------------

    def referral_counts(self) -> list[int]:
        """Inbound referrals per month: growth, seasons, partial first and last months."""
        weights = []
        for i, (start, end, month) in enumerate(self.months):
            weights.append(
                (end - start) / (30 * DAY) * SEASON[month - 1] * GROWTH_PER_YEAR ** (i / 12)
            )
        total = sum(weights)
        exact = [self.size * w / total for w in weights]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
        for i in by_remainder[: self.size - sum(counts)]:
            counts[i] += 1
        return counts

    def arrival(self, start: float, end: float) -> float:
        """A business-hours-heavy moment in [start, end)."""
        rng = self.rng
        for _ in range(3):
            t = rng.uniform(start, end)
            day = dt.datetime.fromtimestamp(t, dt.UTC)
            if day.weekday() < 5 or rng.random() < 0.15:
                break
        midnight = t - (t % DAY)
        hour = rng.triangular(12.5, 23.5, 15.5) if rng.random() < 0.9 else rng.uniform(0, 24)
        return min(max(midnight + hour * HOUR + rng.uniform(0, 59), start), end - 1)

    def run(self, writer: "Writer", progress: Callable[[int, int], None] | None = None) -> dict:
        started = time.monotonic()
        self.directory()
        self.ids = {"patient": 0, "referral": 0, "event": 0, "attempt": 0, "appointment": 0}
        self.patients: list[int] = []  # every patient id so far (returning patients)
        self.recent_identities: list[tuple[str, str, str]] = []  # re-registrations
        self.counts = dict.fromkeys(
            ("patients", "inbound", "outbound", "events", "attempts", "appointments"), 0
        )
        self.final_states: dict[str, int] = {}
        self.source_pick = Weighted.of(SOURCES)
        self.channel_pick = {k: Weighted.of(v) for k, v in CHANNELS.items()}
        self.urgency_pick = Weighted.of(URGENCIES)
        self.department_pick = Weighted(range(len(DEPARTMENTS)), [d[2] for d in DEPARTMENTS])
        self.decline_pick = Weighted.of(DECLINE_REASONS)
        self.cancel_early_pick = Weighted.of(CANCEL_BEFORE_ACCEPT)
        self.cancel_late_pick = Weighted.of(CANCEL_LATER)
        self.unsuccessful_pick = Weighted.of(UNSUCCESSFUL)
        writer.begin()
        done = 0
        for m, ((start, end, _), count) in enumerate(
            zip(self.months, self.referral_counts(), strict=True)
        ):
            rng = self.rng
            outbound = sum(1 for _ in range(count) if rng.random() < OUTBOUND_SHARE)
            arrivals = sorted(
                [(self.arrival(start, end), False) for _ in range(count)]
                + [(self.arrival(start, end), True) for _ in range(outbound)]
            )
            for t, is_outbound in arrivals:
                if is_outbound:
                    self.outbound(writer, t)
                else:
                    self.inbound(writer, t, m)
            done += count
            if writer.pending >= CHUNK or m == len(self.months) - 1:
                writer.flush()
                if progress:
                    progress(done, self.size)
        writer.finish()
        self.stats = {
            **self.counts,
            "practices": PRACTICES,
            "providers": PROVIDERS,
            "final_states": dict(sorted(self.final_states.items(), key=lambda kv: -kv[1])),
            "seconds": round(time.monotonic() - started, 1),
        }
        return self.stats

    # -- one patient ------------------------------------------------------------------

    def patient(self, writer: "Writer", t: float) -> int:
        rng = self.rng
        if self.patients and rng.random() < PATIENT_RETURNS:
            # Returning patients: mostly recent ones.
            mean = min(20_000.0, len(self.patients) / 3 + 1)
            back = int(rng.expovariate(1 / mean)) % len(self.patients) + 1
            return self.patients[-back]
        if self.recent_identities and rng.random() < PATIENT_RE_REGISTERED:
            first, last, born = rng.choice(self.recent_identities)
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            born = (dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(32_000))).isoformat()
        self.ids["patient"] += 1
        pk = self.ids["patient"]
        writer.add(
            "patient",
            (
                pk,
                encrypt(first),
                encrypt(last),
                encrypt(born),
                "female" if rng.random() < 0.54 else "male",
                encrypt(f"(217) 555-{rng.randrange(10_000):04d}"),
                self.name_key(first, last),
                self.last_name_key(last),
                self.birth_key(born),
                writer.ts(t),
            ),
        )
        self.patients.append(pk)
        if len(self.recent_identities) < 50_000:
            self.recent_identities.append((first, last, born))
        else:
            self.recent_identities[rng.randrange(50_000)] = (first, last, born)
        self.counts["patients"] += 1
        return pk

    # -- one inbound referral ----------------------------------------------------------

    def inbound(self, writer: "Writer", t0: float, month: int) -> None:
        rng = self.rng
        self.ids["referral"] += 1
        rid = self.ids["referral"]
        source = self.source_pick.draw(rng)
        practice_id = provider_id = advocate = None
        campaign = source_other = ""
        if source == "provider":
            profile = self.practice_pick[month].draw(rng)
            practice_id = profile.pk
            if rng.random() < 0.97:  # the rest name only the practice
                provider_id = profile.provider_pick.draw(rng)[0]
            dept = profile.department if rng.random() < 0.7 else self.department_pick.draw(rng)
        else:
            dept = self.department_pick.draw(rng)
            if source == "patient" and self.patients:
                advocate = self.patients[rng.randrange(len(self.patients))]
            elif source == "marketing":
                campaign = CAMPAIGNS[rng.randrange(len(CAMPAIGNS))]
            elif source == "other":
                source_other = OTHER_SOURCES[rng.randrange(len(OTHER_SOURCES))]
        patient_id = self.patient(writer, t0)
        channel = self.channel_pick[source].draw(rng)
        urgency = self.urgency_pick.draw(rng)
        code, reason = DEPARTMENTS[dept][4][rng.randrange(len(DEPARTMENTS[dept][4]))]
        coordinator = self.coordinator_pick.draw(rng)
        life = Life(t0, rng, SPEED[urgency])
        life.run(self, dept)
        state = life.state
        assignee = (
            None
            if (state == "received" and rng.random() < 0.5) or rng.random() < 0.03
            else coordinator[0]
        )
        actor, actor_label = coordinator

        ts = writer.ts
        events = [
            (
                "referral.received",
                "",
                "received",
                t0,
                json.dumps({"channel": channel, "source_type": source}),
            )
        ]
        if assignee:
            events.append(("referral.assigned", "", "", t0, json.dumps({"assignee": actor_label})))
        attempts = iter(life.attempts)
        pending_attempt = next(attempts, None)
        notes = iter(life.notes)
        pending_note = next(notes, None)
        for from_state, to_state, at in life.moves:
            while pending_attempt and pending_attempt[0] <= at:
                events.append(("referral.contact_attempted", "", "", pending_attempt[0], "{}"))
                pending_attempt = next(attempts, None)
            while pending_note and pending_note[0] <= at:
                events.append((pending_note[1], "", "", pending_note[0], "{}"))
                pending_note = next(notes, None)
            events.append((f"referral.{to_state}", from_state, to_state, at, "{}"))
        while pending_attempt:
            events.append(("referral.contact_attempted", "", "", pending_attempt[0], "{}"))
            pending_attempt = next(attempts, None)
        while pending_note:
            events.append((pending_note[1], "", "", pending_note[0], "{}"))
            pending_note = next(notes, None)
        for kind, from_state, to_state, at, data in events:
            self.ids["event"] += 1
            writer.add(
                "event",
                (
                    self.ids["event"],
                    rid,
                    kind,
                    from_state,
                    to_state,
                    actor,
                    actor_label,
                    ts(at),
                    data,
                ),
            )
        self.counts["events"] += len(events)
        for at, outcome in life.attempts:
            self.ids["attempt"] += 1
            writer.add("attempt", (self.ids["attempt"], rid, ts(at), "phone", outcome, "", actor))
        self.counts["attempts"] += len(life.attempts)
        main_share = MAIN_CAMPUS_SHARE[dept]
        for appointment in life.appointments:
            self.ids["appointment"] += 1
            value = appointment.value
            writer.add(
                "appointment",
                (
                    self.ids["appointment"],
                    rid,
                    ts(appointment.starts),
                    self.department_ids[dept],
                    self.location_ids[0 if rng.random() < main_share else 1],
                    self.clinicians[dept],
                    appointment.outcome,
                    None if value is None else f"{value:.2f}",
                    ts(appointment.created),
                ),
            )
        self.counts["appointments"] += len(life.appointments)

        first_contact = life.attempts[0][0] if life.attempts else None
        due = t0 + SLA_HOURS[urgency] * HOUR
        end = first_contact if first_contact is not None else (life.closed or NOW_TS)
        terminal = state in ("loop_closed", "declined", "unreachable", "cancelled")
        writer.add(
            "referral",
            (
                rid,
                referral_number(rid),
                "inbound",
                state,
                len(life.moves) + len(life.attempts) + 1 + (assignee is not None),
                patient_id,
                source,
                source_other,
                practice_id,
                provider_id,
                advocate,
                campaign,
                channel,
                urgency,
                encrypt(reason),
                json.dumps([code]),
                self.department_ids[dept],
                assignee,
                "not_fit" if state == "declined" and rng.random() < 0.5 else "fit",
                None,
                None,
                None,
                ts(t0),
                ts(life.at),
                ts(due),
                ts(first_contact),
                ts(due) if end > due else None,
                ts(life.outreach),
                ts(life.accepted),
                ts(life.first_scheduled),
                ts(life.seen),
                None,
                ts(life.at) if terminal else None,
                encrypt("Recent MRI report and last clinic note" if life.asked_info else ""),
                life.end_reason,
                encrypt("Patient moved out of state" if life.end_reason == "other" else ""),
                encrypt("Pain management clinic" if state == "declined" else ""),
                encrypt(
                    "Seen in clinic; plan: physical therapy, review in 6 weeks."
                    if state == "loop_closed"
                    else ""
                ),
                None if channel in ("portal", "web_form", "api", "hl7", "fhir") else actor,
                ts(t0),
                ts(life.at),
            ),
        )
        self.counts["inbound"] += 1
        self.final_states[state] = self.final_states.get(state, 0) + 1

    # -- one outbound referral --------------------------------------------------------

    def outbound(self, writer: "Writer", t0: float) -> None:
        rng = self.rng
        self.ids["referral"] += 1
        rid = self.ids["referral"]
        patient_id = (
            self.patients[-min(len(self.patients), rng.randrange(1, 5_000))]
            if self.patients
            else self.patient(writer, t0)
        )
        receiver = self.receivers[int(len(self.receivers) * rng.random() ** 2)]
        provider = receiver.providers[0]
        in_network = self.in_network[receiver.pk]
        if rng.random() < 0.08:
            in_network = not in_network  # the practice joined or left the network since
        dept = self.department_pick.draw(rng)
        actor, actor_label = self.coordinator_pick.draw(rng)
        moves: list[tuple[str, str, float]] = []
        state, at = "draft", t0
        sent_at = None
        appointment = None

        def go(to: str, hours: float) -> bool:
            nonlocal state, at
            when = at + rng.lognormvariate(math.log(hours), 0.8) * HOUR
            if when > NOW_TS:
                return False
            moves.append((state, to, when))
            state, at = to, when
            return True

        roll = rng.random()
        if roll < 0.02:
            go("cancelled", 4)
        elif go("sent", 1.5):
            sent_at = at
            roll = rng.random()
            if roll < 0.08:
                go("declined", 48)
            elif roll < 0.12:
                go("cancelled", 72)
            elif go("accepted", 40) and rng.random() < 0.85 and go("scheduled", 72):
                appointment = (at + rng.uniform(3, 20) * DAY, at)
                if appointment[0] <= NOW_TS and rng.random() < 0.85:
                    go("completed", (appointment[0] - at) / HOUR + 72)
        ts = writer.ts
        self.ids["event"] += 1
        writer.add(
            "event",
            (
                self.ids["event"],
                rid,
                "referral.drafted",
                "",
                "draft",
                actor,
                actor_label,
                ts(t0),
                "{}",
            ),
        )
        for from_state, to_state, when in moves:
            self.ids["event"] += 1
            writer.add(
                "event",
                (
                    self.ids["event"],
                    rid,
                    f"referral.{to_state}",
                    from_state,
                    to_state,
                    actor,
                    actor_label,
                    ts(when),
                    "{}",
                ),
            )
        self.counts["events"] += 1 + len(moves)
        if appointment:
            self.ids["appointment"] += 1
            writer.add(
                "appointment",
                (
                    self.ids["appointment"],
                    rid,
                    ts(appointment[0]),
                    None,
                    None,
                    None,
                    "",
                    None,
                    ts(appointment[1]),
                ),
            )
            self.counts["appointments"] += 1
        terminal = state in ("declined", "cancelled", "completed")
        writer.add(
            "referral",
            (
                rid,
                referral_number(rid),
                "outbound",
                state,
                len(moves) + 1,
                patient_id,
                "provider",
                "",
                None,
                None,
                None,
                "",
                "api",
                "routine",
                "Referred out for a service we do not offer",
                "[]",
                self.department_ids[dept],
                actor,
                "",
                receiver.pk,
                provider[0],
                in_network if sent_at is not None else None,
                ts(t0),
                ts(at),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                ts(sent_at),
                ts(at) if terminal else None,
                "",
                "patient_request"
                if state == "cancelled"
                else ("other" if state == "declined" else ""),
                "Not accepting new patients" if state == "declined" else "",
                "",
                "Consult report received." if state == "completed" else "",
                actor,
                ts(t0),
                ts(at),
            ),
        )
        self.counts["outbound"] += 1


# --- the lifecycle of one inbound referral -----------------------------------------------


class Appointment:
    __slots__ = ("starts", "created", "outcome", "value")

    def __init__(self, starts: float, created: float) -> None:
        self.starts, self.created, self.outcome, self.value = starts, created, "", None


class Life:
    """Walks one referral through docs/design.md's state machine from its arrival, with
    durations drawn per step, and stops where "now" falls: what is still ahead of now
    has not happened, so recent referrals are open in every state."""

    __slots__ = (
        "rng",
        "speed",
        "state",
        "at",
        "moves",
        "attempts",
        "appointments",
        "notes",
        "end_reason",
        "asked_info",
        "outreach",
        "accepted",
        "first_scheduled",
        "seen",
        "closed",
    )

    def __init__(self, t0: float, rng: random.Random, speed: float) -> None:
        self.rng, self.speed = rng, speed
        self.state, self.at = "received", t0
        self.moves: list[tuple[str, str, float]] = []
        self.attempts: list[tuple[float, str]] = []
        self.appointments: list[Appointment] = []
        self.notes: list[tuple[float, str]] = []
        self.end_reason = ""
        self.asked_info = False
        self.outreach = self.accepted = self.first_scheduled = self.seen = self.closed = None

    def later(self, median_hours: float, sigma: float = 0.9, *, scaled: bool = True) -> float:
        hours = median_hours * (self.speed if scaled else 1.0)
        return self.at + self.rng.lognormvariate(math.log(hours), sigma) * HOUR

    def go(self, to: str, at: float) -> bool:
        """Move at `at`, unless that is after now (then the referral stays where it is)."""
        if at > NOW_TS:
            return False
        self.moves.append((self.state, to, at))
        self.state, self.at = to, at
        if to == "accepted":
            self.accepted = at
        elif to in ("contacting", "no_show"):
            self.outreach = at
        elif to == "scheduled" and self.first_scheduled is None:
            self.first_scheduled = at
        elif to == "seen":
            self.seen = at
        if to in ("loop_closed", "declined", "unreachable", "cancelled"):
            self.closed = at
        return True

    def lose(self, to: str, at: float, reason: str) -> None:
        if self.go(to, at):
            self.end_reason = reason

    def run(self, gen: Generator, dept: int) -> None:
        rng = self.rng
        if rng.random() < 0.004:
            return  # fell through the cracks on arrival
        if rng.random() < 0.015:
            return self.lose(
                "cancelled", self.later(30, scaled=False), gen.cancel_early_pick.draw(rng)
            )
        if rng.random() < 0.6 and not self.go("in_review", self.later(6)):
            return
        trips = 0
        while trips < 2 and rng.random() < (0.12 if trips == 0 else 0.2):
            trips += 1
            if not self.go("pending_info", self.later(8)):
                return
            self.asked_info = True
            answered = self.later(90, 0.8, scaled=False)
            roll = rng.random()
            if roll < 0.8:
                if not self.go("in_review", answered):
                    return
            elif roll < 0.92:
                return self.lose("declined", answered, "incomplete_information")
            else:
                return self.lose("cancelled", answered, "referrer_request")
        if rng.random() < 0.003:
            return  # stalled in review
        roll = rng.random()
        decline = DEPARTMENTS[dept][3]
        if roll < decline:
            return self.lose("declined", self.later(14), gen.decline_pick.draw(rng))
        if roll < decline + 0.02:
            return self.lose("cancelled", self.later(20), gen.cancel_early_pick.draw(rng))
        if not self.go("accepted", self.later(14, 1.0)):
            return
        self.book(gen, dept)

    def attempt(self, at: float, outcome: str) -> None:
        self.attempts.append((at, outcome))

    def book(self, gen: Generator, dept: int) -> None:
        rng = self.rng
        direct = rng.random() < 0.25  # the patient calls us: booked on the first call
        no_shows = 0
        while True:
            if direct:
                reached = self.later(10 if no_shows == 0 else 30, 1.1)
                if reached > NOW_TS:
                    return
                self.attempt(reached, "reached")
                if not self.go(
                    "scheduled", reached + rng.lognormvariate(math.log(0.3), 0.5) * HOUR
                ):
                    return
            else:
                if not self.go("contacting", self.later(16 if no_shows == 0 else 24, 1.1)):
                    return
                at = self.at + rng.uniform(0, 2) * HOUR
                failures = 0
                while True:
                    if at > NOW_TS:
                        return
                    roll = rng.random()
                    if roll < (0.55 if failures == 0 else 0.45):
                        self.attempt(at, "reached")
                        break
                    if roll > 0.97:
                        self.attempt(at, "patient_declined")
                        return self.lose("cancelled", at + 0.2 * HOUR, "patient_request")
                    self.attempt(at, gen.unsuccessful_pick.draw(rng))
                    failures += 1
                    if failures >= 3:  # the organization's max_contact_attempts
                        return self.lose("unreachable", at, "max_attempts_reached")
                    at += rng.lognormvariate(math.log(26), 0.6) * HOUR
                if not self.go("scheduled", at + rng.lognormvariate(0, 0.7) * HOUR):
                    return
            lead = max(4.0, rng.lognormvariate(math.log(11 * 24 * math.sqrt(self.speed)), 0.6))
            appointment = Appointment(self.at + lead * HOUR, self.at)
            self.appointments.append(appointment)
            for _ in range(2):
                if rng.random() >= 0.07:
                    break
                moved = max(
                    appointment.created + 0.5 * HOUR,
                    appointment.starts - rng.lognormvariate(math.log(48), 0.7) * HOUR,
                )
                if moved > NOW_TS or moved >= appointment.starts:
                    break
                appointment.outcome = "rescheduled"
                self.notes.append((moved, "referral.rescheduled"))
                appointment = Appointment(moved + rng.lognormvariate(math.log(9), 0.5) * DAY, moved)
                self.appointments.append(appointment)
            if appointment.starts > NOW_TS:
                return  # booked, still ahead
            roll = rng.random()
            if roll < 0.035:
                at = max(
                    self.at + 0.1 * HOUR,
                    appointment.starts - rng.lognormvariate(math.log(24), 0.8) * HOUR,
                )
                if at <= NOW_TS:
                    appointment.outcome = "cancelled"
                    self.lose("cancelled", at, gen.cancel_late_pick.draw(rng))
                return
            if roll < 0.035 + 0.09:
                if not self.go("no_show", appointment.starts + 2 * HOUR):
                    return
                appointment.outcome = "no_show"
                no_shows += 1
                roll = rng.random()
                if no_shows >= 3 or roll < 0.08:
                    return self.lose("cancelled", self.later(48, scaled=False), "patient_request")
                direct = roll < 0.38
                continue
            seen = appointment.starts + rng.lognormvariate(math.log(1.5), 0.3) * HOUR
            if not self.go("seen", seen):
                return
            appointment.outcome = "attended"
            if rng.random() < 0.92:
                appointment.value = rng.lognormvariate(math.log(DEPARTMENTS[dept][5]), 0.5)
            if rng.random() < 0.04:
                return  # the report never went back
            self.go("loop_closed", self.later(36, 1.1, scaled=False))
            return


def encrypt(text: str) -> str:
    """Ciphertext as refloop's encrypted fields store it (imported late: Django is set up
    by then)."""
    from refloop.core.encryption import encrypt as sealed

    return sealed(text)


# --- writing ---------------------------------------------------------------------------

# (table key, model, the columns this generator supplies, in the order rows give them)
TABLES = {
    "patient": (
        "patients.Patient",
        (
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "phone",
            "name_key",
            "last_name_key",
            "birth_key",
            "created_at",
        ),
    ),
    "referral": (
        "referrals.Referral",
        (
            "id",
            "number",
            "direction",
            "state",
            "version",
            "patient_id",
            "source_type",
            "source_other",
            "referring_practice_id",
            "referring_provider_id",
            "advocate_patient_id",
            "campaign",
            "channel",
            "urgency",
            "reason",
            "icd10_codes",
            "department_id",
            "assignee_id",
            "fit",
            "receiving_practice_id",
            "receiving_provider_id",
            "receiving_in_network",
            "received_at",
            "state_changed_at",
            "first_contact_due_at",
            "first_contact_at",
            "sla_breached_at",
            "outreach_started_at",
            "accepted_at",
            "first_scheduled_at",
            "seen_at",
            "sent_at",
            "closed_at",
            "missing_info",
            "end_reason",
            "end_reason_detail",
            "suggested_alternative",
            "report_summary",
            "created_by_id",
            "created_at",
            "updated_at",
        ),
    ),
    "event": (
        "referrals.ReferralEvent",
        (
            "id",
            "referral_id",
            "kind",
            "from_state",
            "to_state",
            "actor_id",
            "actor_label",
            "at",
            "data",
        ),
    ),
    "attempt": (
        "referrals.ContactAttempt",
        ("id", "referral_id", "at", "channel", "outcome", "note", "recorded_by_id"),
    ),
    "appointment": (
        "referrals.Appointment",
        (
            "id",
            "referral_id",
            "starts_at",
            "department_id",
            "location_id",
            "clinician_id",
            "outcome",
            "visit_value",
            "created_at",
        ),
    ),
}
# Parents before children, so foreign keys hold at every commit.
ORDER = ("patient", "referral", "event", "attempt", "appointment")


class Writer:
    """Buffers rows per table and writes them in bulk: COPY on PostgreSQL, executemany on
    SQLite. Columns the generator does not supply get the model field's default."""

    def __init__(self) -> None:
        from django.apps import apps
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.tables = {}
        for key, (label, supplied) in TABLES.items():
            model = apps.get_model(label)
            fields = [f for f in model._meta.concrete_fields if not f.generated]
            by_attname = {f.attname: f for f in fields}
            missing = [name for name in supplied if name not in by_attname]
            if missing:
                raise RuntimeError(f"{label} has no column(s) {missing}")
            rest = [f for f in fields if f.attname not in supplied]
            constants = [self._default(f) for f in rest]
            columns = [by_attname[name].column for name in supplied] + [f.column for f in rest]
            self.tables[key] = (model, model._meta.db_table, columns, tuple(constants))
        self.rows: dict[str, list[tuple]] = {key: [] for key in TABLES}
        self.pending = 0
        self.written = dict.fromkeys(TABLES, 0)

    def _default(self, f):
        from django.db import models

        if isinstance(f, models.JSONField):
            return json.dumps(f.get_default())
        value = f.get_default()
        if value is None and not f.null:
            raise RuntimeError(f"{f.model.__name__}.{f.attname} needs a value from the generator")
        return value

    def ts(self, t: float | None) -> str | None:
        """An instant as each database's loader reads it (SQLite: naive UTC text, as Django
        stores it)."""
        if t is None:
            return None
        text = dt.datetime.fromtimestamp(int(t), dt.UTC).isoformat(" ")
        return text if self.postgres else text[:-6]

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)
        if table == "referral":
            self.pending += 1

    def begin(self) -> None:
        if not self.postgres:
            with self.connection.cursor() as cursor:
                # A bulk load of throwaway data: no fsync per commit.
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA cache_size=-262144")

    def flush(self) -> None:
        from django.db import transaction

        with transaction.atomic():
            raw = self.connection.connection
            for key in ORDER:
                rows = self.rows[key]
                if not rows:
                    continue
                _, table, columns, constants = self.tables[key]
                if self.postgres:
                    self._copy(raw, table, columns, rows, constants)
                else:
                    placeholders = ", ".join("?" * len(columns))
                    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})'  # noqa: S608
                    raw.executemany(sql, [row + constants for row in rows])
                self.written[key] += len(rows)
                self.rows[key] = []
        self.pending = 0

    @staticmethod
    def _copy(raw, table: str, columns: list[str], rows: list[tuple], constants: tuple) -> None:
        def text(value) -> str:
            if value is None:
                return "\\N"
            if value is True:
                return "t"
            if value is False:
                return "f"
            return str(value)

        tail = "".join("\t" + text(v) for v in constants) + "\n"
        with raw.cursor() as cursor:
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                lines = []
                for row in rows:
                    lines.append("\t".join([text(v) for v in row]) + tail)
                    if len(lines) >= 20_000:
                        copy.write("".join(lines))
                        lines = []
                if lines:
                    copy.write("".join(lines))

    def finish(self) -> None:
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            if self.postgres:
                models = [model for model, *_ in self.tables.values()]
                for statement in self.connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
            else:
                cursor.execute("PRAGMA synchronous=NORMAL")


def generate(referrals: int, *, seed: int = 20261120, progress=None) -> dict:
    """Write the directory and `referrals` inbound referrals (and their outbound share)
    into the current (empty, migrated) database; returns what was written and how long
    it took."""
    generator = Generator(referrals, seed=seed)
    writer = Writer()
    stats = generator.run(writer, progress)
    stats["rows"] = sum(writer.written.values())
    stats["rows_by_table"] = writer.written
    return stats
