"""Analytics at scale: the full dashboard (`dashboard.build`, every metric of docs/design.md for
the last 12 months, and again for one department) over 10,000 and 1,000,000 synthetic
referrals of three years, on SQLite and PostgreSQL, against DuckDB computing the same
figures from the same fact rows in the same run.

Targets (from the issue): under 500 ms on PostgreSQL at 1,000,000 referrals, and at most
3 times its own time at 10,000. A missed target is reported, not raised: this is a
measurement, not a test. A figure on which refloop and DuckDB disagree is a bug: it is
printed loudly and the run exits non-zero (the figures are not valid).

    ./run bench                                    # with every other benchmark (10,000)
    ./run bench --analytics-million                # ... and 1,000,000 (minutes)
    .venv/bin/python bench/analytics.py [--sizes 10000,1000000] [--db sqlite,postgresql]
        [--quick]

Each size gets a fresh database (a temporary SQLite file, or `refloop_bench_<pid>` on
PostgreSQL, dropped afterwards), loaded by `analytics_gen.py`, facts built by refloop's
`facts.rebuild_all`, then planner statistics (ANALYZE; VACUUM ANALYZE on PostgreSQL).
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import intake  # noqa: E402  (shares the throwaway-database helpers)

REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
SIZES = (10_000, 1_000_000)
DATABASES = intake.DATABASES
TARGET_MS = 500.0  # PostgreSQL at 1,000,000
TARGET_RATIO = 3.0  # t(1,000,000) / t(10,000)
TARGET_DB, TARGET_SIZE = "postgresql", 1_000_000
DEPARTMENT_CODE = "spine"  # scope (b): the busiest department


class Plan:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.warmup = 1
        self.runs = 3 if quick else 5
        self.part_runs = 1 if quick else 3


def say(line: str = "") -> None:
    print(line, flush=True)


# --- the parent: one child process per database and size -------------------------------


def run(kind: str, size: int, plan: Plan) -> dict:
    """Build and measure one size on one fresh database in a child process."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"refloop-bench-analytics-{kind}-"))
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
                str(size),
                "--result",
                str(result_path),
                *(["--quick"] if plan.quick else []),
            ]
            done = subprocess.run(command, cwd=BENCH_DIR, env=env, timeout=4 * 3600)
            if done.returncode != 0 or not result_path.exists():
                raise intake.BenchError(f"the measuring process exited with {done.returncode}")
            return json.loads(result_path.read_text())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def parse_list(text: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if text == "all":
        return allowed
    chosen = tuple(x.strip() for x in text.split(",") if x.strip())
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        raise SystemExit(f"--db: unknown {unknown}; choose from {', '.join(allowed)} or all")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="all", help="sqlite,postgresql (default: all)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="default 10000,1000000")
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    plan = Plan(args.quick)
    sizes = tuple(sorted(int(s) for s in args.sizes.split(",")))
    kinds = parse_list(args.db, DATABASES)
    if args.child:
        return child(kinds[0], sizes[0], plan, Path(args.result))
    failed = False
    outcomes: dict[tuple[str, int], dict] = {}
    for kind in kinds:
        for size in sizes:
            try:
                outcome = run(kind, size, plan)
                outcomes[(kind, size)] = outcome
                failed |= bool(outcome["mismatches"])
            except intake.BenchError as error:
                say(f"analytics on {kind} at {size:,}: !!! COULD NOT RUN: {error}")
                failed = True
            say()
    if outcomes:
        summary(outcomes)
    return 1 if failed else 0


# --- the child: load, build facts, measure ----------------------------------------------


def child(kind: str, size: int, plan: Plan, result_path: Path) -> int:
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    django.setup()
    import analytics_gen
    from django.core.management import call_command
    from django.db import connection, connections

    outcome: dict = {
        "benchmark": "analytics",
        "database": kind,
        "size": size,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": environment(),
        "plan": {"warmup": plan.warmup, "runs": plan.runs, "part_runs": plan.part_runs},
        "targets": {"postgresql_1m_ms": TARGET_MS, "ratio_1m_10k": TARGET_RATIO},
    }
    say(
        f"analytics on {kind} at {size:,} referrals: {os.cpu_count()} CPUs, load average "
        f"{outcome['environment']['load_average_before'][0]}"
    )
    try:
        call_command("migrate", verbosity=0)

        # 1. the history
        started = time.monotonic()

        def loaded(done: int, total: int) -> None:
            say(f"    generated {done:,}/{total:,} referrals ({time.monotonic() - started:.0f} s)")

        generated = analytics_gen.generate(size, progress=loaded if size >= 100_000 else None)
        analyze(connection)
        generated["seconds_with_analyze"] = round(time.monotonic() - started, 1)
        outcome["load"] = generated
        say(
            f"  load: {generated['inbound']:,} inbound + {generated['outbound']:,} outbound "
            f"referrals, {generated['patients']:,} patients, {generated['events']:,} events, "
            f"{generated['attempts']:,} contact attempts, {generated['appointments']:,} "
            f"appointments: {generated['rows']:,} rows in {generated['seconds_with_analyze']:.1f} s "
            f"({generated['rows'] / generated['seconds_with_analyze']:,.0f} rows/s)"
        )

        # 2. the facts, by refloop itself
        from refloop.analytics import facts
        from refloop.analytics.models import AppointmentFact, ReferralFact

        started = time.monotonic()
        last_report = [started]

        def progressed(done: int, total: int) -> None:
            if time.monotonic() - last_report[0] > 30:
                last_report[0] = time.monotonic()
                say(f"    facts {done:,}/{total:,} ({time.monotonic() - started:.0f} s)")

        written = facts.rebuild_all(progress=progressed)
        rebuild_s = time.monotonic() - started
        analyze(connection)
        outcome["facts"] = {
            "referrals": written,
            "referral_facts": ReferralFact.objects.count(),
            "appointment_facts": AppointmentFact.objects.count(),
            "seconds": round(rebuild_s, 1),
            "referrals_per_s": round(written / rebuild_s),
        }
        say(
            f"  facts: rebuild_all wrote {outcome['facts']['referral_facts']:,} referral facts and "
            f"{outcome['facts']['appointment_facts']:,} appointment facts in {rebuild_s:.1f} s "
            f"({outcome['facts']['referrals_per_s']:,} referrals/s)"
        )

        # 3. refloop's dashboard, timed (the sources as imported now, just before)
        from refloop.analytics import dashboard  # noqa: F401

        outcome["environment"].update(sources())
        scopes = make_scopes()
        outcome["scopes"] = {k: describe(s) for k, s in scopes.items()}
        outcome["timing"] = measure(scopes, plan)
        outcome["breakdown"] = breakdown(scopes, plan)
        outcome["statements"] = statements(scopes)

        outcome["figures"] = figures(scopes["a"])

        # 4. DuckDB over the same facts, and the comparison
        outcome["duckdb"], outcome["mismatches"] = reference(scopes, plan)
        outcome["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        report(outcome)
        write(outcome)
        result_path.write_text(json.dumps(outcome, default=str))
    finally:
        connections.close_all()
    return 0


def environment() -> dict:
    # No git here: other work may hold the repository. What was measured is named by a
    # digest of the analytics sources instead (they change often).
    return {
        **sources(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def sources() -> dict:
    # The package Python imports, which is not this checkout's src/ when the virtualenv
    # installed another one (a worktree sharing a venv: put PYTHONPATH=src in front).
    import refloop.analytics

    folder = Path(refloop.analytics.__file__).resolve().parent
    paths = sorted(folder.glob("*.py"))
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()
    newest = max(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) for path in paths)
    return {
        "analytics_sources": str(folder),
        "analytics_sources_sha256": digest[:16],
        "analytics_sources_newest": newest.isoformat(timespec="seconds"),
    }


def analyze(connection) -> None:
    """Planner statistics after a bulk load, as a live installation would have them
    (PostgreSQL's autovacuum; the hint bits and visibility map too, for index-only scans)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = connection.connection
            autocommit = raw.autocommit
            raw.autocommit = True
            try:
                raw.execute("VACUUM ANALYZE")
            finally:
                raw.autocommit = autocommit
        else:
            cursor.execute("ANALYZE")


def make_scopes() -> dict:
    """(a) the last 12 months, no filters; (b) the same for the busiest department."""
    import analytics_gen

    from refloop.analytics.metrics import Filters, Period, Scope
    from refloop.analytics.referrers import months_before
    from refloop.practice.models import Department, Organization

    zone = Organization.current().zone
    end = analytics_gen.NOW.astimezone(zone).date() + dt.timedelta(days=1)
    period = Period(months_before(end, 12), end)
    department = Department.objects.get(code=DEPARTMENT_CODE)
    return {
        "a": Scope.of(period, now=analytics_gen.NOW),
        "b": Scope.of(period, Filters(department=department.pk), now=analytics_gen.NOW),
    }


def checked_scopes() -> dict:
    """Scopes compared with the reference but not timed: the rules (a) and (b) never reach,
    as the data covers the year before them. (c) starts before the data: months with no
    data, a month from the first day on record, nothing compared; (d) ends past today;
    (e) lies inside one month; (f) half a year of one department, cut mid-month at both
    ends, compared with the half-year before."""
    import analytics_gen

    from refloop.analytics.metrics import Filters, Period, Scope
    from refloop.practice.models import Department

    now = analytics_gen.NOW
    spine = Filters(department=Department.objects.get(code=DEPARTMENT_CODE).pk)
    periods = {
        "c": (Period(dt.date(2023, 9, 15), dt.date(2024, 3, 15)), None),
        "d": (Period(dt.date(2026, 10, 1), dt.date(2027, 1, 1)), None),
        "e": (Period(dt.date(2025, 3, 3), dt.date(2025, 3, 21)), None),
        "f": (Period(dt.date(2024, 6, 10), dt.date(2024, 12, 10)), spine),
    }
    return {key: Scope.of(period, filters, now=now) for key, (period, filters) in periods.items()}


def describe(scope) -> dict:
    return {
        "start": scope.period.start.isoformat(),
        "end": scope.period.end.isoformat(),
        "filters": scope.filters.as_params(),
    }


def stats_ms(samples: list[float]) -> dict:
    return {
        "min_ms": round(min(samples) * 1000, 1),
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "runs": len(samples),
    }


def timed(fn, runs: int, warmup: int = 0) -> tuple[list[float], object]:
    result = None
    for _ in range(warmup):
        result = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return samples, result


def measure(scopes: dict, plan: Plan) -> dict:
    """The full dashboard, (a) then (b) in each run after a warm-up; then metrics.compute
    and the three API pieces alone."""
    from refloop.analytics import dashboard, metrics, referrers

    for scope in scopes.values():
        dashboard.build(scope)
    a_samples, b_samples, totals, cpu = [], [], [], []
    for _ in range(plan.runs):
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        dashboard.build(scopes["a"])
        middle = time.perf_counter()
        dashboard.build(scopes["b"])
        end = time.perf_counter()
        cpu.append(cpu_seconds() - cpu_start)
        a_samples.append(middle - start)
        b_samples.append(end - middle)
        totals.append(end - start)
    result = {
        "dashboard": {
            "a": stats_ms(a_samples),
            "b": stats_ms(b_samples),
            "total": stats_ms(totals),
            "total_cpu": stats_ms(cpu),
        }
    }
    say(
        f"  dashboard.build (median of {plan.runs}): (a) 12 months "
        f"{result['dashboard']['a']['median_ms']:.0f} ms, (b) one department "
        f"{result['dashboard']['b']['median_ms']:.0f} ms, full dashboard (a)+(b) "
        f"{fmt_range(result['dashboard']['total'])}; CPU (this process and its database "
        f"backend) {result['dashboard']['total_cpu']['median_ms']:.0f} ms"
    )
    for name, fn in (
        ("metrics.compute", metrics.compute),
        ("referrers.referrers", referrers.referrers),
        ("metrics.funnel", metrics.funnel),
    ):
        result[name] = {}
        for key, scope in scopes.items():
            samples, _ = timed(lambda fn=fn, scope=scope: fn(scope), plan.runs, plan.warmup)
            result[name][key] = stats_ms(samples)
        say(
            f"  {name + ' alone':<28} (a) {result[name]['a']['median_ms']:8.1f} ms   "
            f"(b) {result[name]['b']['median_ms']:8.1f} ms"
        )
    return result


def cpu_seconds() -> float:
    """CPU used so far by this process and, on PostgreSQL, by its backend (parallel
    workers, if the planner starts any, are not counted): steadier than wall time when
    other work shares the machine."""
    from django.db import connection

    used = time.process_time()
    if connection.vendor == "postgresql":
        pid = connection.__dict__.get("bench_backend_pid")
        if pid is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = connection.__dict__["bench_backend_pid"] = cursor.fetchone()[0]
        used += intake.cpu_seconds(pid)
    return used


def fmt_range(s: dict) -> str:
    return f"{s['median_ms']:.0f} ms (min {s['min_ms']:.0f}, max {s['max_ms']:.0f})"


def figures(scope) -> dict:
    """What the data looks like through refloop's eyes (scope a), to show the history is
    plausible: the metrics, segment sizes, declining practices, the funnel."""
    from refloop.analytics import dashboard

    built = dashboard.build(scope)
    m = built["metrics"]
    return {
        "metrics": {k: v for k, v in m.items() if k not in ("concentration", "leakage")}
        | {
            "concentration": {k: v for k, v in m["concentration"].items() if k != "ranked"},
            "leakage": {k: v for k, v in m["leakage"].items() if k != "by_receiving_practice"},
        },
        "segments": {k: len(v) for k, v in built["segments"].items()},
        "declining": len(built["declining"]),
        "funnel": {s["state"]: s["reached"] for s in built["funnel"]["states"]},
        "bottleneck_sentences": built["bottlenecks"]["sentences"],
    }


# --- where the time goes -------------------------------------------------------------


class Recorder:
    """Counts the SQL statements of a stretch of code and their time (on SQLite the rows
    are fetched after `execute` returns, so part of a statement's cost shows as Python)."""

    def __init__(self) -> None:
        self.part = ""
        self.statements: list[tuple[str, float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((self.part, time.perf_counter() - start, sql, params))


def parts(scope) -> list[tuple[str, object]]:
    """dashboard.build's pieces in its order, each callable alone; indented names are the
    pieces of the piece above (for information, already inside its time)."""
    from refloop.analytics import bottlenecks, dashboard, metrics, referrers
    from refloop.analytics.stats import percentiles

    summary = metrics._summary(scope)
    dwell = [f"dwell_{state}" for state in metrics.DWELL_STATES]
    return [
        ("summary", lambda: metrics._summary(scope)),
        ("metrics.compute", lambda: metrics.compute(scope)),
        ("  durations (3 clocks)", lambda: metrics.durations(scope)),
        ("  show_rate", lambda: metrics.show_rate(scope)),
        ("  loop_closure", lambda: metrics.loop_closure(scope)),
        ("  leakage", lambda: metrics.leakage(scope)),
        ("  lost", lambda: metrics.lost(scope)),
        ("  concentration", lambda: metrics.concentration(scope)),
        ("  lifetime_value", lambda: metrics.lifetime_value(scope)),
        ("referrers", lambda: referrers.referrers(scope)),
        ("  segments", lambda: referrers.segments(scope.period.end, scope.zone)),
        ("  drift", lambda: referrers.drift(scope.period.end, scope.zone)),
        ("funnel", lambda: metrics.funnel(scope, summary)),
        (
            "  dwell medians",
            lambda: percentiles(metrics.cohort(scope), dwell, ps=(0.5,)),
        ),
        ("by_source_type", lambda: dashboard.volume_series(scope, "source_type")),
        ("by_channel", lambda: dashboard.volume_series(scope, "channel")),
        ("sla", lambda: dashboard.sla(scope)),
        ("bottlenecks", lambda: bottlenecks.find(scope)),
        ("flows", lambda: dashboard.flows(scope)),
    ]


def breakdown(scopes: dict, plan: Plan) -> dict:
    """Each top-level piece of dashboard.build timed alone (median of a few runs), with
    its SQL statement count and time."""
    from django.db import connection

    result = {}
    for key, scope in scopes.items():
        rows = []
        for name, fn in parts(scope):
            fn()  # warm
            recorder = Recorder()
            with connection.execute_wrapper(recorder):
                cpu = time.process_time()
                samples, _ = timed(fn, plan.part_runs)
                cpu = (time.process_time() - cpu) / plan.part_runs
            rows.append(
                {
                    "part": name,
                    "median_ms": round(statistics.median(samples) * 1000, 1),
                    "cpu_ms": round(cpu * 1000, 1),
                    "statements": len(recorder.statements) // plan.part_runs,
                    "sql_ms": round(
                        sum(t for _, t, _, _ in recorder.statements) * 1000 / plan.part_runs, 1
                    ),
                }
            )
        top = [r for r in rows if not r["part"].startswith(" ")]
        result[key] = {"parts": rows, "sum_of_parts_ms": round(sum(r["median_ms"] for r in top), 1)}
    return result


def statements(scopes: dict) -> dict:
    """One instrumented dashboard.build per scope: the statements it runs, the slowest
    ones, and on PostgreSQL the plans of the slowest three (EXPLAIN ANALYZE, BUFFERS)."""
    from django.db import connection

    from refloop.analytics import dashboard, metrics

    result = {}
    for key, scope in scopes.items():
        recorder = Recorder()
        with connection.execute_wrapper(recorder):
            dashboard.build(scope)
        slowest = sorted(recorder.statements, key=lambda s: -s[1])[:8]
        entry = {
            "count": len(recorder.statements),
            "sql_ms": round(sum(s[1] for s in recorder.statements) * 1000, 1),
            "slowest": [
                {"ms": round(t * 1000, 1), "sql": re.sub(r"\s+", " ", sql)[:600]}
                for _, t, sql, _ in slowest
            ],
        }
        if connection.vendor == "postgresql":
            # Under the same session settings as the build (refloop's analytics reads may
            # set work_mem for their duration).
            reading = getattr(metrics, "reading", contextlib.nullcontext)
            with reading():
                entry["plans"] = [explain(sql, params) for _, _, sql, params in slowest[:3]]
        result[key] = entry
    return result


def explain(sql: str, params) -> str:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
    except Exception as error:  # noqa: BLE001 (a plan is a nicety; never abort the report)
        return f"(no plan: {type(error).__name__}: {error})"


# --- the DuckDB reference ------------------------------------------------------------


def reference(scopes: dict, plan: Plan) -> tuple[dict, list[str]]:
    import analytics_duckdb as duck

    from refloop.analytics import dashboard, metrics

    folder = Path(tempfile.mkdtemp(prefix="refloop-bench-duckdb-"))
    try:
        exported = duck.export(folder)
        ref = duck.Reference(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ctx = duck.Context(ref)
    checked = {**scopes, **checked_scopes()}
    windows = {
        key: duck.Window(
            scope.period.start, scope.period.end, scope.zone, scope.filters.department, scope.now
        )
        for key, scope in checked.items()
    }
    result: dict = {
        "export_s": round(exported["seconds"], 2),
        "csv_bytes": exported["bytes"],
        "load_s": round(ref.load_seconds, 2),
        "rows": ref.rows,
    }
    for name, fn in (("dashboard", duck.dashboard), ("metrics", duck.compute)):
        a_samples, b_samples, totals = [], [], []
        args = {"dashboard": (ctx,), "metrics": ()}[name]
        for key in scopes:
            fn(ref, windows[key], *args)
        for _ in range(plan.runs):
            start = time.perf_counter()
            fn(ref, windows["a"], *args)
            middle = time.perf_counter()
            fn(ref, windows["b"], *args)
            end = time.perf_counter()
            a_samples.append(middle - start)
            b_samples.append(end - middle)
            totals.append(end - start)
        result[name] = {
            "a": stats_ms(a_samples),
            "b": stats_ms(b_samples),
            "total": stats_ms(totals),
        }
    say(
        f"  DuckDB (in memory, from CSV: export {result['export_s']:.1f} s, load "
        f"{result['load_s']:.1f} s): dashboard figures (a)+(b) {fmt_range(result['dashboard']['total'])}"
        f", metrics.compute figures (a)+(b) {result['metrics']['total']['median_ms']:.1f} ms"
    )
    mismatches: list[str] = []
    notes: list[str] = []
    for key, scope in checked.items():
        built = dashboard.build(scope)
        theirs = duck.dashboard(ref, windows[key], ctx)
        found = duck.compare(built, theirs)
        notes += [f"({key}) {line}" for line in duck.unchecked(built)]
        found += duck.differences(
            duck.comparable_metrics(metrics.compute(scope)),
            duck.comparable_metrics(duck.compute(ref, windows[key])),
            "compute",
        )
        mismatches += [f"({key}) {line}" for line in found]
    result["compared"] = "dashboard.build and metrics.compute, the timed scopes and " + ", ".join(
        f"({key}) {describe(scope)}" for key, scope in checked.items() if key not in scopes
    )
    result["not_compared"] = notes
    for line in notes:
        say(f"  (not compared) {line}")
    return result, mismatches


# --- reporting --------------------------------------------------------------------------


def report(outcome: dict) -> None:
    env = outcome["environment"]
    say(
        f"  analytics sources {env['analytics_sources']} {env['analytics_sources_sha256']} "
        f"(newest file {env['analytics_sources_newest']})"
    )
    busy = max(env["load_average_before"][0], env["load_average_after"][0]) > env["cpus"]
    say(
        f"  load average (1 min) before {env['load_average_before'][0]}, after "
        f"{env['load_average_after'][0]} on {env['cpus']} CPUs"
        + (": other work shared the machine; wall times include waiting for a CPU" if busy else "")
    )
    for key in ("a", "b"):
        rows = outcome["breakdown"][key]["parts"]
        say(
            f"  breakdown of dashboard.build ({key}): each piece alone, median ms / CPU ms / SQL "
            f"statements (SQL ms); sum of top-level pieces "
            f"{outcome['breakdown'][key]['sum_of_parts_ms']:.0f} ms"
        )
        for row in rows:
            say(
                f"     {row['part']:<24} {row['median_ms']:9.1f} {row['cpu_ms']:9.1f} "
                f"{row['statements']:5d} ({row['sql_ms']:.1f})"
            )
        entry = outcome["statements"][key]
        say(
            f"  SQL of one dashboard.build ({key}): {entry['count']} statements, {entry['sql_ms']:.0f} ms; slowest:"
        )
        for s in entry["slowest"][:5]:
            say(f"     {s['ms']:8.1f} ms  {s['sql'][:220]}")
    duck = outcome["duckdb"]
    ours = outcome["timing"]["dashboard"]["total"]["median_ms"]
    theirs = duck["dashboard"]["total"]["median_ms"]
    compute_ours = sum(outcome["timing"]["metrics.compute"][k]["median_ms"] for k in ("a", "b"))
    compute_theirs = duck["metrics"]["total"]["median_ms"]
    say(
        f"  => refloop / DuckDB: full dashboard {ours:.0f} / {theirs:.1f} ms = {ours / theirs:.1f}x; "
        f"metrics.compute {compute_ours:.0f} / {compute_theirs:.1f} ms = {compute_ours / compute_theirs:.1f}x"
    )
    if outcome["mismatches"]:
        say(f"  !!! {len(outcome['mismatches'])} MISMATCH(ES) between refloop and DuckDB:")
        for line in outcome["mismatches"][:40]:
            say(f"  !!!   {line}")
        if len(outcome["mismatches"]) > 40:
            say(f"  !!!   ... and {len(outcome['mismatches']) - 40} more (see the JSON)")
    else:
        unchecked = " compared" if duck.get("not_compared") else ""
        say(
            f"  => refloop and DuckDB agree on every{unchecked} figure of every scope (the timed"
            " (a) and (b), and (c)-(f) compared only; counts equal, floats within 1e-6)"
        )


def write(outcome: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"analytics-{outcome['database']}-{outcome['size']}.json"
    path.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    say(f"  results: {path.relative_to(REPO_DIR)}")
    return path


def earlier(kind: str, size: int) -> dict | None:
    path = RESULTS_DIR / f"analytics-{kind}-{size}.json"
    if path.exists():
        with contextlib.suppress(ValueError):
            return json.loads(path.read_text())
    return None


def summary(outcomes: dict[tuple[str, int], dict]) -> None:
    """The table across databases and sizes, the targets and the ratios. A size not
    measured in this run is taken from its last results file, and marked so."""
    kinds = sorted({k for k, _ in outcomes}, key=DATABASES.index)
    say(
        "analytics: summary (ms are medians; full = (a) 12 months + (b) one department; cpu ="
        " this process and its database backend during the full dashboard)"
    )
    say(
        f"  {'db':<10} {'size':>9} {'load s':>7} {'facts/s':>8} {'(a)':>8} {'(b)':>8} "
        f"{'full':>8} {'min-max':>13} {'cpu':>7} {'DuckDB':>7} {'x':>6} {'mismatch':>8}"
    )
    for kind in kinds:
        figures = {}
        for size in SIZES:
            outcome = outcomes.get((kind, size))
            note = ""
            if outcome is None:
                outcome = earlier(kind, size)
                note = " (earlier run)"
            if outcome is None:
                continue
            figures[size] = outcome
            t = outcome["timing"]["dashboard"]
            duck = outcome["duckdb"]["dashboard"]["total"]["median_ms"]
            say(
                f"  {kind:<10} {size:>9,} {outcome['load']['seconds_with_analyze']:>7.0f} "
                f"{outcome['facts']['referrals_per_s']:>8,} {t['a']['median_ms']:>8.0f} "
                f"{t['b']['median_ms']:>8.0f} {t['total']['median_ms']:>8.0f} "
                f"{t['total']['min_ms']:>6.0f}-{t['total']['max_ms']:<6.0f} "
                f"{t.get('total_cpu', {}).get('median_ms', float('nan')):>7.0f} {duck:>7.1f} "
                f"{t['total']['median_ms'] / duck:>6.1f} {len(outcome['mismatches']):>8}{note}"
            )
        if len(figures) == 2:
            small, large = (figures[s]["timing"]["dashboard"]["total"]["median_ms"] for s in SIZES)
            ratio = large / small
            verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
            say(
                f"  => {kind}: t(1,000,000) / t(10,000) = {large:.0f} / {small:.0f} ms = "
                f"{ratio:.1f}x (target <= {TARGET_RATIO:.0f}x)   {verdict}"
            )
    target = outcomes.get((TARGET_DB, TARGET_SIZE)) or earlier(TARGET_DB, TARGET_SIZE)
    if target:
        t = target["timing"]["dashboard"]["total"]["median_ms"]
        duck = target["duckdb"]["dashboard"]["total"]["median_ms"]
        verdict = "PASS" if t < TARGET_MS else "MISS"
        say(
            f"  => PostgreSQL at 1,000,000: full dashboard {t:.0f} ms (target < {TARGET_MS:.0f} ms)"
            f"   {verdict}; DuckDB on the same facts {duck:.1f} ms ({t / TARGET_MS:.1f}x the "
            f"target, {t / duck:.0f}x DuckDB)"
        )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
