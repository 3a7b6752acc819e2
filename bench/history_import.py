"""History import throughput: N realistic rows (default 10,000) in a CSV, checked and imported
into a fresh database by `refloop.history` (the whole path: read, check every row, write
patients, practices, providers, referrals, timelines, contact attempts, appointments, the
audit entry and the analytics facts, in one transaction).

Baselines, measured in the same run on the same file and database: Python's csv module
reading and splitting the file (no checks), and a raw multi-row INSERT of the same number
of bare referral rows (one patient, every other column constant), rolled back afterwards.
Reported as ratios. Target: at least 10,000 rows/s on SQLite (PASS/MISS; a miss is
reported, not raised).

    .venv/bin/python bench/history_import.py [--rows N] [--db sqlite|postgresql|all]

SQLite always runs (a fresh file in a temporary folder). PostgreSQL runs when
REFLOOP_DATABASE_URL is set (or with --db postgresql): a throwaway database is created on
that server and dropped afterwards; the database named in the URL is not touched.
"""

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(REPO_DIR / "src"))

ROWS = 10_000
TARGET_ROWS_PER_S = 10_000
DEPARTMENTS = ("spine", "hand", "knee", "sports")


def say(line: str = "") -> None:
    print(line, flush=True)


# --- the parent: one child process per database ------------------------------------------


def child_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLOOP_")}
    env.update(
        DJANGO_SETTINGS_MODULE="refloop.settings",
        REFLOOP_DATA_DIR=str(data_dir),
        REFLOOP_LOG_LEVEL="WARNING",
    )
    if database_url:
        env["REFLOOP_DATABASE_URL"] = database_url
    return env


def run(kind: str, rows: int, server_url: str | None) -> dict | None:
    """Measure on a fresh database of `kind` in a child process; returns its result."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"refloop-bench-history-{kind}-"))
    result_path = data_dir / "result.json"
    scratch = None
    try:
        url = None
        if kind == "postgresql":
            scratch = f"refloop_bench_history_{os.getpid()}"
            url = _create_database(server_url, scratch)
        command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
        command += ["--rows", str(rows)]
        command += ["--result", str(result_path)]
        done = subprocess.run(command, env=child_env(data_dir, url), cwd=REPO_DIR, timeout=3600)
        if done.returncode != 0 or not result_path.exists():
            say(f"history import on {kind}: !!! COULD NOT RUN (exit {done.returncode})")
            return None
        return json.loads(result_path.read_text())
    finally:
        if scratch is not None:
            _drop_database(server_url, scratch)
        shutil.rmtree(data_dir, ignore_errors=True)


def _admin_url(server_url: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/postgres"))


def _create_database(server_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_url(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def _drop_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_url(server_url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="rows in the file (10,000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="2,000 rows (for ./run bench)")
    args = parser.parse_args(argv)
    rows = 2_000 if args.quick else args.rows
    if args.child:
        return child(args.child, rows, Path(args.result))
    server_url = os.environ.get("REFLOOP_DATABASE_URL") or os.environ.get("BENCH_POSTGRES_URL")
    kinds = ["sqlite"]
    if args.db == "postgresql":
        kinds = ["postgresql"]
    elif args.db == "all" or (args.db is None and os.environ.get("REFLOOP_DATABASE_URL")):
        kinds.append("postgresql")
    if "postgresql" in kinds and not server_url:
        server_url = "postgres://postgres@127.0.0.1:5432/postgres"
    failed = False
    for kind in kinds:
        failed |= run(kind, rows, server_url) is None
        say()
    return 1 if failed else 0


# --- the child: build the file, measure, report ---------------------------------------------


def child(kind: str, rows: int, result_path: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from refloop.demo import factories as f
    from refloop.demo.history_rows import as_lines, history_rows

    call_command("migrate", verbosity=0)
    f.OrganizationFactory()
    for code in DEPARTMENTS:
        f.DepartmentFactory(code=code, name=code.title())
    f.UserFactory(username="cora")
    work = result_path.parent
    path = work / "history.csv"
    lines = as_lines(history_rows(rows, departments=list(DEPARTMENTS), now=timezone.now()))
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(lines)
    size_mb = path.stat().st_size / 1e6
    load = os.getloadavg()[0]
    say(
        f"history import on {kind}: {rows:,} rows ({size_mb:.1f} MB CSV) into a fresh database; "
        f"{os.cpu_count()} CPUs, load average before {load:.2f}"
    )
    parse = _csv_baseline(path)
    bare = _bare_insert_baseline(rows)
    imported = _import(path, rows)
    outcome = {
        "benchmark": "history_import",
        "database": kind,
        "rows": rows,
        "file_mb": round(size_mb, 2),
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": round(load, 2),
            "database_vendor": connection.vendor,
        },
        "baseline_csv_parse": parse,
        "baseline_bare_insert": bare,
        "import": imported,
        "target_rows_per_s": TARGET_ROWS_PER_S,
    }
    report(outcome)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"history_import-{kind}.json").write_text(json.dumps(outcome, indent=2) + "\n")
    result_path.write_text(json.dumps(outcome))
    return 0


def _timed(work) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of `work()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _rates(rows: int, wall: float, cpu: float) -> dict:
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "rows_per_s": round(rows / wall),
        "rows_per_cpu_s": round(rows / cpu) if cpu else None,
    }


def _csv_baseline(path: Path) -> dict:
    """Python's csv module reading and splitting the same file, nothing else."""
    counted = []

    def parse():
        with path.open(newline="", encoding="utf-8") as handle:
            counted.append(sum(1 for _ in csv.reader(handle)) - 1)

    wall, cpu = _timed(parse)
    return _rates(counted[0], wall, cpu)


def _bare_insert_baseline(rows: int) -> dict:
    """The same number of bare referral rows in multi-row INSERTs (one patient, constant
    columns), in a transaction rolled back afterwards."""
    from datetime import UTC, datetime

    from django.db import connection, transaction

    from refloop.history.bulk import Table
    from refloop.patients.models import Patient
    from refloop.referrals.models import Referral

    class Rollback(Exception):
        pass

    received = datetime(2024, 1, 1, tzinfo=UTC)
    timings = []
    try:
        with transaction.atomic():
            patient = Patient.objects.create(
                first_name="Bench", last_name="Patient", date_of_birth="1970-01-01"
            )
            columns = ("number", "direction", "state", "patient_id", "source_type", "channel")
            columns += ("received_at", "state_changed_at")
            received_text = (
                str(received.replace(tzinfo=None)) if connection.vendor == "sqlite" else received
            )
            values = [
                (f"B-{n:09d}", "inbound", "received", patient.pk, "self", "import")
                + (received_text, received_text)
                for n in range(rows)
            ]
            table = Table(Referral, columns)
            table.converters = []  # the values are prepared above: the raw INSERT alone
            timings.append(_timed(lambda: table.insert(values)))
            raise Rollback
    except Rollback:
        pass
    return _rates(rows, *timings[0])


def _import(path: Path, rows: int) -> dict:
    """Check and import the file as `refloop import history` does, timing each phase."""
    from refloop.history import services
    from refloop.history.validation import check_file

    phases: dict[str, tuple[float, float]] = {}
    build_facts = services._build_facts

    def timed_build_facts(*args):
        # The facts of every imported referral, all chunks, after the rows commit.
        phases["analytics_rebuild"] = _timed(lambda: build_facts(*args))

    services._build_facts = timed_build_facts
    checked = []
    phases["read_and_check"] = _timed(
        lambda: checked.append(check_file(path.read_bytes(), path.name))
    )
    if checked[0].errors:
        raise SystemExit(f"the generated file has problems: {checked[0].errors[:3]}")
    results = []
    phases["write"] = _timed(lambda: results.append(services.import_history(checked[0])))
    assert results[0].imported == rows
    wall = phases["read_and_check"][0] + phases["write"][0]
    cpu = phases["read_and_check"][1] + phases["write"][1]
    rebuild_wall, rebuild_cpu = phases.get("analytics_rebuild", (0.0, 0.0))
    return {
        "total": _rates(rows, wall, cpu),
        "without_analytics_rebuild": _rates(rows, wall - rebuild_wall, cpu - rebuild_cpu),
        "phases_wall_s": {name: round(times[0], 3) for name, times in phases.items()},
        "phases_cpu_s": {name: round(times[1], 3) for name, times in phases.items()},
        "created": {
            "patients": results[0].patients_created,
            "practices": results[0].practices_created,
            "providers": results[0].providers_created,
        },
    }


def report(outcome: dict) -> None:
    parse = outcome["baseline_csv_parse"]
    bare = outcome["baseline_bare_insert"]
    total = outcome["import"]["total"]
    own = outcome["import"]["without_analytics_rebuild"]
    phases = outcome["import"]["phases_wall_s"]
    say(f"  csv module, read + split only: {parse['rows_per_s']:>9,} rows/s (baseline)")
    say(f"  bare referral INSERTs:         {bare['rows_per_s']:>9,} rows/s (baseline)")
    say(
        f"  history import, whole path:    {total['rows_per_s']:>9,} rows/s "
        f"({total['wall_s']:.2f} s wall, {total['rows_per_cpu_s']:,} rows per CPU-second)"
    )
    cpu = outcome["import"]["phases_cpu_s"]
    say(
        f"    without the analytics rebuild: {own['rows_per_s']:,} rows/s, "
        f"{own['rows_per_cpu_s']:,} rows per CPU-second"
    )
    say(
        "    phases, wall / CPU s: "
        + ", ".join(f"{name} {phases[name]} / {cpu[name]}" for name in phases)
        + " (write includes the analytics rebuild)"
    )
    say(
        f"  ratios: import/csv-parse {total['rows_per_s'] / parse['rows_per_s']:.1%}, "
        f"import/bare-insert {total['rows_per_s'] / bare['rows_per_s']:.1%}"
    )
    if outcome["database"] == "sqlite":
        verdict = "PASS" if total["rows_per_s"] >= TARGET_ROWS_PER_S else "MISS"
        say(f"  target ≥ {TARGET_ROWS_PER_S:,} rows/s on SQLite: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
