"""The `refloop` commands: API tokens, the worker's periodic SLA sweep, and `refloop demo`."""

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refloop.core.models import ApiToken, AuditEntry, Notification
from refloop.demo import factories as f
from refloop.messaging.dispatch import dispatch_all_due
from refloop.ops.worker import drain_queue, enqueue_due_jobs
from refloop.referrals.models import ReferralEvent

SLA_SWEEP = "refloop.referrals.tasks.sla_sweep"


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# ---- token ------------------------------------------------------------------


def test_token_create_prints_a_token_that_authenticates(cora):
    out, err = run("token", "create", "cora")
    token = out.strip()
    assert token.startswith("rfl_")
    issued = ApiToken.objects.get(digest=ApiToken.digest_of(token))
    assert issued.user == cora and issued.revoked_at is None
    assert token not in err  # the note names the prefix only
    entry = AuditEntry.objects.get(action="api_token.created")
    assert entry.channel == "cli" and token not in str(entry.detail)


def test_token_create_for_an_unknown_user_fails_clearly(db):
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        run("token", "create", "nobody")
    assert not ApiToken.objects.exists()


def test_token_revoke_by_prefix(cora):
    token = run("token", "create", "cora")[0].strip()
    out, _ = run("token", "revoke", token[:8])
    assert "Revoked" in out
    assert ApiToken.objects.get(digest=ApiToken.digest_of(token)).revoked_at is not None
    with pytest.raises(CommandError, match="No active token"):
        run("token", "revoke", token[:8])


# ---- worker: the periodic SLA sweep ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sla_sweep_is_enqueued_once_and_flags_an_overdue_referral_once(ada, cora):
    now = timezone.now()
    overdue = f.make_referral(acting_user=cora, now=now - timedelta(days=3))

    assert enqueue_due_jobs(now=now) == [
        "sla_sweep",
        "intake_resume",
        "messaging_sweep",
        "analytics_catch_up",
        "outreach_signals",
        "optimize_database",
        "outreach_tiers",
        "advocacy_case_clocks",
    ]
    assert enqueue_due_jobs(now=now) == []  # the same moment again: already claimed
    assert DBTaskResult.objects.filter(task_path=SLA_SWEEP).count() == 1

    drain_queue()
    dispatch_all_due()  # what the worker does after running its tasks
    overdue.refresh_from_db()
    assert overdue.sla_breached_at is not None
    breaches = ReferralEvent.objects.filter(referral=overdue, kind="referral.sla_breached")
    assert breaches.count() == 1
    # Nobody is assigned and Spine has no point of contact: the admin hears of it.
    notices = Notification.objects.filter(kind="staff.sla_breach", referral=overdue)
    assert [n.user for n in notices] == [ada]
    assert overdue.number in notices[0].text

    later = now + timedelta(seconds=301)
    assert enqueue_due_jobs(now=later) == ["sla_sweep", "intake_resume"]
    drain_queue()
    dispatch_all_due()
    assert breaches.count() == 1
    assert notices.count() == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_due_jobs_from_two_workers_at_once_enqueues_one_sweep():
    now = timezone.now()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        from django.db import connection

        barrier.wait()
        try:
            results.append(enqueue_due_jobs(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Each job is claimed by exactly one of the two (which one takes which may vary).
    assert sorted(job for claimed in results for job in claimed) == [
        "advocacy_case_clocks",
        "analytics_catch_up",
        "intake_resume",
        "messaging_sweep",
        "optimize_database",
        "outreach_signals",
        "outreach_tiers",
        "sla_sweep",
    ]
    assert DBTaskResult.objects.filter(task_path=SLA_SWEEP).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_gives_sqlite_planner_statistics_and_leaves_postgresql_alone(cora):
    from django.db import connection

    from refloop.core.maintenance import optimize_database

    f.make_referral(acting_user=cora)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # as on a new install (another test may have run it)
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
        assert optimize_database() == "ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'referrals_referral'")
            assert cursor.fetchone()[0] > 0
    else:
        assert optimize_database().startswith("nothing")


# ---- refloop demo -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo(port: int, env: dict) -> tuple[subprocess.Popen, list[str], threading.Thread]:
    """`refloop demo` on `port`, the list its output lines go to, and the thread reading them."""
    demo = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "refloop.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
    reader.start()
    return demo, lines, reader


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_refloop_demo_starts_serves_and_stops_cleanly(tmp_path):
    env = {
        # The demo is the embedded SQLite product: never the suite's PostgreSQL database.
        **{k: v for k, v in os.environ.items() if k != "REFLOOP_DATABASE_URL"},
        "REFLOOP_DATA_DIR": str(tmp_path / "data"),
        "REFLOOP_DEMO_REFERRALS": "30",
        "PYTHONUNBUFFERED": "1",
    }
    # The port is chosen free, then handed to the demo: another process (a test running in
    # parallel) may take it in between, and the demo then refuses it: try another.
    demo = None
    try:
        for _ in range(5):
            port = free_port()
            demo, lines, reader = start_demo(port, env)
            url = f"http://127.0.0.1:{port}/"
            # A hang guard, not a speed check: on a loaded machine (a suite on every core and
            # a benchmark beside it) building the demo practice has taken over two minutes.
            deadline = time.monotonic() + 420
            while not any(url in line for line in lines) and demo.poll() is None:
                assert time.monotonic() < deadline, "".join(lines)
                time.sleep(0.2)
            if demo.poll() is None:
                break
            reader.join(timeout=5)
            assert f"Port {port} on 127.0.0.1 is already in use" in "".join(lines), "".join(lines)
        else:
            pytest.fail("no free port for the demo in five tries")
        for path in ("api/v1/openapi.json", "admin/login/"):
            # A busy machine may still be booting gunicorn's workers: allow for it.
            with urllib.request.urlopen(url + path, timeout=60) as response:  # noqa: S310
                assert response.status == 200
        output = "".join(lines)
        assert f"{url}api/v1/docs" in output
        assert "admin " in output and "coordinator " in output  # the demo logins
        assert "Two-step sign-in (MFA) is optional in this demo" in output
        children = descendants(demo.pid)
        assert len(children) >= 3  # gunicorn (with its workers) and the worker

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=40) == 0, "".join(lines)
        reader.join(timeout=5)
        assert "Stopped." in "".join(lines)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)]
    finally:
        if demo is not None and demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def test_the_start_page_sends_a_visitor_to_sign_in_under_the_practice_name(client, org):
    page = client.get("/", follow=True)
    assert page.redirect_chain[-1][0].startswith("/login/")
    assert org.name.replace("&", "&amp;") in page.content.decode()
