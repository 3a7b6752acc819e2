"""The demo practice: every state on show, referral volume concentrated as in real
networks, histories written through the services, no side effects, same data every run."""

import math
import os
import sqlite3
import stat
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from refloop.core.keys import generate_key
from refloop.core.models import AuditEntry, Notification, User
from refloop.core.roles import Role
from refloop.demo.journeys import INBOUND_STATES, OUTBOUND_STATES
from refloop.demo.seed import read_logins, seed_demo
from refloop.intake.models import DocumentStatus, IntakeCandidate, IntakeDocument
from refloop.referrals.models import Direction, Referral, ReferralEvent, State

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """A small demo practice, committed for real so after-commit hooks run; wiped afterwards."""
    logins_file = tmp_path_factory.mktemp("demo") / "demo-logins.txt"
    with django_db_blocker.unblock():
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            result = seed_demo(now=NOW, referrals=150, logins_file=logins_file)
        try:
            yield result
        finally:
            call_command("flush", interactive=False, verbosity=0)


def inbound():
    return Referral.objects.filter(direction=Direction.INBOUND)


def test_one_login_per_role_named_after_the_role(seeded, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    for role in (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.LIAISON, Role.ANALYST):
        user = User.objects.get(username=role.value)
        assert user.role == role
        assert authenticate(username=role.value, password=seeded.logins[role.value]) == user
    assert User.objects.get(username="clinician").departments.count() >= 1
    assert User.objects.filter(role=Role.COORDINATOR).count() > 1


def test_portal_users_belong_to_two_referring_practices_that_sent_referrals(seeded, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    a, b = (User.objects.get(username=name) for name in ("portal-a", "portal-b"))
    assert a.role == b.role == Role.PORTAL
    assert a.partner_practice_id != b.partner_practice_id
    for user in (a, b):
        assert inbound().filter(referring_practice=user.partner_practice).exists()
        password = seeded.logins[user.username]
        assert authenticate(username=user.username, password=password) == user
    lines = read_logins(seeded.logins_file)
    assert any(line.startswith("portal-a") and a.partner_practice.name in line for line in lines)


def test_logins_file_is_private_and_lists_every_demo_user(seeded):
    mode = stat.S_IMODE(os.stat(seeded.logins_file).st_mode)
    assert mode == 0o600
    lines = read_logins(seeded.logins_file)
    assert [line.split()[0] for line in lines] == list(seeded.logins)
    assert all(seeded.logins[line.split()[0]] in line for line in lines)


def test_every_inbound_and_outbound_state_is_on_show(seeded):
    assert set(inbound().values_list("state", flat=True)) == set(INBOUND_STATES)
    outbound = Referral.objects.filter(direction=Direction.OUTBOUND)
    assert set(outbound.values_list("state", flat=True)) == set(OUTBOUND_STATES)
    assert inbound().count() == 150
    # Network status is kept as it was when each referral was sent (for leakage).
    assert not outbound.exclude(state=State.DRAFT).filter(receiving_in_network=None).exists()


def test_referral_volume_is_concentrated_in_a_few_referrers(seeded):
    per_provider = Counter(
        inbound().exclude(referring_provider=None).values_list("referring_provider__npi", flat=True)
    )
    counts = sorted(per_provider.values(), reverse=True)
    top = math.ceil(len(counts) * 0.2)
    assert sum(counts[:top]) / sum(counts) > 0.6


def test_sources_channels_and_urgencies_are_mixed_like_a_real_practice(seeded):
    sources = Counter(inbound().values_list("source_type", flat=True))
    assert sources.most_common(1)[0][0] == "provider"
    others = inbound().filter(source_type="other")
    assert others.exclude(source_other="").count() == sources["other"]
    channels = Counter(inbound().values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == "fax"
    assert len(channels) >= 4
    assert Counter(inbound().values_list("urgency", flat=True)).most_common(1)[0][0] == "routine"
    declined = inbound().filter(state=State.DECLINED)
    assert all(r.end_reason for r in declined)


def test_history_is_written_through_the_services(seeded):
    """Each referral's timeline starts when it arrived and ends in its current state."""
    for referral in Referral.objects.prefetch_related("events"):
        events = list(referral.events.all())
        assert events[0].kind in ("referral.received", "referral.drafted")
        assert events[0].at == referral.received_at
        moves = [e for e in events if e.to_state]
        assert moves[-1].to_state == referral.state
        assert max(e.at for e in moves) == referral.state_changed_at
        assert referral.received_at <= NOW
    closed = inbound().filter(state=State.LOOP_CLOSED).first()
    kinds = list(closed.events.values_list("kind", flat=True))
    assert (
        kinds.index("referral.accepted")
        < kinds.index("referral.scheduled")
        < kinds.index("referral.seen")
        < kinds.index("referral.loop_closed")
    )
    assert (
        AuditEntry.objects.filter(action__startswith="referral.").count()
        == ReferralEvent.objects.count()
    )


def test_recent_referrals_are_still_being_worked_and_some_breached_their_sla(seeded):
    open_states = ["received", "in_review", "pending_info", "accepted", "contacting"]
    recent = inbound().filter(received_at__gte=NOW - timedelta(days=21), state__in=open_states)
    assert recent.exists()
    assert inbound().filter(sla_breached_at__isnull=False).exists()
    assert inbound().exclude(first_contact_at=None).exists()


def test_history_enqueues_no_side_effects(seeded):
    assert DBTaskResult.objects.count() == 0
    # Breaches flagged long ago were read long ago; only recent ones wait in the bell.
    old = Notification.objects.filter(created_at__lt=NOW - timedelta(days=2))
    assert not old.filter(read_at__isnull=True).exists()


def _fingerprint(database: str) -> dict:
    with sqlite3.connect(database) as db:
        return {
            "referrals": db.execute(
                "SELECT direction, state, urgency, source_type, channel, department_id, "
                "referring_provider_id, received_at, state_changed_at FROM referrals_referral "
                "ORDER BY id"
            ).fetchall(),
            "patients": db.execute(
                "SELECT name_key, birth_key, insurance_payer FROM patients_patient ORDER BY id"
            ).fetchall(),
            "events": db.execute(
                "SELECT referral_id, kind, at, actor_label FROM referrals_referralevent ORDER BY id"
            ).fetchall(),
            "providers": db.execute(
                "SELECT npi, last_name FROM network_provider ORDER BY id"
            ).fetchall(),
        }


@pytest.mark.django_db(False)
def test_two_seeds_into_fresh_databases_give_the_same_practice(tmp_path):
    runs = []
    # Names and birth dates are stored encrypted under fresh nonces; their blind indexes
    # compare across the two databases when both use the same index key.
    index_key = generate_key()
    for name in ("one", "two"):
        # Each seed gets a fresh SQLite file of its own, whatever database the suite runs on.
        env = {k: v for k, v in os.environ.items() if k != "REFLOOP_DATABASE_URL"}
        env["REFLOOP_BLIND_INDEX_KEY"] = index_key
        env["REFLOOP_DATA_DIR"] = str(tmp_path / name)
        command = (
            "from django.core.management import call_command as c; "
            "c('migrate', verbosity=0); "
            "c('seed_demo', '--referrals=40', '--now=2026-03-02T15:00:00+00:00', verbosity=0)"
        )
        runs.append(
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", "import django; django.setup(); " + command],
                env={**env, "DJANGO_SETTINGS_MODULE": "refloop.settings"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    for run in runs:
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 0, output
    one = _fingerprint(str(tmp_path / "one" / "refloop.sqlite3"))
    two = _fingerprint(str(tmp_path / "two" / "refloop.sqlite3"))
    assert len(one["referrals"]) >= 40
    assert one == two
    # Passwords are the one thing that must differ between installations.
    assert (tmp_path / "one" / "demo-logins.txt").read_text() != (
        tmp_path / "two" / "demo-logins.txt"
    ).read_text()


def test_the_document_queue_holds_faxes_to_review_and_one_in_quarantine(seeded):
    waiting = IntakeDocument.objects.filter(status=DocumentStatus.REVIEW)
    assert waiting.count() >= 2
    assert IntakeCandidate.objects.filter(document__in=waiting, status="pending").count() >= 4
    [damaged] = IntakeDocument.objects.filter(status=DocumentStatus.QUARANTINED)
    assert damaged.status_reason
