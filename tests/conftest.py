"""Named users that encode the permission boundaries, and the practice they work in.

ada    admin
cora   coordinator
cliff  clinician in Spine          hana  clinician in Hand
lia    liaison                     andy  analyst
pam    portal user of practice A   pete  portal user of practice B

REFLOOP_TEST_CLOCK=HH:MM (that wall time today in the practice's zone) or an ISO datetime
(naive: in the practice's zone) starts every test at that instant, with the clock running,
so a test that silently depends on the time of day or the date fails on any machine.
"""

import datetime as dt
import os
import socket
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from refloop.core import db_roles
from refloop.core.models import ApiToken
from refloop.core.roles import Role
from refloop.demo import factories as f
from tests import migration_rows

# The zone OrganizationFactory gives the practice: the zone of its quiet hours and months.
PRACTICE_ZONE = ZoneInfo("America/Chicago")


def clock_instant(value: str, *, today: dt.date) -> dt.datetime:
    """REFLOOP_TEST_CLOCK's instant: "HH:MM[:SS]" on `today`, or an ISO datetime; both read in
    the practice's zone unless they carry an offset."""
    try:
        moment = dt.datetime.combine(today, dt.time.fromisoformat(value))
    except ValueError:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise pytest.UsageError(
                f"REFLOOP_TEST_CLOCK must be a wall time like 03:00 or an ISO datetime like "
                f"2026-05-31T23:59:30, not {value!r}."
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PRACTICE_ZONE)


def pytest_configure(config):
    # Read once, so a suite that runs past midnight keeps starting its tests on one day.
    value = os.environ.get("REFLOOP_TEST_CLOCK", "").strip()
    today = dt.datetime.now(PRACTICE_ZONE).date()
    config.refloop_test_clock = clock_instant(value, today=today) if value else None


def pytest_report_header(config):
    if config.refloop_test_clock is not None:
        return f"REFLOOP_TEST_CLOCK: every test starts at {config.refloop_test_clock.isoformat()}"
    return None


@pytest.fixture(autouse=True)
def _wall_clock(request):
    """With REFLOOP_TEST_CLOCK set, the test runs from that instant on (the clock ticks),
    unless it names its own time with @pytest.mark.time_machine."""
    instant = request.config.refloop_test_clock
    if instant is None or request.node.get_closest_marker("time_machine"):
        yield
        return
    with time_machine.travel(instant, tick=True):
        yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With REFLOOP_MIGRATE_DATABASE_URL naming the tables' owner (PostgreSQL), the test
    database is created and migrated by the owner: connect as the owner until then.
    Returns the runtime role's credentials (None when no owner is configured)."""
    owner = db_roles.owner_credentials()
    return db_roles.switch("default", owner) if owner else None


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_modify_db_settings, django_db_blocker):
    """…then the tests run as the runtime role, as the app does in production. Flushes
    between transactional tests run as the owner (refloop's `flush` command)."""
    runtime = django_db_modify_db_settings
    if runtime is None:
        with django_db_blocker.unblock():
            migration_rows.take()
        yield
        return
    with django_db_blocker.unblock():
        db_roles.grant_runtime(runtime["USER"])
        owner = db_roles.switch("default", runtime)
        migration_rows.take()
    yield
    with django_db_blocker.unblock():
        db_roles.switch("default", owner)  # the owner drops the test database


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Real hashing costs ~0.3 s a user; the tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests that are not about sign-in use force_login, which passes no second factor; the
    # MFA tests (tests/web/test_mfa.py, tests/browser/test_mfa.py) switch enforcement on.
    settings.MFA_ENFORCED = False


@pytest.fixture
def refused_port():
    """A loopback TCP port that refuses every connection for the whole test: bound, never
    listening, so no other process (tests run in parallel) can start listening on it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def org(db):
    return f.OrganizationFactory()


@pytest.fixture
def spine(org):
    return f.DepartmentFactory(code="spine", name="Spine", accepted_conditions=["M54", "M51"])


@pytest.fixture
def hand(org):
    return f.DepartmentFactory(code="hand", name="Hand & Upper Extremity")


@pytest.fixture
def practice_a(db):
    return f.PracticeFactory(name="Prairie Family Medicine")


@pytest.fixture
def practice_b(db):
    return f.PracticeFactory(name="Riverside Internal Medicine")


@pytest.fixture
def provider_a(practice_a):
    return f.ProviderFactory(practice=practice_a)


@pytest.fixture
def provider_b(practice_b):
    return f.ProviderFactory(practice=practice_b)


@pytest.fixture
def ada(org):
    return f.UserFactory(username="ada", role=Role.ADMIN)


@pytest.fixture
def cora(org):
    return f.UserFactory(username="cora", role=Role.COORDINATOR)


@pytest.fixture
def cliff(spine):
    return f.UserFactory(username="cliff", role=Role.CLINICIAN, departments=[spine])


@pytest.fixture
def hana(hand):
    return f.UserFactory(username="hana", role=Role.CLINICIAN, departments=[hand])


@pytest.fixture
def lia(org):
    return f.UserFactory(username="lia", role=Role.LIAISON)


@pytest.fixture
def andy(org):
    return f.UserFactory(username="andy", role=Role.ANALYST)


@pytest.fixture
def pam(practice_a):
    return f.UserFactory(username="pam", role=Role.PORTAL, partner_practice=practice_a)


@pytest.fixture
def pete(practice_b):
    return f.UserFactory(username="pete", role=Role.PORTAL, partner_practice=practice_b)


@pytest.fixture
def referral(cora, spine, provider_a):
    """A fresh inbound referral to Spine from practice A, in state received."""
    # A name no page text or other fixture contains, so "the name is not on the page" can't
    # fail by coincidence (a random "Hill" would match "Hillside").
    patient = f.patient_data(first_name="Zephyrine", last_name="Quillfeather")
    return f.make_referral(
        acting_user=cora, department=spine, referring_provider=provider_a, patient=patient
    )


class ApiClient:
    """Django's test client with a bearer token and JSON bodies."""

    def __init__(self, user):
        _, self.token = ApiToken.issue(user)
        self.user = user
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def get(self, path, **params):
        return self.client.get(path, params)

    def post(self, path, body=None, **headers):
        return self.client.post(path, body or {}, content_type="application/json", headers=headers)

    def patch(self, path, body=None):
        return self.client.patch(path, body or {}, content_type="application/json")

    def upload(self, path, files: dict, data: dict | None = None):
        return self.client.post(path, {**(data or {}), **files})


@pytest.fixture
def api():
    """api(user) -> a client authenticated as `user`."""
    return ApiClient


@pytest.fixture
def fake_clamd(settings):
    """A ClamAV daemon stand-in on a unix socket, set as REFLOOP_CLAMD_SOCKET; it flags EICAR."""
    from tests.fake_clamd import FakeClamd

    with FakeClamd() as clamd:
        settings.CLAMD_SOCKET = clamd.address
        yield clamd
