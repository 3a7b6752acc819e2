"""Outbox throughput: due reminders sent by `refloop messages send` to a real SMTP server on
loopback (the sink, its own process), with one and with two workers on PostgreSQL.

Baseline, measured in the same run against the same kind of sink: a plain smtplib client
sending prebuilt messages over one persistent connection (two clients for the two-worker
comparison), which is the sink's raw receive rate. Also counted from what the sink received:
lost messages (a Message-ID never received) and duplicates (receptions beyond one per
Message-ID); both must be 0. A miss is reported, not raised.

    .venv/bin/python bench/messaging.py [--quick] [--messages N] [--database-url URL]
"""

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(REPO_DIR / "src"))

MESSAGES = 100_000
QUICK_MESSAGES = 5_000
BASELINE_SAMPLE = 20_000
FROM_EMAIL = "reminders@bench.refloop.test"
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
WORKER_TIMEOUT = 3600


def say(line: str = "") -> None:
    print(line, flush=True)


def database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def create_database(admin_url: str, name: str, *, drop: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        if drop:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            admin.execute(f'CREATE DATABASE "{name}"')


def child_env(url: str, data_dir: str, smtp_port: int | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLOOP_")}
    env.update(
        DJANGO_SETTINGS_MODULE="refloop.settings",
        REFLOOP_DATABASE_URL=url,
        REFLOOP_DATA_DIR=data_dir,
        REFLOOP_FROM_EMAIL=FROM_EMAIL,
    )
    if smtp_port is not None:
        env.update(
            REFLOOP_SMTP_HOST="127.0.0.1",
            REFLOOP_SMTP_PORT=str(smtp_port),
            REFLOOP_SMTP_STARTTLS="0",
        )
    return env


def setup_django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def queue_reminders(count: int) -> list[int]:
    from django.utils import timezone

    from refloop.messaging.models import Audience, Channel, Message

    now = timezone.now()
    clinics = ["Riverside Spine Clinic", "Hand & Upper Extremity", "Prairie Orthopedics"]
    Message.objects.bulk_create(
        (
            Message(
                referral=None,
                rule="patient.reminder_early",
                audience=Audience.PATIENT,
                recipient=f"patient:{i}",
                recipient_label=f"Patient {i}",
                channel=Channel.EMAIL,
                address=f"patient{i}@bench.example.test",
                subject="Your appointment is coming up",
                body=(
                    f"Hello,\n\nThis is a reminder of your appointment at {clinics[i % 3]} on "
                    f"Tuesday at {9 + i % 8}:{15 * (i % 4):02d}. Please bring your insurance "
                    "card and a list of your medicines.\n\nTo change it, call 555-0100.\n"
                ),
                dedupe_key=f"bench:reminder:{i}",
                due_at=now - dt.timedelta(minutes=1),
                created_at=now,
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    return list(Message.objects.order_by("pk").values_list("pk", flat=True))


def reset_to_due() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_message SET status = 'due', attempts = 0, claim = '', "
            "claimed_by = '', claimed_until = NULL, sent_at = NULL, finished_at = NULL, "
            "external_id = '', reason = ''"
        )
        cursor.execute("DELETE FROM messaging_deliveryattempt")
        cursor.execute("VACUUM ANALYZE messaging_message")


class Sink:
    """The SMTP sink in its own process, writing each Message-ID to a JSON-lines file."""

    def __init__(self, folder: Path, label: str):
        self.file = folder / f"sink-{label}.jsonl"
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "refloop.messaging.sink", "--port", "0", "--quiet"]
            + ["--append-to", str(self.file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_DIR / "src")},
        )
        first = self.process.stdout.readline()
        if "listening on" not in first:
            raise RuntimeError(f"the SMTP sink did not start: {first!r}")
        self.port = int(first.split("listening on ")[1].split()[0].rpartition(":")[2])

    def stop(self):
        from refloop.messaging.sink import read_appended

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        return read_appended(self.file)


def _raw_client(port: int, start: int, count: int, ready, go, result) -> None:
    payloads = []
    for i in range(start, start + count):
        email = EmailMessage()
        email["From"] = FROM_EMAIL
        email["To"] = f"raw{i}@bench.example.test"
        email["Subject"] = "Your appointment is coming up"
        email["Message-ID"] = f"<bench-raw-{i}@bench.refloop.test>"
        email.set_content(
            "Hello,\n\nThis is a reminder of your appointment at Riverside Spine Clinic on "
            "Tuesday at 9:15. Please bring your insurance card and a list of your medicines.\n"
        )
        payloads.append((email["To"], email.as_bytes()))
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    ready.set()
    go.wait()
    began = time.perf_counter()
    for to, payload in payloads:
        client.sendmail(FROM_EMAIL, [to], payload)
    elapsed = time.perf_counter() - began
    client.quit()
    result.put(elapsed)


def raw_rate(folder: Path, clients: int, count: int) -> dict:
    """Messages/s a plain smtplib client (or several at once) gets from a fresh sink."""
    sink = Sink(folder, f"raw-{clients}")
    spawn = multiprocessing.get_context("spawn")
    go, result = spawn.Event(), spawn.Queue()
    share = count // clients
    readies, processes = [], []
    for index in range(clients):
        ready = spawn.Event()
        process = spawn.Process(
            target=_raw_client, args=(sink.port, index * share, share, ready, go, result)
        )
        process.start()
        readies.append(ready)
        processes.append(process)
    for ready in readies:
        ready.wait(timeout=120)
    began = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    wall = time.perf_counter() - began
    received = sink.stop()
    sent = share * clients
    return {
        "clients": clients,
        "messages": sent,
        "seconds": round(wall, 3),
        "per_second": round(sent / wall, 1),
        "received": sum(received.values()),
    }


def run_workers(url: str, data_dir: str, folder: Path, workers: int, expected: set[str]) -> dict:
    from refloop.messaging.models import Message, Status

    sink = Sink(folder, f"workers-{workers}")
    env = child_env(url, data_dir, sink.port)
    command = [sys.executable, "-m", "django", "messages", "send", "--until-empty"]
    began = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
        for _ in range(workers)
    ]
    failures = []
    for process in processes:
        out, err = process.communicate(timeout=WORKER_TIMEOUT)
        if process.returncode != 0:
            failures.append(err.decode()[-1500:])
    wall = time.perf_counter() - began
    received = sink.stop()
    sent = Message.objects.filter(status=Status.SENT).count()
    return {
        "workers": workers,
        "messages": len(expected),
        "sent": sent,
        "seconds": round(wall, 3),
        "per_second": round(sent / wall, 1),
        "received": sum(received.values()),
        "lost": len(expected - set(received)),
        "duplicated": sum(count - 1 for count in received.values() if count > 1),
        "unexpected": len(set(received) - expected),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages")
    parser.add_argument("--messages", type=int, default=None, help=f"default {MESSAGES}")
    parser.add_argument(
        "--database-url", default=ADMIN_URL, help="admin connection to the PostgreSQL server"
    )
    args, _ = parser.parse_known_args(argv)  # run_all passes --db; only PostgreSQL here
    count = args.messages or (QUICK_MESSAGES if args.quick else MESSAGES)
    sample = min(count, BASELINE_SAMPLE)

    say("== messaging: due reminders to a loopback SMTP sink, PostgreSQL ==")
    name = f"refloop_bench_msg_{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix="refloop-messaging-bench-"))
    url = database_url(args.database_url, name)
    try:
        create_database(args.database_url, name)
    except Exception as error:  # noqa: BLE001 - reported, the benchmark cannot run
        say(f"messaging: !!! COULD NOT RUN: no PostgreSQL at {args.database_url} ({error})")
        return 1
    try:
        env = child_env(url, str(folder))
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "django", "migrate", "-v", "0"], env=env, check=True
        )
        setup_django(env)
        began = time.perf_counter()
        pks = queue_reminders(count)
        say(f"  {count:,} due reminders queued in {time.perf_counter() - began:.1f} s")
        expected = {f"<refloop-message-{pk}@bench.refloop.test>" for pk in pks}

        runs = []
        for workers in (1, 2):
            if workers > 1:
                reset_to_due()
            baseline = raw_rate(folder, workers, sample)
            say(
                f"  raw smtplib, {workers} client(s): {baseline['per_second']:,.0f} msg/s "
                f"({baseline['messages']:,} in {baseline['seconds']:.1f} s, "
                f"{baseline['received']:,} received)"
            )
            outcome = run_workers(url, str(folder), folder, workers, expected)
            outcome["baseline"] = baseline
            outcome["ratio_to_raw"] = round(outcome["per_second"] / baseline["per_second"], 3)
            verdict = "PASS" if outcome["lost"] == 0 and outcome["duplicated"] == 0 else "MISS"
            say(
                f"  {workers} worker(s): {outcome['per_second']:,.0f} msg/s "
                f"({outcome['sent']:,}/{count:,} sent in {outcome['seconds']:.1f} s, incl. "
                f"process start), {outcome['ratio_to_raw']:.1%} of raw; lost "
                f"{outcome['lost']}, duplicated {outcome['duplicated']}, unexpected "
                f"{outcome['unexpected']}: {verdict}"
            )
            for failure in outcome["failures"]:
                say(f"  !!! a worker failed: {failure}")
            runs.append(outcome)
    finally:
        from django.db import connections

        connections.close_all()
        create_database(args.database_url, name, drop=True)
        shutil.rmtree(folder, ignore_errors=True)

    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / "messaging.json"
    path.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "database": "postgresql",
                "messages": count,
                "baseline_sample": sample,
                "runs": runs,
                "targets": {"lost": 0, "duplicated": 0},
            },
            indent=1,
        )
        + "\n"
    )
    say(f"  results: {path.relative_to(REPO_DIR)}")
    say()
    return 1 if any(run["failures"] for run in runs) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
