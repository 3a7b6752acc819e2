"""The bottleneck finder alone (`bottlenecks.find`) and the full dashboard around it
(`dashboard.build`), over N synthetic referrals (bench/analytics_gen.py's three years of
history; default 100,000), on one database, with this checkout and, with --against,
another checkout's `src` (the code before a change) on the same rows in the same run.

    .venv/bin/python bench/bottlenecks.py [--referrals N] [--db sqlite|postgresql]
        [--rounds R] [--against OTHER_SRC] [--keep DIR] [--profile]

The scopes are bench/analytics.py's: (a) the last 12 months, (b) the same for the busiest
department; "the finder" and "the full dashboard" are (a) + (b), median of 5 runs after a
warm-up, wall and CPU (this process and, on PostgreSQL, its backend). Each round measures
every checkout in a child process of its own, alternating, so both see the same load.
The finder's output (every finding and sentence) of each checkout is compared: a
difference is printed with `!!!` and makes the run exit non-zero.

One database is loaded (history, then `facts.rebuild_all`, then ANALYZE): a fresh SQLite
file, or `refloop_bench_finder_<pid>` on the PostgreSQL server of REFLOOP_DATABASE_URL
(else 127.0.0.1:5432), dropped afterwards. With --keep DIR the SQLite file (or the
database `refloop_bench_finder_<N>`) is kept and loaded only once, for profiling again
and again. --profile prints the finder's cProfile (cumulative, top 30) for scope (a).
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
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import history_import  # noqa: E402 (its database helpers; bench/ is on the path above)
from facts_rebuild import child_env  # noqa: E402 (a child on a given src, as there)

RUNS = 5


def say(line: str = "") -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--against", type=Path, help="another checkout's src, timed alternately")
    parser.add_argument("--keep", type=Path, help="a folder where the loaded data is kept")
    parser.add_argument("--profile", action="store_true", help="the finder's cProfile")
    parser.add_argument("--child", choices=("load", "measure"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.referrals, args.profile)
    server_url = os.environ.get("REFLOOP_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
    if args.keep:
        data_dir = args.keep.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        scratch = f"refloop_bench_finder_{args.referrals}"
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="refloop-bench-finder-"))
        scratch = f"refloop_bench_finder_{os.getpid()}"
    scratch = scratch if args.db == "postgresql" else None
    loaded = data_dir / f"loaded-{args.db}-{args.referrals}"
    sources = [("this checkout", REPO_DIR / "src")]
    if args.against:
        sources.append((f"against {args.against}", args.against.resolve()))
    failed = False
    try:
        url = None
        if scratch and not loaded.exists():
            url = history_import._create_database(server_url, scratch)
        elif scratch:
            url = urlunsplit(urlsplit(server_url)._replace(path="/" + scratch))
        say(f"bottleneck finder on {args.db}: {args.referrals:,} referrals; {os.cpu_count()} CPUs")
        if not loaded.exists():
            (data_dir / "refloop.sqlite3").unlink(missing_ok=True)
            started = time.monotonic()
            step(REPO_DIR / "src", data_dir, url, "load", args.referrals)
            loaded.touch()
            say(f"  loaded (history and facts) in {time.monotonic() - started:.0f} s")
        outputs: dict[str, str] = {}
        for round_number in range(1, args.rounds + 1):
            for label, src in sources:
                load = os.getloadavg()[0]
                outcome = step(src, data_dir, url, "measure", args.referrals, args.profile)
                say(f"  round {round_number}, {label} (load average before {load:.1f}):")
                for name in ("finder", "dashboard"):
                    t = outcome[name]
                    say(
                        f"    {name:<9} (a) {t['a_ms']:7.0f} ms  (b) {t['b_ms']:7.0f} ms  "
                        f"(a)+(b) {t['total_ms']:7.0f} ms (min {t['min_ms']:.0f}, max "
                        f"{t['max_ms']:.0f}); CPU {t['cpu_ms']:.0f} ms; SQL {t['sql_ms']:.0f} ms "
                        f"in {t['statements']} statements"
                    )
                say(
                    f"    the finder is {outcome['finder']['total_ms'] / outcome['dashboard']['total_ms']:.0%}"
                    " of the dashboard"
                )
                if outcome.get("profile"):
                    say(outcome["profile"])
                outputs.setdefault(label, outcome["output"])
        if len(outputs) > 1:
            first, *others = outputs.values()
            if any(other != first for other in others):
                failed = True
                say("  !!! the finder's output differs between the checkouts:")
                for label, output in outputs.items():
                    say(f"    {label}: {output}")
            else:
                say("  the finder's output is the same for every checkout")
        say(
            "  sentences (a): " + " | ".join(json.loads(outputs["this checkout"])["a"]["sentences"])
        )
    finally:
        if scratch and not args.keep:
            history_import._drop_database(server_url, scratch)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if failed else 0


def step(
    src: Path, data_dir: Path, url: str | None, what: str, referrals: int, profile=False
) -> dict:
    result = data_dir / "result.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", what]
    command += ["--referrals", str(referrals), *(["--profile"] if profile else [])]
    subprocess.run(command, env=child_env(src, data_dir, url), cwd=REPO_DIR, check=True)
    return json.loads(result.read_text()) if result.exists() else {}


def child(what: str, referrals: int, profile: bool) -> int:
    # The checkout to measure is the one on PYTHONPATH, not this file's.
    sys.path.insert(0, os.environ["PYTHONPATH"].split(os.pathsep)[0])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    result = Path(os.environ["REFLOOP_DATA_DIR"]) / "result.json"
    if what == "load":
        import analytics
        import analytics_gen

        from refloop.analytics import facts

        call_command("migrate", verbosity=0)
        analytics_gen.generate(referrals)
        analytics.analyze(connection)
        facts.rebuild_all()
        analytics.analyze(connection)
        return 0
    outcome = measure(profile)
    result.write_text(json.dumps(outcome, default=str))
    return 0


def measure(profile: bool) -> dict:
    import statistics

    import analytics
    from django.db import connection

    from refloop.analytics import bottlenecks, dashboard

    scopes = analytics.make_scopes()
    sql = {"ms": 0.0, "statements": 0}

    def timed_sql(execute, statement, params, many, context):
        start = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql["ms"] += (time.perf_counter() - start) * 1000
            sql["statements"] += 1

    outcome: dict = {"code": bottlenecks.__file__}
    for name, fn in (("finder", bottlenecks.find), ("dashboard", dashboard.build)):
        for scope in scopes.values():
            fn(scope)  # warm-up
        a, b, total, cpu = [], [], [], []
        sql.update(ms=0.0, statements=0)
        with connection.execute_wrapper(timed_sql):
            for _ in range(RUNS):
                cpu_start = analytics.cpu_seconds()
                start = time.perf_counter()
                fn(scopes["a"])
                middle = time.perf_counter()
                fn(scopes["b"])
                end = time.perf_counter()
                cpu.append(analytics.cpu_seconds() - cpu_start)
                a.append(middle - start)
                b.append(end - middle)
                total.append(end - start)
        outcome[name] = {
            "a_ms": statistics.median(a) * 1000,
            "b_ms": statistics.median(b) * 1000,
            "total_ms": statistics.median(total) * 1000,
            "min_ms": min(total) * 1000,
            "max_ms": max(total) * 1000,
            "cpu_ms": statistics.median(cpu) * 1000,
            "sql_ms": sql["ms"] / RUNS,
            "statements": sql["statements"] // RUNS,
        }
    found = {key: bottlenecks.find(scope) for key, scope in scopes.items()}
    # Everything the finder says (its sentences, findings with their figures, the stages).
    outcome["output"] = json.dumps(found, default=str, sort_keys=True)
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        bottlenecks.find(scopes["a"])
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        outcome["profile"] = text.getvalue()
    return outcome


if __name__ == "__main__":
    sys.exit(main())
