"""Workspace pages at scale: server time and SQL statements of the worklist and the referral
detail page with 1,000 and with 100,000 inbound referrals, side by side, on SQLite and
PostgreSQL.

Targets (from issue 3): p95 server time under 150 ms at 100,000 referrals, and a query
count that does not grow with the number of rows shown. A missed target is reported,
not raised: this is a measurement, not a test.

Measured in-process through Django's whole stack (middleware, session auth, view,
template) with the test Client signed in as a coordinator: no server, no network.

    ./run bench                                   # with every other benchmark
    .venv/bin/python bench/ui_pages.py [--db sqlite|postgresql|all] [--quick]
        [--sizes 1000,100000]
"""

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import intake  # noqa: E402  (shares the throwaway-database helpers)

REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
SIZES = (1_000, 100_000)
TARGET_P95_MS = 150.0
DATABASES = intake.DATABASES


@dataclass(frozen=True)
class Plan:
    warmup: int = 3  # requests per URL before measuring (caches, connection, templates)
    samples: int = 40  # measured requests per page


QUICK_PLAN = Plan(warmup=2, samples=12)


def say(line: str = "") -> None:
    print(line, flush=True)


# --- the parent: one child process per database ------------------------------------------


def run(kind: str, plan: Plan, sizes: tuple[int, ...]) -> dict | None:
    """Build and measure on one database in a child process (Django is set up once per
    process, and each database needs its own settings); returns the child's result."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"refloop-bench-ui-{kind}-"))
    result_path = data_dir / "result.json"
    try:
        with intake.database(kind, data_dir) as env:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "--db",
                kind,
                "--sizes",
                ",".join(map(str, sizes)),
                "--result",
                str(result_path),
                *(["--quick"] if plan == QUICK_PLAN else []),
            ]
            done = subprocess.run(command, cwd=BENCH_DIR, env=env, timeout=3600)
            if done.returncode != 0 or not result_path.exists():
                raise intake.BenchError(f"the measuring process exited with {done.returncode}")
            return json.loads(result_path.read_text())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=[*DATABASES, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="fewer samples per page")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = QUICK_PLAN if args.quick else Plan()
    sizes = tuple(sorted(int(s) for s in args.sizes.split(",")))
    if args.child:
        return child(args.db, plan, sizes, Path(args.result))
    failed = False
    for kind in DATABASES if args.db == "all" else (args.db,):
        try:
            outcome = run(kind, plan, sizes)
            failed |= not outcome["summary"]["valid"]
        except intake.BenchError as error:
            say(f"ui pages on {kind}: !!! COULD NOT RUN: {error}")
            failed = True
        say()
    return 1 if failed else 0


# --- the child: build, measure, report -------------------------------------------------


def child(kind: str, plan: Plan, sizes: tuple[int, ...], result_path: Path) -> int:
    import django

    # WhiteNoise warns that the throwaway data folder has no collected static files.
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    django.setup()
    from django.conf import settings

    # Building the staff hashes ~15 passwords; no measured request checks one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A failing page is counted and reported below; its traceback would bury the figures.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.core.management import call_command
    from django.db import connections

    started = time.monotonic()
    outcome: dict = {
        "benchmark": "ui_pages",
        "database": kind,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": intake.environment(),
        "plan": {"warmup": plan.warmup, "samples_per_page": plan.samples},
        "targets": {"p95_ms_max": TARGET_P95_MS, "queries": "constant in rows shown"},
        "sizes": {},
    }
    outcome["environment"]["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    say(
        f"ui pages on {kind}: in-process Django test Client signed in as a coordinator, "
        f"{plan.samples} requests per page after {plan.warmup} warm-up; "
        f"{os.cpu_count()} CPUs, load average before "
        f"{outcome['environment']['load_average_before'][0]}"
    )
    try:
        call_command("migrate", run_syncdb=True, verbosity=0)
        world = World.create()
        for size in sizes:
            build_s = world.grow_to(size)
            # What the worker's hourly job does on a live installation (SQLite planner
            # statistics); bulk-loaded tables would otherwise have none.
            from refloop.core.maintenance import optimize_database

            optimize_database()
            say(f"  {size:>7,} referrals: built in {build_s:.1f} s (total so far)")
            outcome["sizes"][str(size)] = measure(world, plan)
        outcome["elapsed_s"] = round(time.monotonic() - started, 1)
        report(outcome, sizes)
        write(outcome)
        result_path.write_text(json.dumps(outcome))
    finally:
        connections.close_all()
    return 0


WORKLIST_ROW = re.compile(r'href="/referrals/(\d+)/" class="row-link"')
AUDIT_ROW = re.compile(r"<time (datetime=\"[^\"]+\")")


@dataclass(frozen=True)
class Probe:
    key: str
    label: str
    urls: list[str]  # measured round-robin
    rows: re.Pattern | None = None  # what marks one row shown, to count them
    admin: bool = False


def probes(world) -> list[Probe]:
    from django.urls import reverse

    worklist = reverse("worklist")
    audit = reverse("audit")
    department = world.department_ids[0]
    details = [reverse("referral_detail", args=[pk]) for pk in world.sample_ids]
    return [
        Probe("worklist", "worklist, default tab (mine, open)", [worklist], WORKLIST_ROW),
        Probe(
            "worklist_filtered",
            "worklist, all, filtered (dept, urgent, any state)",
            [f"{worklist}?tab=all&department={department}&urgency=urgent&state=any"],
            WORKLIST_ROW,
        ),
        Probe(
            "worklist_sorted",
            "worklist, all open, sorted by urgency",
            [f"{worklist}?tab=all&sort=urgency"],
            WORKLIST_ROW,
        ),
        Probe(
            "worklist_page5",
            "worklist, all, any state, page 5",
            [f"{worklist}?tab=all&state=any&page=5"],
            WORKLIST_ROW,
        ),
        Probe("detail", f"detail page, {len(details)} referrals", details),
        Probe("audit", "audit log (admin), newest", [audit], AUDIT_ROW, admin=True),
        Probe(
            "audit_patient",
            "audit log (admin), one patient",
            [f"{audit}?patient={world.sample_patient}"],
            AUDIT_ROW,
            admin=True,
        ),
    ]


class SqlCounter:
    """A database execute wrapper that counts statements and their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.count += 1
            self.seconds += took
            self.statements.append((took, sql, params))


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, docs/design.md)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed_get(client, url: str) -> tuple[float, float, SqlCounter, object]:
    """Wall time, this process's CPU time (Python, templates and, on SQLite, the database
    too: steadier than wall time when other work shares the machine), and the SQL."""
    from django.db import connection

    counter = SqlCounter()
    with connection.execute_wrapper(counter):
        cpu = time.process_time()
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    return elapsed, cpu, counter, response


# The slowest statement of each page at the last size measured, with its parameters, for
# EXPLAIN when a page misses its target.
SLOWEST: dict[str, tuple[float, str, object]] = {}


def measure(world, plan: Plan) -> dict:
    clients = {False: world.client(), True: world.client(admin=True)}
    results: dict = {}
    for probe in probes(world):
        client = clients[probe.admin]
        errors: list[str] = []
        for i in range(plan.warmup):
            client.get(probe.urls[i % len(probe.urls)])
        times, cpu_ms, queries, db_ms, slowest = [], [], [], [], []
        rows_shown = set()
        for i in range(plan.samples):
            url = probe.urls[i % len(probe.urls)]
            elapsed, cpu, counter, response = timed_get(client, url)
            if response.status_code != 200:
                errors.append(f"{url} -> HTTP {response.status_code}")
                continue
            times.append(elapsed * 1000)
            cpu_ms.append(cpu * 1000)
            queries.append(counter.count)
            db_ms.append(counter.seconds * 1000)
            slowest.append(max(counter.statements, default=(0.0, "", None), key=lambda t: t[0]))
            if probe.rows:
                rows_shown.add(len(probe.rows.findall(response.content.decode())))
        results[probe.key] = summarize(
            probe, times, cpu_ms, queries, db_ms, slowest, rows_shown, errors
        )
        if slowest:
            SLOWEST[probe.key] = max(slowest, key=lambda t: t[0])
        say(line_for(results[probe.key]))
    results["rows_vs_queries"] = rows_vs_queries(world, clients[False])
    return results


def summarize(probe, times, cpu_ms, queries, db_ms, slowest, rows_shown, errors) -> dict:
    top = max(slowest, default=(0.0, "", None), key=lambda t: t[0])
    return {
        "label": probe.label,
        "urls": probe.urls[:3] + (["…"] if len(probe.urls) > 3 else []),
        "n": len(times),
        "p50_ms": round(percentile(times, 0.50), 2) if times else None,
        "p95_ms": round(percentile(times, 0.95), 2) if times else None,
        "max_ms": round(max(times), 2) if times else None,
        "cpu_p50_ms": round(percentile(cpu_ms, 0.50), 2) if cpu_ms else None,
        "db_p50_ms": round(percentile(db_ms, 0.50), 2) if db_ms else None,
        "queries_min": min(queries) if queries else None,
        "queries_max": max(queries) if queries else None,
        "rows_shown": sorted(rows_shown),
        # Shown without parameters, so no (synthetic) patient data is printed.
        "slowest_statement_ms": round(top[0] * 1000, 2),
        "slowest_statement": re.sub(r"\s+", " ", top[1])[:400],
        "errors": errors,
    }


def queries_text(result: dict) -> str:
    low, high = result["queries_min"], result["queries_max"]
    if low is None:
        return "-"
    return str(low) if low == high else f"{low}-{high}"


def line_for(result: dict) -> str:
    if not result["n"]:
        return f"    {result['label']:<46} !!! no answers: {result['errors'][:1]}"
    return (
        f"    {result['label']:<46} p50 {result['p50_ms']:7.1f} ms  p95 {result['p95_ms']:7.1f} ms"
        f"  cpu p50 {result['cpu_p50_ms']:6.1f} ms  sql {queries_text(result):>5}"
        f" ({result['db_p50_ms']:.1f} ms)"
        f"  rows {','.join(map(str, result['rows_shown'])) or '-'}"
        + (f"  !!! {len(result['errors'])} errors" if result["errors"] else "")
    )


def rows_vs_queries(world, client) -> dict:
    """The same worklist filter showing 10 rows and 50 rows: the SQL count must not move."""
    from django.urls import reverse

    found = {}
    for label, assignee in (("10", world.ten_rows_assignee), ("50", world.busy_assignee)):
        url = f"{reverse('worklist')}?tab=all&state=any&assignee={assignee}"
        client.get(url)
        _, _, counter, response = timed_get(client, url)
        found[label] = {
            "url": url,
            "status": response.status_code,
            "rows_shown": len(WORKLIST_ROW.findall(response.content.decode())),
            "queries": counter.count,
        }
    found["constant"] = found["10"]["queries"] == found["50"]["queries"]
    return found


# --- the data --------------------------------------------------------------------------

# Inbound states with their share of a mature practice's referrals (about a fifth open).
STATE_WEIGHTS = {
    "received": 4,
    "in_review": 3,
    "pending_info": 2,
    "accepted": 2,
    "contacting": 3,
    "scheduled": 4,
    "no_show": 1,
    "seen": 5,
    "loop_closed": 50,
    "declined": 8,
    "unreachable": 5,
    "cancelled": 13,
}
OPEN_STATES = {"received", "in_review", "pending_info", "accepted", "contacting"} | {
    "scheduled",
    "no_show",
    "seen",
}
URGENCY_WEIGHTS = {"routine": 80, "urgent": 17, "stat": 3}
CHANNELS = ("fax", "fax", "fax", "portal", "phone", "email", "web_form", "hl7", "api")
FIRST_NAMES = "Ava Ben Cleo Dev Elif Finn Gia Hugo Iris Jon Kai Lena Milo Nia Omar Pia Quinn Rosa Sam Tara".split()
LAST_NAMES = "Abbott Baker Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Moreau Novak Okafor Patel Quist Rossi Singh Tanaka".split()
REASONS = (
    "Low back pain radiating to the left leg for six weeks",
    "Right shoulder pain with reduced range of motion",
    "Numbness in the fingers of the right hand, worse at night",
    "Knee pain after a fall, swelling persists",
)
CODES = (["M54.16"], ["M75.101"], ["G56.01"], ["M25.561", "S83.241A"])
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BATCH = 5_000
COORDINATORS = 8


def referral_number(serial: int) -> str:
    """A unique, valid-looking number for the serial (the product draws them at random)."""
    digits = []
    for _ in range(8):
        serial, digit = divmod(serial, 32)
        digits.append(NUMBER_ALPHABET[digit])
    body = "".join(reversed(digits))
    return f"R-{body[:4]}-{body[4:]}"


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Table:
    """Rows for one model's table, inserted with executemany and ids assigned here (the
    tables grow only while the benchmark builds them). Columns not named as varying take
    the model field's default, converted once."""

    def __init__(self, model, varying: tuple[str, ...]) -> None:
        from django.db import connection, models

        from refloop.core.encryption import EncryptedMixin

        self.model = model
        # A generated column (urgency_rank) is the database's to compute.
        fields = [f for f in model._meta.concrete_fields if not f.generated]
        self.attnames = [f.attname for f in fields]
        self.varying = set(varying) | {"id"}
        now = dt.datetime.now(dt.UTC)
        self.constant: dict = {}
        self.convert: dict = {}
        ops = connection.ops
        for field in fields:
            if field.attname in self.varying:
                if isinstance(field, EncryptedMixin):
                    self.convert[field.attname] = partial(
                        field.get_db_prep_save, connection=connection
                    )
                elif isinstance(field, models.DateTimeField):
                    self.convert[field.attname] = ops.adapt_datetimefield_value
                elif isinstance(field, models.DateField):
                    self.convert[field.attname] = ops.adapt_datefield_value
                elif isinstance(field, models.JSONField):
                    self.convert[field.attname] = partial(
                        field.get_db_prep_save, connection=connection
                    )
                continue
            auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            value = now if auto else field.get_default()
            self.constant[field.attname] = field.get_db_prep_save(value, connection)
        self.rows: list[dict] = []
        self.next_id = (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1

    def add(self, **values) -> int:
        pk = self.next_id
        self.next_id += 1
        for name, convert in self.convert.items():
            value = values.get(name)
            if value is not None:
                values[name] = convert(value)
        values["id"] = pk
        self.rows.append(values)
        return pk

    def flush(self) -> None:
        from django.core.management.color import no_style
        from django.db import connection

        if not self.rows:
            return
        columns = ", ".join(
            connection.ops.quote_name(self.model._meta.get_field(a).column) for a in self.attnames
        )
        table = connection.ops.quote_name(self.model._meta.db_table)
        one = "(" + ", ".join(["%s"] * len(self.attnames)) + ")"
        # Many rows per statement: one round trip per few hundred rows, within both
        # databases' limits on parameters per statement (SQLite 32766, PostgreSQL 65535).
        per_statement = max(1, 30_000 // len(self.attnames))
        constant, attnames = self.constant, self.attnames
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY is several times faster than INSERT here (and skips SQL formatting).
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row([row[a] if a in row else constant.get(a) for a in attnames])
                self.rows = []
            for start in range(0, len(self.rows), per_statement):
                chunk = self.rows[start : start + per_statement]
                params = [
                    row[a] if a in row else constant.get(a) for row in chunk for a in attnames
                ]
                values = ", ".join([one] * len(chunk))
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)  # noqa: S608
            # PostgreSQL's id sequence does not know about ids we chose; the pages insert
            # audit entries afterwards.
            for statement in connection.ops.sequence_reset_sql(no_style(), [self.model]):
                cursor.execute(statement)
        self.rows = []


class World:
    """The practice, its partners and staff, and N inbound referrals with their timelines,
    contact attempts, appointments and audit records, written with bulk INSERTs."""

    def __init__(self) -> None:
        self.count = 0
        self.build_s = 0.0
        self.rng = random.Random(20260301)
        self.now = dt.datetime.now(dt.UTC)
        self.sample_ids: list[int] = []
        self.sample_states: set[str] = set()
        self.sample_patient: int | None = None

    @classmethod
    def create(cls) -> "World":
        from refloop.core.roles import Role
        from refloop.demo import factories as f

        world = cls()
        started = time.monotonic()
        f.OrganizationFactory()
        departments = [
            f.DepartmentFactory(code=code, name=name)
            for code, name in (
                ("spine", "Spine"),
                ("hand", "Hand & Upper Extremity"),
                ("joint", "Joint Replacement"),
                ("sports", "Sports Medicine"),
            )
        ]
        world.department_ids = [d.pk for d in departments]
        practices = [f.PracticeFactory() for _ in range(60)]
        providers = [f.ProviderFactory(practice=practices[i % 60]) for i in range(150)]
        world.providers = [(p.pk, p.practice_id) for p in providers]
        world.coordinator = f.UserFactory(username="bench-coordinator", role=Role.COORDINATOR)
        world.admin = f.UserFactory(username="bench-admin", role=Role.ADMIN)
        coordinators = [
            f.UserFactory(username=f"coordinator-{i}", role=Role.COORDINATOR)
            for i in range(COORDINATORS)
        ]
        for department in departments:
            f.UserFactory(
                username=f"clinician-{department.code}",
                role=Role.CLINICIAN,
                departments=[department],
            )
        world.assignee_ids = [u.pk for u in coordinators]
        world.busy_assignee = world.coordinator.pk
        # Holds exactly ten referrals at every size: the worklist's "10 rows" view.
        world.ten_rows_assignee = f.UserFactory(
            username="coordinator-ten", role=Role.COORDINATOR
        ).pk
        world.build_s += time.monotonic() - started
        return world

    def client(self, *, admin: bool = False):
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
        client.force_login(self.admin if admin else self.coordinator)
        return client

    def grow_to(self, size: int) -> float:
        """Add referrals until there are `size`; returns the build time so far."""
        from django.db import connection, transaction

        started = time.monotonic()
        while self.count < size:
            batch = min(BATCH, size - self.count)
            with transaction.atomic():
                self.add(batch)
        if connection.vendor == "postgresql":
            # Autovacuum would analyze the new rows soon after; don't measure before it has.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.build_s += time.monotonic() - started
        return self.build_s

    def add(self, batch: int) -> None:
        """`batch` more referrals with everything that hangs off them, as multi-row INSERTs
        with ids of our own (the ORM's bulk_create spends ~4 ms a referral in Python)."""
        from refloop.core.models import AuditEntry
        from refloop.patients.models import Patient, birth_key, last_name_key, name_key
        from refloop.referrals.models import (
            Appointment,
            ContactAttempt,
            Referral,
            ReferralEvent,
        )

        rng, now = self.rng, self.now
        tables = {
            model: Table(model, varying)
            for model, varying in (
                (
                    Patient,
                    (
                        "first_name",
                        "last_name",
                        "name_key",
                        "last_name_key",
                        "birth_key",
                        "date_of_birth",
                        "sex",
                        "phone",
                    ),
                ),
                (
                    Referral,
                    (
                        "number",
                        "state",
                        "version",
                        "patient_id",
                        "referring_practice_id",
                        "referring_provider_id",
                        "channel",
                        "urgency",
                        "reason",
                        "icd10_codes",
                        "department_id",
                        "assignee_id",
                        "received_at",
                        "state_changed_at",
                        "first_contact_due_at",
                        "first_contact_at",
                        "sla_breached_at",
                        "accepted_at",
                        "first_scheduled_at",
                        "seen_at",
                        "closed_at",
                        "end_reason",
                        "report_summary",
                    ),
                ),
                (ReferralEvent, ("referral_id", "kind", "from_state", "to_state", "at")),
                (AuditEntry, ("at", "action", "object_id", "patient_id", "referral_id", "detail")),
                (ContactAttempt, ("referral_id", "at", "outcome")),
                (
                    Appointment,
                    ("referral_id", "starts_at", "department_id", "outcome", "created_at"),
                ),
            )
        }
        patients, referrals = tables[Patient], tables[Referral]
        events, audits = tables[ReferralEvent], tables[AuditEntry]
        attempts, appointments = tables[ContactAttempt], tables[Appointment]
        coordinator = self.coordinator
        for table in (events, audits, attempts):
            table.constant.update(
                {
                    "actor_id": coordinator.pk,
                    "actor_label": coordinator.username,
                    "recorded_by_id": coordinator.pk,
                    "object_type": "referral",
                    "ip_address": "127.0.0.1",
                    "channel": "web" if table is audits else "phone",
                    "direction": "inbound",
                }
            )
        referrals.constant.update({"direction": "inbound", "source_type": "provider"})

        for offset in range(batch):
            serial = self.count + offset
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
            patient_id = patients.add(
                first_name=first,
                last_name=last,
                name_key=name_key(first, last),
                last_name_key=last_name_key(last),
                birth_key=birth_key(born),
                date_of_birth=born,
                sex=rng.choice(("female", "male")),
                phone=f"(217) 555-{rng.randrange(10_000):04d}",
            )
            state = weighted(rng, STATE_WEIGHTS)
            age_days = rng.uniform(0, 30) if state in OPEN_STATES else rng.uniform(10, 540)
            received = now - dt.timedelta(days=age_days)
            steps = self.steps(state, received)
            times = dict(steps)
            if serial < 10:
                assignee = self.ten_rows_assignee
            elif state == "received" and rng.random() < 0.5:
                assignee = None
            elif rng.random() < 0.4:
                assignee = coordinator.pk  # the measured user: a full "mine" tab at 1,000
            else:
                assignee = rng.choice(self.assignee_ids)
            provider_id, practice_id = rng.choice(self.providers)
            kind = rng.randrange(len(REASONS))
            contacted = times.get("contacting") or times.get("scheduled")
            due = received + dt.timedelta(hours=48)
            referral_id = referrals.add(
                number=referral_number(serial),
                state=state,
                version=len(steps) + 1,
                patient_id=patient_id,
                referring_practice_id=practice_id,
                referring_provider_id=provider_id,
                channel=rng.choice(CHANNELS),
                urgency=weighted(rng, URGENCY_WEIGHTS),
                reason=REASONS[kind],
                icd10_codes=CODES[kind],
                department_id=self.department_ids[kind],
                assignee_id=assignee,
                received_at=received,
                state_changed_at=steps[-1][1] if steps else received,
                first_contact_due_at=due,
                first_contact_at=contacted,
                sla_breached_at=due if contacted and contacted > due else None,
                accepted_at=times.get("accepted"),
                first_scheduled_at=times.get("scheduled"),
                seen_at=times.get("seen"),
                closed_at=steps[-1][1] if state not in OPEN_STATES else None,
                end_reason={
                    "declined": "outside_scope",
                    "cancelled": "patient_request",
                    "unreachable": "max_attempts_reached",
                }.get(state, ""),
                report_summary="Seen in clinic; physical therapy."
                if state == "loop_closed"
                else "",
            )
            if not self.sample_ids or (
                len(self.sample_ids) < len(STATE_WEIGHTS) and state not in self.sample_states
            ):
                # The same referrals at every size, one per state, so detail figures compare.
                self.sample_ids.append(referral_id)
                self.sample_states.add(state)
                self.sample_patient = self.sample_patient or patient_id

            timeline = [("referral.received", "", "received", received)]
            if assignee:
                timeline.append(("referral.assigned", "", "", received))
            previous = "received"
            for step, at in steps:
                timeline.append((f"referral.{step}", previous, step, at))
                previous = step
                if step in ("contacting", "unreachable", "no_show"):
                    for n in range(3 if step == "unreachable" else 1):
                        attempts.add(
                            referral_id=referral_id,
                            at=at + dt.timedelta(hours=n),
                            outcome="no_answer",
                        )
                if step == "scheduled":
                    appointments.add(
                        referral_id=referral_id,
                        starts_at=at + dt.timedelta(days=7),
                        department_id=self.department_ids[kind],
                        outcome={"seen": "attended", "loop_closed": "attended"}.get(
                            state, "no_show" if state == "no_show" else ""
                        ),
                        created_at=at,
                    )
            for event_kind, from_state, to_state, at in timeline:
                events.add(
                    referral_id=referral_id,
                    kind=event_kind,
                    from_state=from_state,
                    to_state=to_state,
                    at=at,
                )
                audits.add(
                    at=at,
                    action=event_kind,
                    object_id=str(referral_id),
                    patient_id=patient_id,
                    referral_id=referral_id,
                    detail={"from": from_state, "to": to_state} if from_state else {},
                )
        for table in tables.values():
            table.flush()
        self.count += batch

    def steps(self, state: str, received: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """The transitions from received to `state`, a few hours to days apart."""
        from refloop.demo.factories import PATH_TO

        at, steps = received, []
        for step in PATH_TO[state]:
            at = at + dt.timedelta(hours=self.rng.uniform(2, 72))
            steps.append((str(step), min(at, self.now)))
        return steps


# --- report ----------------------------------------------------------------------------

PAGES = (
    "worklist",
    "worklist_filtered",
    "worklist_sorted",
    "worklist_page5",
    "detail",
    "audit",
    "audit_patient",
)


def ratio(large, small) -> str:
    return f"{large / small:5.2f}" if large and small else "    -"


def report(outcome: dict, sizes: tuple[int, ...]) -> None:
    small, large = str(sizes[0]), str(sizes[-1])
    a, b = outcome["sizes"][small], outcome["sizes"][large]
    say(
        f"  => side by side ({int(small):,} vs {int(large):,} referrals; ms of server time, "
        f"cpu = this process's CPU p50 (Python, templates; on SQLite the database too); "
        f"sql = statements per request; target p95 < {TARGET_P95_MS:.0f} ms at {int(large):,})"
    )
    say(
        f"     {'page':<34} {'p50':>7} {'p95':>7} {'cpu':>7} {'sql':>5} |"
        f" {'p50':>7} {'p95':>7} {'cpu':>7} {'sql':>5} | p95 x  cpu x  sql x  target"
    )
    summary: dict = {"pages": {}}
    errors = 0
    for key in PAGES:
        x, y = a[key], b[key]
        errors += len(x["errors"]) + len(y["errors"])
        met = y["p95_ms"] is not None and y["p95_ms"] < TARGET_P95_MS
        targeted = key.startswith(("worklist", "detail"))
        verdict_word = ("PASS" if met else "MISS") if targeted else "(info)"
        summary["pages"][key] = {
            "p95_ms": {small: x["p95_ms"], large: y["p95_ms"]},
            "p50_ms": {small: x["p50_ms"], large: y["p50_ms"]},
            "cpu_p50_ms": {small: x["cpu_p50_ms"], large: y["cpu_p50_ms"]},
            "queries": {small: queries_text(x), large: queries_text(y)},
            "p95_ratio": round(y["p95_ms"] / x["p95_ms"], 2)
            if x["p95_ms"] and y["p95_ms"]
            else None,
            "target_met": met if targeted else None,
        }
        say(
            f"     {x['label'][:34]:<34} {fmt(x['p50_ms'])} {fmt(x['p95_ms'])} "
            f"{fmt(x['cpu_p50_ms'])} {queries_text(x):>5} | {fmt(y['p50_ms'])} "
            f"{fmt(y['p95_ms'])} {fmt(y['cpu_p50_ms'])} {queries_text(y):>5} | "
            f"{ratio(y['p95_ms'], x['p95_ms'])}  {ratio(y['cpu_p50_ms'], x['cpu_p50_ms'])}  "
            f"{ratio(y['queries_max'], x['queries_max'])}  {verdict_word}"
        )
    for size in (small, large):
        rq = outcome["sizes"][size]["rows_vs_queries"]
        say(
            f"  => worklist rows shown vs SQL at {int(size):,}: {rq['10']['rows_shown']} rows -> "
            f"{rq['10']['queries']} statements, {rq['50']['rows_shown']} rows -> "
            f"{rq['50']['queries']} statements   "
            f"{'PASS (constant)' if rq['constant'] else 'MISS (grows with rows)'}"
        )
        summary[f"rows_vs_queries_{size}"] = rq
    slow = [
        (b[key]["slowest_statement_ms"], key, b[key]["slowest_statement"])
        for key in PAGES
        if summary["pages"][key]["target_met"] is False
    ]
    for took, key, sql in sorted(slow, reverse=True):
        say(f"  => {key} at {int(large):,}: slowest statement {took:.1f} ms: {sql[:300]}")
        plan = explain(key)
        summary["pages"][key]["slowest_plan"] = plan
        for line in plan.splitlines():
            say(f"       {line}")
    if errors:
        say(f"  !!! {errors} REQUEST(S) FAILED during measurement: these figures are NOT VALID.")
    summary["request_errors"] = errors
    summary["valid"] = errors == 0
    outcome["summary"] = summary


def explain(key: str) -> str:
    """The database's plan for the page's slowest statement (PostgreSQL runs it again with
    ANALYZE for actual times). Parameters are not printed; only the plan is."""
    from django.db import connection

    if key not in SLOWEST:
        return ""
    _, sql, params = SLOWEST[key]
    if not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT)"
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
    except Exception as error:  # noqa: BLE001 (a plan is a nicety; never abort the report)
        return f"(no plan: {type(error).__name__})"
    if connection.vendor == "postgresql":
        return "\n".join(row[0] for row in rows)
    return "\n".join(f"{'  ' * (row[1] > 0)}{row[-1]}" for row in rows)


def fmt(value: float | None) -> str:
    return f"{value:7.1f}" if value is not None else "      -"


def write(outcome: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"ui_pages-{outcome['database']}.json"
    path.write_text(json.dumps(outcome, indent=2) + "\n")
    say(f"  results: {path.relative_to(REPO_DIR)}")
    return path


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
