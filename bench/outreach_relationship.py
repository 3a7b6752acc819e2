"""The relationship page of a referring practice at scale: server time and SQL statements
at 10,000 practices, 100,000 outreach activities and 100,000 inbound referrals (with their
analytics facts), on SQLite and PostgreSQL.

Targets (issue 16): p95 server time under 150 ms, and a statement count that does not grow
with the activities and contacts shown. A missed target is reported, not raised: this is
a measurement, not a test.

Measured in-process through Django's whole stack (middleware, session auth, view,
template) with the test Client signed in as a liaison: no server, no network. The
referrals come from bench/ui_pages.py's builder (60 referring practices, so each of them
has about 1,700 referrals: the busiest offices a page can be about).

    .venv/bin/python bench/outreach_relationship.py [--db sqlite|postgresql|all] [--quick]
"""

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import intake  # noqa: E402  (the throwaway-database helpers)
import ui_pages  # noqa: E402  (the referral builder, the timing and the summary)

REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
REFERRALS = 100_000
PRACTICES = 10_000
ACTIVITIES = 100_000
TARGET_P95_MS = 150.0
DATABASES = intake.DATABASES
say = ui_pages.say


def run(kind: str, plan: ui_pages.Plan) -> dict | None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"refloop-bench-outreach-{kind}-"))
    result_path = data_dir / "result.json"
    try:
        with intake.database(kind, data_dir) as env:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "--db",
                kind,
                "--result",
                str(result_path),
                *(["--quick"] if plan == ui_pages.QUICK_PLAN else []),
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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = ui_pages.QUICK_PLAN if args.quick else ui_pages.Plan()
    if args.child:
        return child(args.db, plan, Path(args.result))
    failed = False
    for kind in DATABASES if args.db == "all" else (args.db,):
        try:
            outcome = run(kind, plan)
            failed |= not outcome["summary"]["valid"]
        except intake.BenchError as error:
            say(f"outreach relationship page on {kind}: !!! COULD NOT RUN: {error}")
            failed = True
        say()
    return 1 if failed else 0


# --- the child: build, measure, report -------------------------------------------------


def child(kind: str, plan: ui_pages.Plan, result_path: Path) -> int:
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.core.management import call_command
    from django.db import connections

    started = time.monotonic()
    outcome: dict = {
        "benchmark": "outreach_relationship",
        "database": kind,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": intake.environment(),
        "plan": {"warmup": plan.warmup, "samples_per_page": plan.samples},
        "targets": {"p95_ms_max": TARGET_P95_MS, "queries": "constant in rows shown"},
        "size": {"referrals": REFERRALS, "practices": PRACTICES, "activities": ACTIVITIES},
    }
    say(
        f"outreach relationship page on {kind}: {REFERRALS:,} referrals, {PRACTICES:,} "
        f"practices, {ACTIVITIES:,} activities; {plan.samples} requests per page after "
        f"{plan.warmup} warm-up"
    )
    try:
        call_command("migrate", run_syncdb=True, verbosity=0)
        world = ui_pages.World.create()
        world.grow_to(REFERRALS)
        say(f"  referrals built in {time.monotonic() - started:.1f} s")
        from refloop.analytics import facts

        facts.rebuild_all()
        say(f"  analytics facts built, {time.monotonic() - started:.1f} s in all")
        outreach = Outreach.create(world)
        from django.db import connection

        from refloop.core.maintenance import optimize_database

        optimize_database()
        if connection.vendor == "postgresql":
            # The facts and outreach tables were filled after ui_pages' ANALYZE; autovacuum
            # would analyze them soon after on a live installation.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        say(f"  practices and activities built, {time.monotonic() - started:.1f} s in all")
        outcome["pages"] = measure(outreach, plan)
        outcome["rows_vs_queries"] = rows_vs_queries(outreach)
        outcome["elapsed_s"] = round(time.monotonic() - started, 1)
        report(outcome)
        write(outcome)
        result_path.write_text(json.dumps(outcome))
    finally:
        connections.close_all()
    return 0


class Outreach:
    """A liaison, 10,000 practices with their relationship rows, and 100,000 activities:
    most spread thinly, the referring practices' pages with hundreds each, and two quiet
    practices holding exactly 1 and 30 (the statement count's comparison)."""

    def __init__(self, liaison, busy: list[int], one: int, thirty: int) -> None:
        self.liaison = liaison
        self.busy = busy
        self.one = one
        self.thirty = thirty

    @classmethod
    def create(cls, world) -> "Outreach":
        import random

        from django.db import transaction

        from refloop.core.roles import Role
        from refloop.demo import factories as f
        from refloop.network.models import Practice, StaffContact
        from refloop.outreach.models import Activity, Relationship, Territory

        rng = random.Random(20261206)
        liaison = f.UserFactory(username="bench-liaison", role=Role.LIAISON)
        referring = sorted({practice for _, practice in world.providers})
        with transaction.atomic():
            practices = ui_pages.Table(Practice, ("name", "city", "postal_code"))
            for n in range(PRACTICES - Practice.objects.count()):
                practices.add(
                    name=f"Practice {n:05d}",
                    city=f"Town {n % 400}",
                    postal_code=f"6{n % 10_000:04d}",
                )
            practices.flush()
            all_ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
            territory = Territory.objects.create(name="Bench", liaison=liaison)
            relationships = ui_pages.Table(Relationship, ("practice_id", "territory_id"))
            for pk in all_ids:
                relationships.add(practice_id=pk, territory_id=territory.pk if pk % 3 else None)
            relationships.flush()
            staff = ui_pages.Table(StaffContact, ("practice_id", "name", "role", "notes"))
            for pk in referring:
                for i in range(4):
                    staff.add(
                        practice_id=pk,
                        name=f"Staff {i}",
                        role="referral_coordinator",
                        notes="Prefers mornings.",
                    )
            staff.flush()
            quiet = [pk for pk in all_ids if pk not in set(referring)]
            one, thirty = quiet[0], quiet[1]
            activities = ui_pages.Table(
                Activity, ("kind", "practice_id", "liaison_id", "occurred_on", "notes")
            )
            today = dt.date.today()
            planted = [(one, 1), (thirty, 30)]
            spread = ACTIVITIES - 31
            busy_share = spread // 2  # half on the referring practices' pages
            for pk in referring:
                planted.append((pk, busy_share // len(referring)))
            remaining = ACTIVITIES - sum(n for _, n in planted)
            for practice_id, n in planted:
                for i in range(n):
                    activities.add(
                        kind="visit",
                        practice_id=practice_id,
                        liaison_id=liaison.pk,
                        occurred_on=today - dt.timedelta(days=i % 700),
                        notes="Dropped off the one-pager.",
                    )
            for _ in range(remaining):
                activities.add(
                    kind=rng.choice(("visit", "call", "drop_off")),
                    practice_id=rng.choice(quiet[2:]),
                    liaison_id=liaison.pk,
                    occurred_on=today - dt.timedelta(days=rng.randrange(700)),
                    notes="",
                )
            activities.flush()
        return cls(liaison, referring[:10], one, thirty)

    def client(self):
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
        client.force_login(self.liaison)
        return client


def probes(outreach: Outreach) -> list[ui_pages.Probe]:
    from django.urls import reverse

    pages = [reverse("outreach_practice", args=[pk]) for pk in outreach.busy]
    floor = f"{reverse('outreach_log')}?practice={outreach.thirty}"
    return [
        # What every outreach page pays (session, MFA gate, shell, base template) and
        # nothing that grows with the data: the pages' p50 over it, measured in the same
        # run, is steadier than their milliseconds when the machine is shared.
        ui_pages.Probe("floor", "floor: the log form for one practice", [floor]),
        ui_pages.Probe("relationship", f"relationship page, {len(pages)} busy practices", pages),
        ui_pages.Probe(
            "relationship_page5",
            "relationship page, activities page 5",
            [f"{url}?page=5" for url in pages],
        ),
        ui_pages.Probe(
            "relationship_quiet",
            "relationship page, a practice never referring",
            [reverse("outreach_practice", args=[outreach.thirty])],
        ),
        ui_pages.Probe("territories", "territories list", [reverse("outreach_territories")]),
    ]


def measure(outreach: Outreach, plan: ui_pages.Plan) -> dict:
    client = outreach.client()
    results: dict = {}
    for probe in probes(outreach):
        errors: list[str] = []
        for i in range(plan.warmup):
            client.get(probe.urls[i % len(probe.urls)])
        times, cpu_ms, queries, db_ms, slowest = [], [], [], [], []
        for i in range(plan.samples):
            url = probe.urls[i % len(probe.urls)]
            elapsed, cpu, counter, response = ui_pages.timed_get(client, url)
            if response.status_code != 200:
                errors.append(f"{url} -> HTTP {response.status_code}")
                continue
            times.append(elapsed * 1000)
            cpu_ms.append(cpu * 1000)
            queries.append(counter.count)
            db_ms.append(counter.seconds * 1000)
            slowest.append(max(counter.statements, default=(0.0, "", None), key=lambda t: t[0]))
        results[probe.key] = ui_pages.summarize(
            probe, times, cpu_ms, queries, db_ms, slowest, set(), errors
        )
        say(ui_pages.line_for(results[probe.key]))
    return results


def rows_vs_queries(outreach: Outreach) -> dict:
    """The page of a practice with 1 activity and of one with 30 (a full page of 20)."""
    from django.urls import reverse

    client = outreach.client()
    found = {}
    for label, pk in (("1", outreach.one), ("30", outreach.thirty)):
        url = reverse("outreach_practice", args=[pk])
        client.get(url)
        _, _, counter, response = ui_pages.timed_get(client, url)
        found[label] = {"status": response.status_code, "queries": counter.count}
    found["constant"] = found["1"]["queries"] == found["30"]["queries"]
    return found


def report(outcome: dict) -> None:
    pages, errors = outcome["pages"], 0
    summary: dict = {"pages": {}}
    floor = pages["floor"]["p50_ms"]
    for key, result in pages.items():
        errors += len(result["errors"])
        if key == "floor":
            continue
        met = result["p95_ms"] is not None and result["p95_ms"] < TARGET_P95_MS
        ratio = round(result["p50_ms"] / floor, 2) if result["p50_ms"] and floor else None
        summary["pages"][key] = {
            "p95_ms": result["p95_ms"],
            "p50_over_floor": ratio,
            "target_met": met,
        }
        say(
            f"  => {result['label']:<46} p95 {ui_pages.fmt(result['p95_ms'])} ms  "
            f"p50/floor {ratio}  {'PASS' if met else 'MISS'}"
            + ("" if met else f"  slowest: {result['slowest_statement'][:200]}")
        )
    rq = outcome["rows_vs_queries"]
    say(
        f"  => activities shown vs SQL: 1 -> {rq['1']['queries']} statements, 30 -> "
        f"{rq['30']['queries']} statements   "
        f"{'PASS (constant)' if rq['constant'] else 'MISS (grows with rows)'}"
    )
    summary["request_errors"] = errors
    summary["valid"] = errors == 0
    outcome["summary"] = summary


def write(outcome: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"outreach_relationship-{outcome['database']}.json"
    path.write_text(json.dumps(outcome, indent=2) + "\n")
    say(f"  results: {path.relative_to(REPO_DIR)}")
    return path


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
