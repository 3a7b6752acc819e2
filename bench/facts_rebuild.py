"""The analytics facts' full rebuild (`facts.rebuild_all`) over N synthetic referrals
(bench/analytics_gen.py's three years of history; default 100,000), timed in referrals per
second, to extrapolate to the 1,000,000 referrals that must rebuild in under 5 minutes on
PostgreSQL (issue 19 §3).

    .venv/bin/python bench/facts_rebuild.py [--referrals N] [--db sqlite|postgresql]
        [--rounds R] [--against OTHER_SRC]

One database is loaded once (a fresh SQLite file, or a throwaway `refloop_bench_facts_<pid>`
on the PostgreSQL server of REFLOOP_DATABASE_URL, else 127.0.0.1:5432, dropped afterwards).
Each round rebuilds every fact in a child process of its own; with --against, each round
also rebuilds with another checkout's `src` (the code before a change), alternating, so
both are measured on the same rows under the same load. Reported per round: wall and CPU
seconds (this process's, not the database server's), referrals per second.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import history_import  # noqa: E402 (its database helpers; bench/ is on the path above)


def say(line: str = "") -> None:
    print(line, flush=True)


def child_env(src: Path, data_dir: Path, url: str | None) -> dict[str, str]:
    env = history_import.child_env(data_dir, url)
    env["DJANGO_SETTINGS_MODULE"] = "benchsite.settings"
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(BENCH_DIR)])
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--against", type=Path, help="another checkout's src, timed alternately")
    parser.add_argument("--child", choices=("load", "rebuild"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.referrals)
    server_url = os.environ.get("REFLOOP_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
    data_dir = Path(tempfile.mkdtemp(prefix="refloop-bench-facts-"))
    scratch = f"refloop_bench_facts_{os.getpid()}" if args.db == "postgresql" else None
    sources = [("this checkout", REPO_DIR / "src")]
    if args.against:
        sources.append((f"against {args.against}", args.against.resolve()))
    try:
        url = history_import._create_database(server_url, scratch) if scratch else None
        say(f"facts rebuild on {args.db}: {args.referrals:,} referrals; {os.cpu_count()} CPUs")
        started = time.monotonic()
        step(REPO_DIR / "src", data_dir, url, "load", args.referrals)
        say(f"  loaded in {time.monotonic() - started:.0f} s")
        for round_number in range(1, args.rounds + 1):
            for label, src in sources:
                load = os.getloadavg()[0]
                outcome = step(src, data_dir, url, "rebuild", args.referrals)
                say(
                    f"  round {round_number}, {label} ({outcome['code']}):\n"
                    f"    {outcome['referrals']:,} referrals in "
                    f"{outcome['wall_s']:.1f} s wall, {outcome['cpu_s']:.1f} s CPU: "
                    f"{outcome['referrals'] / outcome['wall_s']:,.0f} referrals/s "
                    f"(of which after the chunks: {outcome['after_chunks_s'] or 0:.1f} s; "
                    f"load average before {load:.1f}; 1,000,000 at this rate: "
                    f"{1_000_000 / (outcome['referrals'] / outcome['wall_s']) / 60:.1f} min)"
                )
    finally:
        if scratch:
            history_import._drop_database(server_url, scratch)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def step(src: Path, data_dir: Path, url: str | None, what: str, referrals: int) -> dict:
    result = data_dir / "result.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", what]
    command += ["--referrals", str(referrals)]
    subprocess.run(command, env=child_env(src, data_dir, url), cwd=REPO_DIR, check=True)
    return json.loads(result.read_text()) if result.exists() else {}


def child(what: str, referrals: int) -> int:
    # The checkout to measure is the one on PYTHONPATH, not this file's (history_import
    # put this checkout's src first when imported).
    sys.path.insert(0, os.environ["PYTHONPATH"].split(os.pathsep)[0])
    import django

    django.setup()
    from django.core.management import call_command

    result = Path(os.environ["REFLOOP_DATA_DIR"]) / "result.json"
    if what == "load":
        import analytics_gen
        from django.db import connection

        call_command("migrate", verbosity=0)
        analytics_gen.generate(referrals)
        # Planner statistics, as after any bulk load: the first rebuild must not be the
        # one that plans without them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return 0
    from django.db import connection

    from refloop.analytics import facts
    from refloop.analytics.models import AppointmentFact, ReferralFact

    # Every round starts where a restore does: no facts, and statistics that say so.
    tables = f"{AppointmentFact._meta.db_table}, {ReferralFact._meta.db_table}"
    with connection.cursor() as cursor:
        for model in (AppointmentFact, ReferralFact):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 (our names)
        cursor.execute(f"ANALYZE {tables}" if connection.vendor == "postgresql" else "ANALYZE")
    chunks_done = []

    def progress(done: int, total: int) -> None:
        if done == total:
            chunks_done.append(time.perf_counter())

    wall, cpu = time.perf_counter(), time.process_time()
    written = facts.rebuild_all(progress=progress)
    end = time.perf_counter()
    wall, cpu = end - wall, time.process_time() - cpu
    outcome = {"referrals": written, "wall_s": wall, "cpu_s": cpu, "code": facts.__file__}
    # The rest: the patients' first-referral marks, CLUSTER and ANALYZE.
    outcome["after_chunks_s"] = end - chunks_done[0] if chunks_done else None
    result.write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
