"""Referral intake over HTTP: the full POST /api/v1/referrals path against a bare one-row
insert, both served by the same gunicorn process in the same run, on SQLite and PostgreSQL.

Targets (from the issue): the full path sustains at least 40% of the bare insert's
requests per second, and its p99 latency stays under 100 ms at half its maximum rate.
A missed target is reported, not raised: this is a measurement, not a test.

Run with `./run bench` (all benchmarks) or `.venv/bin/python bench/intake.py --db sqlite`.
"""

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

TARGET_RATIO = 0.40
TARGET_P99_MS = 100.0
OPEN_LOOP_FRACTION = 0.5

FULL_PATH = "/api/v1/referrals"
BARE_PATH = "/bench/bare"
BARE_DESCRIPTION = (
    "plain Django view, no auth: parse the JSON body, one ORM INSERT of one row "
    "(key, created_at) into benchsite_barerow"
)
# One server configuration for both paths; the machine this was written on has 2 cores.
GUNICORN = {"worker_class": "gthread", "workers": 2, "threads": 4, "keep_alive_s": 30}
ADMIN_POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Plan:
    concurrencies: tuple[int, ...] = (4, 8, 16)
    warmup_s: float = 2.0
    duration_s: float = 10.0
    open_warmup_s: float = 2.0
    # Long enough for ~600 answers, so p99 is not just the worst two or three requests.
    open_samples: int = 600
    open_duration_s: tuple[float, float] = (10.0, 30.0)

    def open_duration(self, rate: float) -> float:
        shortest, longest = self.open_duration_s
        return round(min(max(self.open_samples / rate, shortest), longest), 1)


QUICK_PLAN = Plan(
    concurrencies=(8,),
    warmup_s=1.0,
    duration_s=4.0,
    open_warmup_s=1.0,
    open_samples=100,
    open_duration_s=(4.0, 8.0),
)


class BenchError(Exception):
    """The benchmark could not run (no server, no database); not a missed target."""


def say(line: str = "") -> None:
    print(line, flush=True)


# --- databases -------------------------------------------------------------------------


def clean_environment(data_dir: Path) -> dict[str, str]:
    """The caller's environment without any REFLOOP_* setting that could point elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REFLOOP_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="benchsite.settings",
        REFLOOP_DATA_DIR=str(data_dir),
        REFLOOP_ALLOWED_HOSTS="127.0.0.1",
        REFLOOP_LOG_LEVEL="WARNING",
    )
    return env


def postgres_admin():
    import psycopg

    try:
        return psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise BenchError(
            f"PostgreSQL is not reachable at {redacted(ADMIN_POSTGRES_URL)} "
            f"({type(error).__name__}); set BENCH_POSTGRES_URL to an admin connection."
        ) from None


def redacted(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


@contextlib.contextmanager
def database(kind: str, data_dir: Path) -> Iterator[dict[str, str]]:
    """Environment for a fresh, empty database of `kind`; a PostgreSQL one is dropped after."""
    env = clean_environment(data_dir)
    if kind == "sqlite":
        # settings.py puts refloop.sqlite3 in REFLOOP_DATA_DIR, a temporary folder here.
        yield env
        return
    from psycopg import sql

    name = f"refloop_bench_{os.getpid()}"
    with postgres_admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urlsplit(ADMIN_POSTGRES_URL)._replace(path="/" + name)
        env["REFLOOP_DATABASE_URL"] = urlunsplit(url)
        yield env
    finally:
        with postgres_admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def prepare(env: dict[str, str]) -> dict:
    """Migrate and seed (organization, department, provider, coordinator, API token)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchsite.prepare"],
        cwd=BENCH_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise BenchError("preparing the database failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    database_cpu: Callable[[], dict[int, float]] | None = None

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def worker_cpu_seconds(self) -> float:
        """CPU used so far by the gunicorn workers (children of the master)."""
        return sum(cpu_seconds(pid) for pid, ppid in processes() if ppid == self.process.pid)


def processes() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process, from /proc."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            yield int(stat.parent.name), int(stat.read_text().rsplit(")", 1)[1].split()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 if it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def postgres_cpu(name: str) -> Callable[[], dict[int, float]]:
    """CPU so far of each PostgreSQL backend connected to database `name` (same machine)."""

    def measure() -> dict[int, float]:
        with postgres_admin() as admin:
            pids = [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
                )
            ]
        return {pid: cpu_seconds(pid) for pid in pids}

    return measure


class CpuSampler(threading.Thread):
    """CPU used during a run by processes that may come and go (Django reconnects after
    CONN_MAX_AGE): samples every half second and keeps each process's last reading."""

    def __init__(self, sample: Callable[[], dict[int, float]]) -> None:
        super().__init__(daemon=True)
        self.sample = sample
        self.first = sample()
        self.last = dict(self.first)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.record()

    def record(self) -> None:
        for pid, cpu in self.sample().items():
            self.last[pid] = max(self.last.get(pid, 0.0), cpu)

    def seconds(self) -> float:
        self.stopping.set()
        self.join()
        self.record()
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


@contextlib.contextmanager
def server(env: dict[str, str], data_dir: Path) -> Iterator[Server]:
    """gunicorn serving benchsite in its own process group, killed however we leave."""
    port = free_port()
    log = data_dir / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "benchsite.wsgi:application",
        "--pythonpath",
        str(BENCH_DIR),
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        GUNICORN["worker_class"],
        "--workers",
        str(GUNICORN["workers"]),
        "--threads",
        str(GUNICORN["threads"]),
        "--keep-alive",
        str(GUNICORN["keep_alive_s"]),
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
        "--no-control-socket",
    ]
    with open(os.devnull, "rb") as stdin:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            command,
            cwd=data_dir,
            env=env,
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    running = Server(process, port, log)
    try:
        wait_until_listening(running)
        yield running
    finally:
        stop(process)


def wait_until_listening(running: Server, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise BenchError("gunicorn exited at start:\n" + running.log_tail())
        address = ("127.0.0.1", running.port)
        with contextlib.suppress(OSError), socket.create_connection(address, timeout=0.5):
            return
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not listen within {timeout_s:.0f} s:\n" + running.log_tail())


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole process group (master and workers), SIGKILL if it lingers."""
    for sig, grace_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace_s)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers outlive a killed master only briefly; make sure none is left behind.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


# --- load ------------------------------------------------------------------------------


def post_once(port: int, path: str, seed: dict, key: str) -> tuple[int, str]:
    """One request outside the load generator, to check a path answers before loading it."""
    body = json.dumps(
        {
            "patient": {
                "first_name": "Smoke",
                "last_name": "Check",
                "date_of_birth": "1970-01-01",
                "phone": "(217) 555-0100",
                "contact_consent": True,
            },
            "source_type": "provider",
            "referring_provider_id": seed["provider_id"],
            "channel": "api",
            "urgency": "routine",
            "reason": "Benchmark smoke check",
            "icd10_codes": ["M54.16"],
            "department_id": seed["department_id"],
        }
    )
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {seed['token']}",
        "Idempotency-Key": key,
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(300).decode(errors="replace")
    finally:
        conn.close()


def load(running: Server, job: dict) -> dict:
    """Run one loadgen job in its own process; returns its result with the server's CPU."""
    job = {**job, "port": running.port}
    budget_s = job["warmup"] + job["duration"] + 30
    cpu_before = running.worker_cpu_seconds()
    database = CpuSampler(running.database_cpu) if running.database_cpu else None
    if database:
        database.start()
    try:
        done = subprocess.run(  # noqa: S603 (our own fixed command line)
            [sys.executable, str(BENCH_DIR / "loadgen.py")],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=budget_s,
        )
    finally:
        database_cpu_s = database.seconds() if database else None
    if done.returncode != 0:
        raise BenchError("the load generator failed:\n" + done.stderr[-3000:])
    result = json.loads(done.stdout)
    # CPU per request (warm-up included on both sides) is steadier than req/s when
    # other work shares the machine; the database's share is known only for PostgreSQL.
    result["server_cpu_s"] = round(running.worker_cpu_seconds() - cpu_before, 2)
    result["server_cpu_ms_per_request"] = round(
        result["server_cpu_s"] * 1000 / max(result["requests_sent"], 1), 2
    )
    if database_cpu_s is not None:
        result["database_cpu_s"] = round(database_cpu_s, 2)
        result["database_cpu_ms_per_request"] = round(
            result["database_cpu_s"] * 1000 / max(result["requests_sent"], 1), 2
        )
    if running.process.poll() is not None:
        raise BenchError("gunicorn died under load:\n" + running.log_tail())
    return result


def closed_line(result: dict) -> str:
    lat = result["latency_ms"]
    return (
        f"    closed c={result['concurrency']:<3} {result['rps']:8.1f} req/s   "
        f"p50 {fmt_ms(lat['p50'])}  p99 {fmt_ms(lat['p99'])}   "
        f"{cpu_note(result)}{error_note(result)}"
    )


def cpu_note(result: dict) -> str:
    note = f"   cpu/req: app {result['server_cpu_ms_per_request']:5.2f} ms"
    if "database_cpu_ms_per_request" in result:
        note += f" + db {result['database_cpu_ms_per_request']:5.2f} ms"
    return note + f"   (client cpu {result['client_cpu_s']:.1f} s)"


def fmt_ms(value: float | None) -> str:
    return f"{value:7.1f} ms" if value is not None else "      - ms"


def error_note(result: dict) -> str:
    if not result["errors"] and not result["error_kinds"]:
        return ""
    return f"   !!! ERRORS {result['errors']} {result['error_kinds']}"


def sweep(running: Server, path: str, seed: dict, plan: Plan, *, token: bool) -> list[dict]:
    results = []
    for concurrency in plan.concurrencies:
        result = load(
            running,
            {
                "mode": "closed",
                "path": path,
                "concurrency": concurrency,
                "warmup": plan.warmup_s,
                "duration": plan.duration_s,
                "expect_status": 201,
                "token": seed["token"] if token else None,
                "department_id": seed["department_id"],
                "provider_id": seed["provider_id"],
            },
        )
        say(closed_line(result))
        results.append(result)
    return results


def best(results: list[dict]) -> dict:
    return max(results, key=lambda r: r["rps"])


# --- one database ----------------------------------------------------------------------


def run(kind: str, plan: Plan) -> dict:
    """Everything for one database; returns the result document (also written as JSON)."""
    started = time.monotonic()
    outcome: dict = {
        "benchmark": "intake",
        "database": kind,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": environment(),
        "server": GUNICORN,
        "plan": asdict(plan),
        "targets": {
            "full_over_bare_rps_min": TARGET_RATIO,
            "open_loop_p99_ms_max": TARGET_P99_MS,
            "open_loop_rate": f"{OPEN_LOOP_FRACTION:.0%} of the full path's max req/s",
        },
        "bare": {"path": BARE_PATH, "what": BARE_DESCRIPTION},
        "full": {
            "path": FULL_PATH,
            "what": "POST /api/v1/referrals with a bearer token and "
            "an Idempotency-Key: validation, idempotency row, patient, referral, timeline "
            "event, audit record, after-commit task enqueue",
        },
    }
    outcome["environment"]["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    data_dir = Path(tempfile.mkdtemp(prefix=f"refloop-bench-{kind}-"))
    try:
        with database(kind, data_dir) as env:
            seed = prepare(env)
            with server(env, data_dir) as running:
                if "REFLOOP_DATABASE_URL" in env:
                    db_name = urlsplit(env["REFLOOP_DATABASE_URL"]).path.lstrip("/")
                    running.database_cpu = postgres_cpu(db_name)
                say(
                    f"intake on {kind}: gunicorn {GUNICORN['workers']} workers x "
                    f"{GUNICORN['threads']} threads ({GUNICORN['worker_class']}) on "
                    f"127.0.0.1:{running.port}, keep-alive clients in a separate process; "
                    f"{os.cpu_count()} CPUs, load average before "
                    f"{outcome['environment']['load_average_before'][0]}"
                )
                measure(running, seed, plan, outcome)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    outcome["elapsed_s"] = round(time.monotonic() - started, 1)
    verdict(outcome)
    write(outcome)
    return outcome


def measure(running: Server, seed: dict, plan: Plan, outcome: dict) -> None:
    status, text = post_once(running.port, BARE_PATH, seed, "bench-smoke-bare")
    if status != 201:
        raise BenchError(
            f"the bare view answered HTTP {status}, not 201; server log:\n" + running.log_tail()
        )
    say(f"  bare  POST {BARE_PATH}  ({BARE_DESCRIPTION})")
    outcome["bare"]["closed"] = sweep(running, BARE_PATH, seed, plan, token=False)
    outcome["bare"]["max_rps"] = best(outcome["bare"]["closed"])["rps"]

    status, text = post_once(running.port, FULL_PATH, seed, "bench-smoke-full")
    if status != 201 or '"id"' not in text:
        outcome["full"]["unavailable"] = f"HTTP {status}"
        say(
            f"  full  POST {FULL_PATH}: !!! UNAVAILABLE, answered HTTP {status} "
            f"(expected 201 with an id); full-path figures skipped"
        )
        return
    say(f"  full  POST {FULL_PATH}  (token auth, Idempotency-Key, referral + event + audit + task)")
    outcome["full"]["closed"] = sweep(running, FULL_PATH, seed, plan, token=True)
    top = best(outcome["full"]["closed"])
    outcome["full"]["max_rps"] = top["rps"]

    rate = round(top["rps"] * OPEN_LOOP_FRACTION, 1)
    if rate <= 0:
        outcome["full"]["open"] = None
        return
    result = load(
        running,
        {
            "mode": "open",
            "path": FULL_PATH,
            "rate": rate,
            "warmup": plan.open_warmup_s,
            "duration": plan.open_duration(rate),
            "expect_status": 201,
            "token": seed["token"],
            "department_id": seed["department_id"],
            "provider_id": seed["provider_id"],
        },
    )
    outcome["full"]["open"] = result
    lat = result["latency_ms"]
    say(
        f"    open   {rate:.1f} req/s offered ({OPEN_LOOP_FRACTION:.0%} of max) for "
        f"{result['duration_s']:.0f} s, {result['rps']:.1f} answered, n={result['ok']}"
        f"{error_note(result)}"
    )
    say(
        f"           p50 {fmt_ms(lat['p50'])}  p95 {fmt_ms(lat['p95'])}  p99 {fmt_ms(lat['p99'])}  "
        f"max {fmt_ms(lat['max'])}{cpu_note(result)}"
    )


def all_runs(outcome: dict) -> list[dict]:
    runs = [*outcome["bare"].get("closed", []), *outcome["full"].get("closed", [])]
    if outcome["full"].get("open"):
        runs.append(outcome["full"]["open"])
    return runs


def verdict(outcome: dict) -> None:
    """Ratio and p99 against the targets; PASS/FAIL is information, never an exit status."""
    errors = sum(r["errors"] for r in all_runs(outcome))
    bare, full = outcome["bare"].get("max_rps"), outcome["full"].get("max_rps")
    ratio = round(full / bare, 3) if bare and full else None
    open_run = outcome["full"].get("open")
    p99 = open_run["latency_ms"]["p99"] if open_run else None
    outcome["summary"] = {
        "bare_max_rps": bare,
        "bare_best_concurrency": best(outcome["bare"]["closed"])["concurrency"]
        if outcome["bare"].get("closed")
        else None,
        "full_max_rps": full,
        "full_best_concurrency": best(outcome["full"]["closed"])["concurrency"]
        if outcome["full"].get("closed")
        else None,
        "full_over_bare": ratio,
        "open_loop_rps": open_run["offered_rps"] if open_run else None,
        "open_loop_latency_ms": open_run["latency_ms"] if open_run else None,
        "ratio_target_met": ratio >= TARGET_RATIO if ratio is not None else None,
        "p99_target_met": p99 < TARGET_P99_MS if p99 is not None else None,
        "cpu_ms_per_request": {
            "bare": cpu_per_request(outcome["bare"].get("closed")),
            "full": cpu_per_request(outcome["full"].get("closed")),
        },
        "request_errors": errors,
        "valid": errors == 0 and ratio is not None and p99 is not None,
    }
    s = outcome["summary"]
    say(
        f"  => max req/s: bare {bare} (c={s['bare_best_concurrency']}), full {full} "
        f"(c={s['full_best_concurrency']})"
    )
    cpu = s["cpu_ms_per_request"]
    if cpu["bare"] and cpu["full"]:
        say(
            f"  => cpu per request (app + db, median over the sweep): bare {cpu['bare']:.2f} ms, "
            f"full {cpu['full']:.2f} ms; bare/full = {cpu['bare'] / cpu['full']:.2f} "
            f"(what the ratio would be if CPU were the only limit)"
        )
    if ratio is not None:
        say(
            f"  => full/bare = {ratio:.2f}   target >= {TARGET_RATIO:.2f}   "
            f"{'PASS' if s['ratio_target_met'] else 'FAIL'}"
        )
    if p99 is not None:
        say(
            f"  => p99 at {s['open_loop_rps']} req/s = {p99:.1f} ms   "
            f"target < {TARGET_P99_MS:.0f} ms   {'PASS' if s['p99_target_met'] else 'FAIL'}"
        )
    if errors:
        say(f"  !!! {errors} REQUEST(S) FAILED during measurement: these figures are NOT VALID.")
        for sample in {x for r in all_runs(outcome) for x in r["error_samples"]}:
            say(f"  !!!   {sample[:200]}")


def cpu_per_request(runs: list[dict] | None) -> float | None:
    if not runs:
        return None
    costs = sorted(
        r["server_cpu_ms_per_request"] + r.get("database_cpu_ms_per_request", 0.0) for r in runs
    )
    return round(costs[len(costs) // 2], 2)


def environment() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["git", *args],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,  # noqa: S607
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_commit": commit,
        "git_dirty": bool(dirty),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def write(outcome: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"intake-{outcome['database']}.json"
    path.write_text(json.dumps(outcome, indent=2) + "\n")
    say(f"  results: {path.relative_to(REPO_DIR)}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=[*DATABASES, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="one concurrency, 4 s runs")
    args = parser.parse_args(argv)
    plan = QUICK_PLAN if args.quick else Plan()
    failed = False
    for kind in DATABASES if args.db == "all" else (args.db,):
        try:
            outcome = run(kind, plan)
            failed |= not outcome["summary"]["valid"]
        except BenchError as error:
            say(f"intake on {kind}: !!! COULD NOT RUN: {error}")
            failed = True
        say()
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
