"""The outbox against a real SMTP server on loopback: a worker killed mid-batch, two workers
at once, and a bounce. Every message must reach the server exactly once, except the one on
the wire when a worker died, which may arrive twice under the same Message-ID."""

import base64
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from refloop.messaging.dispatch import dispatch_all_due
from refloop.messaging.models import Audience, Channel, DeliveryAttempt, Message, Status
from refloop.messaging.sink import SmtpSink

N = 400
BATCH = 50
# dispatch.py stops taking messages from a batch a quarter of the lease before it ends: 8 s
# leaves 6 s per batch of 50 and a short wait before the restart may take the claim back.
LEASE_SECONDS = 8
WORKER_TIMEOUT = 120


def _database_url() -> str:
    """The database this test runs on (pytest-django's test database), as the child reads it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{os.path.abspath(db['NAME'])}"
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'])}"


def _worker_env(sink: SmtpSink, data_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLOOP_")}
    env.update(
        DJANGO_SETTINGS_MODULE="refloop.settings",
        REFLOOP_DATABASE_URL=_database_url(),
        REFLOOP_DATA_DIR=str(data_dir),
        REFLOOP_SECRET_KEY="worker-crash-test-" + "x" * 40,
        REFLOOP_FROM_EMAIL=settings.DEFAULT_FROM_EMAIL,
        REFLOOP_SMTP_HOST="127.0.0.1",
        REFLOOP_SMTP_PORT=str(sink.port),
        REFLOOP_SMTP_STARTTLS="0",
        REFLOOP_MESSAGE_LEASE_SECONDS=str(LEASE_SECONDS),
        REFLOOP_MESSAGE_BATCH=str(BATCH),
        # The worker decrypts what this process encrypted (message bodies): the same keys.
        REFLOOP_ENCRYPTION_KEYS=",".join(
            base64.urlsafe_b64encode(key).decode() for key in settings.ENCRYPTION_KEYS
        ),
        REFLOOP_BLIND_INDEX_KEY=settings.BLIND_INDEX_KEY,
    )
    return env


# The worker runs `django-admin ARGS` from the test's clock moved by an offset in seconds.
_ON_THE_TESTS_CLOCK = (
    "import sys, time, time_machine; "
    "from django.core.management import execute_from_command_line; "
    "time_machine.travel(time.time() + float(sys.argv[1]), tick=True).start(); "
    "execute_from_command_line(['django-admin', *sys.argv[2:]])"
)


def _django_command(*args: str) -> list[str]:
    """A child process's command line that runs `django-admin ARGS` on this test's clock.

    The worker and the test compare times (due messages, leases). When the test travels in
    time (REFLOOP_TEST_CLOCK), the child must travel with it, or it would live hours away.
    """
    if not time_machine.escape_hatch.is_travelling():
        return [sys.executable, "-m", "django", *args]
    offset = time.time() - time_machine.escape_hatch.time.time()
    return [sys.executable, "-c", _ON_THE_TESTS_CLOCK, repr(offset), *args]


def _start_worker(env: dict, *, until_empty: bool) -> subprocess.Popen:
    command = _django_command("messages", "send", *(["--until-empty"] if until_empty else []))
    return subprocess.Popen(  # noqa: S603 - our own worker command
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _finish_worker(worker: subprocess.Popen) -> str:
    try:
        out, err = worker.communicate(timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, err = worker.communicate()
        pytest.fail(f"the worker did not finish within {WORKER_TIMEOUT} s: {err.decode()[-2000:]}")
    assert worker.returncode == 0, (
        f"the worker failed ({worker.returncode}): {err.decode()[-2000:]}"
    )
    return out.decode()


def _queue(count: int, *, address=lambda i: f"r{i}@example.test") -> list[int]:
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            referral=None,
            rule="referrer.monthly_digest",
            audience=Audience.REFERRER,
            recipient=f"provider:{i}",
            recipient_label=f"Dr. Reader {i}",
            channel=Channel.EMAIL,
            address=address(i),
            subject="Your referrals this month",
            body=f"Hello Dr. Reader {i},\n\nThree referrals were seen this month.\n",
            dedupe_key=f"crash-test:{i}",
            due_at=now - timedelta(minutes=5),
            created_at=now,
        )
        for i in range(count)
    )
    return list(Message.objects.order_by("pk").values_list("pk", flat=True))


def _message_id(pk: int) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "refloop.local"
    return f"<refloop-message-{pk}@{domain}>"


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def _sent_attempts_per_message() -> Counter:
    return Counter(
        dict(
            Message.objects.annotate(
                sent=Count("deliveries", filter=Q(deliveries__outcome="sent"))
            ).values_list("pk", "sent")
        )
    )


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_then_restarted_delivers_every_message_once(tmp_path):
    pks = _queue(N)
    expected = {_message_id(pk) for pk in pks}
    with SmtpSink(delay=0.005) as sink:
        env = _worker_env(sink, tmp_path)
        first = _start_worker(env, until_empty=False)
        try:
            # Into the second batch: one batch fully recorded, one in flight.
            _wait_for(
                lambda: sink.received >= BATCH + BATCH // 2 or first.poll() is not None,
                timeout=WORKER_TIMEOUT,
                what="the first worker to send a batch and a half",
            )
            assert first.poll() is None, (
                f"the first worker exited before it could be killed: {first.stderr.read().decode()}"
            )
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
            first.stdout.close()
            first.stderr.close()
        received_at_kill = sink.received
        assert 0 < received_at_kill < N, "the kill should land with some, not all, messages sent"
        in_doubt = set(Message.objects.filter(status=Status.SENDING).values_list("pk", flat=True))
        assert in_doubt, "the kill should land mid-batch, leaving claimed messages `sending`"
        assert Message.objects.exclude(status=Status.SENT).count() > 0, "nothing left to resend"

        _wait_for(
            lambda: (
                not Message.objects.filter(
                    status=Status.SENDING, claimed_until__gte=timezone.now()
                ).exists()
            ),
            timeout=LEASE_SECONDS + 5,
            what="the dead worker's lease to run out",
        )
        _finish_worker(_start_worker(env, until_empty=True))
        received = sink.snapshot()
        raw = sink.received

    statuses = Counter(Message.objects.values_list("status", flat=True))
    assert statuses == {Status.SENT: N}, f"every message should end sent, got {dict(statuses)}"
    missing = expected - set(received)
    assert not missing, f"lost: {len(missing)} messages never reached the server"
    unexpected = set(received) - expected
    assert not unexpected, f"the server got Message-IDs that match no message: {unexpected}"
    assert len(received) == N, f"distinct Message-IDs {len(received)} != {N} messages"
    repeated = {mid: count for mid, count in received.items() if count > 1}
    assert raw - N <= 1, (
        f"{raw - N} re-deliveries; only the one message on the wire at the kill may repeat: "
        f"{repeated}"
    )
    in_doubt_ids = {_message_id(pk) for pk in in_doubt}
    assert set(repeated) <= in_doubt_ids, (
        f"a repeated message was not one the dead worker held: {set(repeated) - in_doubt_ids}"
    )
    sent_attempts = _sent_attempts_per_message()
    wrong = {pk: count for pk, count in sent_attempts.items() if count != 1}
    assert not wrong, f"every message needs exactly one `sent` attempt; these differ: {wrong}"
    interrupted = set(
        DeliveryAttempt.objects.filter(outcome=DeliveryAttempt.Outcome.INTERRUPTED).values_list(
            "message_id", flat=True
        )
    )
    assert in_doubt <= interrupted, (
        f"messages taken back from the dead worker lack an `interrupted` attempt: "
        f"{sorted(in_doubt - interrupted)[:10]}"
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(tmp_path):
    pks = _queue(N)
    expected = {_message_id(pk) for pk in pks}
    with SmtpSink(delay=0.002) as sink:
        env = _worker_env(sink, tmp_path)
        workers = [_start_worker(env, until_empty=True) for _ in range(2)]
        outputs = [_finish_worker(worker) for worker in workers]
        received = sink.snapshot()
        raw = sink.received

    statuses = Counter(Message.objects.values_list("status", flat=True))
    assert statuses == {Status.SENT: N}, f"every message should end sent, got {dict(statuses)}"
    assert set(received) == expected, (
        f"lost {len(expected - set(received))}, unexpected {len(set(received) - expected)}"
    )
    repeated = {mid: count for mid, count in received.items() if count > 1}
    assert raw == N, f"{raw} receptions for {N} messages; sent twice: {repeated}"
    twice = {pk: count for pk, count in _sent_attempts_per_message().items() if count > 1}
    assert not twice, f"messages with more than one `sent` attempt: {twice}"
    assert all(line.strip() for line in outputs), "each worker reports what it sent"


def _smtp_to(settings, port: int) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }


@pytest.mark.django_db
def test_refused_recipient_fails_the_message_with_the_servers_answer(settings, org):
    [pk] = _queue(1, address=lambda i: "bad@example.test")
    with SmtpSink(fail_rcpt={"bad@example.test"}) as sink:
        _smtp_to(settings, sink.port)
        dispatch_all_due()
        assert sink.received == 0, "a refused recipient must not count as delivered"

    message = Message.objects.get(pk=pk)
    assert message.status == Status.FAILED, f"a 550 is permanent, got {message.status}"
    assert "550" in message.reason, f"the reason should quote the server: {message.reason!r}"
    outcomes = list(message.deliveries.values_list("outcome", flat=True))
    assert outcomes == [DeliveryAttempt.Outcome.FAILED], outcomes


@pytest.mark.django_db
def test_unreachable_mail_server_retries_later(settings, org, refused_port):
    [pk] = _queue(1)
    before = Message.objects.get(pk=pk).due_at
    _smtp_to(settings, refused_port)
    dispatch_all_due()

    message = Message.objects.get(pk=pk)
    assert message.status == Status.DUE, f"an unreachable server is transient: {message.status}"
    assert message.due_at > timezone.now() > before, "the retry should wait (backoff)"
    assert message.attempts == 1, message.attempts
    outcomes = list(message.deliveries.values_list("outcome", flat=True))
    assert outcomes == [DeliveryAttempt.Outcome.RETRY], outcomes
