"""Where one intake's CPU goes, phase by phase: thread CPU of named functions over N in-process
POST /api/v1/referrals requests, without cProfile's distortion (a timer wrapped around each
function named below, inclusive of what it calls).

    .venv/bin/python bench/intake_phases.py [--db sqlite|postgresql] [-n 300]

On SQLite the database's work is in the thread's CPU; on PostgreSQL it is the backend's, not
counted here (bench/intake.py measures both).
"""

import argparse
import functools
import os
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake  # noqa: E402
import loadgen  # noqa: E402
from profile_intake import call, in_throwaway_database, requests  # noqa: E402

# (module, attribute, label): each is timed wherever it is referenced (a `from x import y`
# binding included). Nested phases are counted in their callers too.
PHASES = (
    ("django.core.handlers.base", "BaseHandler._get_response", "view, ninja and below"),
    ("refloop.api", "BearerToken.__call__", "token authentication"),
    ("refloop.core.throttle", "check", "  the throttle's failure count"),
    ("refloop.referrals.api", "_lookup", "request's ids (provider, practice, department)"),
    ("refloop.practice.models", "Organization._load", "organization row"),
    ("refloop.referrals.services", "create_inbound_referral", "create_inbound_referral"),
    ("refloop.referrals.services", "_unsaved_patient", "  patient validation"),
    ("refloop.patients.models", "Patient.save", "  patient INSERT (encryption included)"),
    ("refloop.referrals.services", "_triage", "  triage"),
    ("refloop.practice.selectors", "suggest_department", "    department suggestion"),
    ("refloop.referrals.triage", "possible_duplicate", "    duplicate check"),
    ("refloop.referrals.triage", "next_assignee", "    round-robin"),
    ("refloop.referrals.models", "Referral.save", "  referral INSERT"),
    ("refloop.referrals.timeline", "record_events", "  events + audit"),
    ("refloop.core.audit_chain", "append", "    audit chain append"),
    ("refloop.referrals.reactions", "referral_created", "  analytics fact (in hand)"),
    ("refloop.referrals.services", "_claim_idempotency_key", "  idempotency key"),
    ("django.db.transaction", "Atomic.__exit__", "  commit (and on-commit callbacks)"),
    ("refloop.core.reactions", "_Queued.enqueue", "    reaction task INSERT"),
    ("refloop.referrals.schemas", "ReferralCreatedOut.from_orm", "response body"),
)


class Phases:
    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.active: set[str] = set()

    def wrap(self, func, label: str):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            if label in self.active:  # recursion: counted once, at the outer call
                return func(*args, **kwargs)
            self.active.add(label)
            start = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.cpu[label] += time.thread_time() - start
                self.calls[label] += 1
                self.active.discard(label)

        return timed

    def install(self) -> None:
        import importlib
        import inspect

        for module_name, attribute, label in PHASES:
            module = importlib.import_module(module_name)
            owner_name, _, name = attribute.rpartition(".")
            owner = getattr(module, owner_name) if owner_name else module
            original = inspect.getattr_static(owner, name)
            if isinstance(original, classmethod):
                setattr(owner, name, classmethod(self.wrap(original.__func__, label)))
                continue
            wrapped = self.wrap(original, label)
            setattr(owner, name, wrapped)
            if owner_name:
                continue
            for other in list(sys.modules.values()):  # `from module import name` bindings
                if getattr(other, "__name__", "").startswith("refloop") and (
                    getattr(other, name, None) is original
                ):
                    setattr(other, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=intake.DATABASES, default="sqlite")
    parser.add_argument("-n", type=int, default=300, help="requests measured")
    args = parser.parse_args()

    in_throwaway_database(args.db, "refloop-phases-", lambda: measure(args))


def measure(args) -> None:
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from benchsite.prepare import seed
    from django.db import connection
    from django.test import Client

    import refloop.api  # noqa: F401 (the modules whose functions are timed, loaded first)
    import refloop.urls  # noqa: F401

    ids = seed()
    client = Client(HTTP_HOST="127.0.0.1")
    maker = loadgen.RequestMaker({"path": "", "port": 0, **ids})
    for request in requests(maker, 30):
        call(client, intake.FULL_PATH, request, ids["token"])
        call(client, intake.BARE_PATH, request, None)

    statements = []
    bare = requests(maker, args.n)
    start = time.thread_time()
    for request in bare:
        call(client, intake.BARE_PATH, request, None)
    bare_cpu = (time.thread_time() - start) / args.n

    phases = Phases()
    phases.install()
    batch = requests(maker, args.n)

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    start = time.thread_time()
    with connection.execute_wrapper(count):
        for request in batch:
            response = call(client, intake.FULL_PATH, request, ids["token"])
            if response.status_code != 201:
                raise SystemExit(f"the intake answered HTTP {response.status_code}, not 201")
    total = (time.thread_time() - start) / args.n
    print(
        f"intake phases on {args.db}, {args.n} requests, thread CPU per request "
        f"(load average {os.getloadavg()[0]:.1f}):"
    )
    print(f"  bare insert (measured first, untimed phases)  {bare_cpu * 1000:6.2f} ms")
    print(
        f"  whole request (client included, timers on)    {total * 1000:6.2f} ms, "
        f"{len(statements) / args.n:.1f} statements"
    )
    for _, _, label in PHASES:
        calls = phases.calls[label] / args.n
        print(f"  {label:<46} {phases.cpu[label] / args.n * 1000:6.2f} ms  ({calls:.1f} calls)")


if __name__ == "__main__":
    main()
