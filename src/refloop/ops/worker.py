"""The background worker: runs queued django.tasks and enqueues periodic jobs when due."""

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Worker

from refloop.core import context
from refloop.core.models import PeriodicJob
from refloop.messaging.dispatch import dispatch_all_due

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    task_path: str
    every: timedelta


# Each periodic job: its name, the task's dotted path, and the setting giving its interval
# in seconds (read when the worker starts, so a test or a deployment may change it).
_PERIODIC = (
    ("sla_sweep", "refloop.referrals.tasks.sla_sweep", "SLA_SWEEP_SECONDS"),
    ("intake_resume", "refloop.intake.tasks.resume_stalled_documents", "INTAKE_SWEEP_SECONDS"),
    ("messaging_sweep", "refloop.messaging.tasks.messaging_sweep", "MESSAGING_SWEEP_SECONDS"),
    ("analytics_catch_up", "refloop.analytics.tasks.catch_up_facts", "ANALYTICS_CATCH_UP_SECONDS"),
    ("outreach_signals", "refloop.outreach.tasks.signals_sweep", "OUTREACH_SWEEP_SECONDS"),
    ("optimize_database", "refloop.core.maintenance.optimize_database_task", "DB_OPTIMIZE_SECONDS"),
    ("outreach_tiers", "refloop.outreach.tasks.refresh_tiers", "OUTREACH_TIERS_SECONDS"),
    ("advocacy_case_clocks", "refloop.advocacy.tasks.case_sweep", "ADVOCACY_SWEEP_SECONDS"),
)


def periodic_jobs() -> list[Periodic]:
    return [
        Periodic(name, task, timedelta(seconds=getattr(settings, seconds)))
        for name, task, seconds in _PERIODIC
    ]


def enqueue_due_jobs(*, now: datetime) -> list[str]:
    """Enqueue each periodic job whose time has come; safe with several workers running."""
    enqueued = []
    for job in periodic_jobs():
        try:
            PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        except IntegrityError:
            pass  # another worker created it at the same moment; the row is what matters
        # Moving next_run_at forward only where it is due is the claim.
        claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + job.every, last_enqueued_at=now
        )
        if claimed:
            import_string(job.task_path).enqueue()
            enqueued.append(job.name)
    return enqueued


def drain_queue(*, worker_id: str = "refloop") -> None:
    """Run every task that is ready now, then return."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


def run_forever(*, interval: float) -> None:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        logger.info("worker stopping after the current task")
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
    logger.info("worker started (checking every %ss)", interval)
    with context.using(context.RequestContext(channel="worker")):
        while not stopping:
            close_old_connections()
            enqueue_due_jobs(now=timezone.now())
            drain_queue(worker_id=worker_id)
            dispatch_all_due(worker_id=worker_id)
            close_old_connections()
            for _ in range(int(interval * 10)):
                if stopping:
                    break
                time.sleep(0.1)
