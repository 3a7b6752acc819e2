"""Where one referral intake spends its time: SQL statements with their timings, and a
cProfile of N in-process POST /api/v1/referrals requests through Django's whole stack
(middleware, auth, ninja, services) without a server or network in between.

    .venv/bin/python bench/profile_intake.py [--db sqlite|postgresql] [-n 300] [--top 30]

SQL is shown without its parameters, so no (synthetic) patient data is printed.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake  # noqa: E402
import loadgen  # noqa: E402


class SqlTimer:
    """A database execute wrapper that counts and times every statement by its shape."""

    def __init__(self) -> None:
        self.by_shape: dict[str, list[float]] = defaultdict(list)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.by_shape[shape(sql)].append(time.perf_counter() - start)

    def total(self) -> tuple[int, float]:
        times = [t for ts in self.by_shape.values() for t in ts]
        return len(times), sum(times)


def shape(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r'SAVEPOINT "[^"]+"', "SAVEPOINT …", sql)
    sql = re.sub(r"SELECT .*? FROM", "SELECT … FROM", sql)
    sql = re.sub(r"\(([^()]{60,})\)", "(…)", sql)
    return sql[:130]


def call(client, path: str, request: dict, token: str | None):
    headers = {"Idempotency-Key": request["key"]}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, request["body"], content_type="application/json", headers=headers)


def requests(maker: loadgen.RequestMaker, count: int) -> list[dict]:
    made = []
    for _ in range(count):
        n = maker.count
        maker.count += 1
        made.append({"key": f"profile-{maker.run_id}-{n}", "body": maker.body(n)})
    return made


def timed(
    client, path: str, token: str | None, batch: list[dict], timer: SqlTimer
) -> tuple[float, float]:
    """Wall and CPU seconds per request (this process's CPU: on SQLite the database's
    too, on PostgreSQL without its backend's)."""
    from django.db import connection

    start, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(timer):
        for request in batch:
            response = call(client, path, request, token)
            if response.status_code != 201:
                raise SystemExit(f"{path} answered HTTP {response.status_code}, not 201")
    return (
        (time.perf_counter() - start) / len(batch),
        (time.process_time() - cpu) / len(batch),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=intake.DATABASES, default="sqlite")
    parser.add_argument("-n", type=int, default=300, help="requests per measurement")
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    args = parser.parse_args()

    in_throwaway_database(args.db, "refloop-profile-", lambda: profile(args))


def in_throwaway_database(db: str, prefix: str, work) -> None:
    """`work()` in this process with refloop's settings pointed at a throwaway database of
    `db` (and a throwaway data folder), both gone afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with intake.database(db, data_dir) as env:
            for name in [k for k in os.environ if k.startswith("REFLOOP_")]:
                del os.environ[name]
            os.environ.update(env)
            work()
            # Close Django's connections so the throwaway PostgreSQL database can be dropped.
            from django.db import connections

            connections.close_all()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def profile(args) -> None:
    import django

    # WhiteNoise warns that the throwaway data folder has no collected static files.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()
    from benchsite.prepare import seed
    from django.test import Client

    ids = seed()
    client = Client(HTTP_HOST="127.0.0.1")
    maker = loadgen.RequestMaker({"path": "", "port": 0, **ids})
    warm = requests(maker, 30)
    for request in warm:
        call(client, intake.FULL_PATH, request, ids["token"])
        call(client, intake.BARE_PATH, request, None)

    print(f"profile of the intake on {args.db}, {args.n} requests each, one thread, in-process")
    results = {}
    for label, path, token in (
        ("bare", intake.BARE_PATH, None),
        ("full", intake.FULL_PATH, ids["token"]),
    ):
        timer = SqlTimer()
        per_request, cpu = timed(client, path, token, requests(maker, args.n), timer)
        queries, db_time = timer.total()
        results[label] = (per_request, timer)
        print(
            f"  {label}: {per_request * 1000:6.2f} ms per request ({cpu * 1000:5.2f} ms CPU), "
            f"{queries / args.n:4.1f} SQL statements taking {db_time / args.n * 1000:5.2f} ms "
            f"({db_time / (per_request * args.n):.0%} of the time)"
        )
    full, bare = results["full"][0], results["bare"][0]
    print(f"  full/bare in-process throughput: {bare / full:.2f}")

    print("\n  SQL per full request, by statement (count per request, mean ms):")
    for sql, times in sorted(results["full"][1].by_shape.items(), key=lambda kv: -sum(kv[1])):
        print(f"    {len(times) / args.n:4.1f} x {sum(times) / len(times) * 1000:5.2f} ms  {sql}")

    profiler = cProfile.Profile()
    batch = requests(maker, args.n)
    profiler.enable()
    for request in batch:
        call(client, intake.FULL_PATH, request, ids["token"])
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(args.top)
        print(f"\n  cProfile of {args.n} full requests, top {args.top} by {order}:")
        body = out.getvalue()
        print(body[body.find("   ncalls") :].rstrip())


if __name__ == "__main__":
    main()
