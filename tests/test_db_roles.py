"""PostgreSQL roles: the runtime role reads and writes ordinary tables but cannot rewrite,
delete or truncate the audit log and the timeline; `refloop db grant-runtime` grants that.

These tests commit (transaction=True): the role they create is cluster-wide, made and
dropped by the tables' owner outside the test's own connection.
"""

import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from refloop.core import audit, db_roles
from refloop.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

APPEND_ONLY = ("core_auditentry", "referrals_referralevent")


@pytest.fixture
def runtime_role():
    """A fresh role granted the runtime's privileges by `refloop db grant-runtime`."""
    role = f"refloop_test_{uuid.uuid4().hex[:12]}"
    with db_roles.as_owner(), connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    out = io.StringIO()
    call_command("db", "grant-runtime", role, stdout=out)
    yield role, out.getvalue()
    with db_roles.as_owner(), connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


def privileges(role: str, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p"
            " WHERE has_table_privilege(%s, %s, p)",
            [role, table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_runtime_role_cannot_update_delete_or_truncate_the_audit_log(request):
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL feature"):
            call_command("db", "grant-runtime", "refloop_app", stdout=io.StringIO())
        return
    role, printed = request.getfixturevalue("runtime_role")
    assert "REVOKE UPDATE, DELETE, TRUNCATE" in printed
    audit.record("referral.read", audit.Touch("referral", 1), actor=None)
    with db_roles.as_owner():
        for table in APPEND_ONLY:
            assert privileges(role, table) == {"SELECT", "INSERT"}
        assert privileges(role, "referrals_referral") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
        for statement in (
            "UPDATE core_auditentry SET action = 'x'",
            "DELETE FROM core_auditentry",
            "TRUNCATE core_auditentry",
            "TRUNCATE referrals_referralevent",
        ):
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL ROLE {role}")
                    cursor.execute(statement)
        # Tables a later migration creates (as the owner) are granted too.
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE refloop_test_later (id integer)")
            try:
                later = privileges(role, "refloop_test_later")
            finally:
                cursor.execute("DROP TABLE refloop_test_later")
        assert later == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert AuditEntry.objects.filter(action="referral.read").count() == 1


def test_when_an_owner_is_configured_the_app_connects_as_the_runtime_role():
    """`.ci/run` runs the PostgreSQL suite this way: the app's own connection could not
    rewrite the audit log even with the triggers gone."""
    owner = db_roles.owner_credentials()
    if owner is None:
        with db_roles.as_owner() as switched:
            assert not switched  # no owner: migrate and flush use the app's own connection
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (current,) = cursor.fetchone()
    assert current != owner["USER"]
    for table in APPEND_ONLY:
        assert privileges(current, table) == {"SELECT", "INSERT"}
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE core_auditentry")


def test_refloop_migrate_runs_as_the_owner_and_grants_the_runtime_role(settings):
    if connection.vendor != "postgresql":
        out = io.StringIO()
        call_command("migrate", stdout=out)  # no roles: the app's own connection migrates
        assert "No migrations to apply" in out.getvalue()
        return
    role = f"refloop_test_{uuid.uuid4().hex[:12]}"
    with db_roles.as_owner(), connection.cursor() as cursor:
        owner = {**connection.settings_dict}
        cursor.execute(f"CREATE ROLE {role} LOGIN")
    settings.DATABASE_OWNER = owner
    app = db_roles.switch("default", {"USER": role, "PASSWORD": ""})
    out = io.StringIO()
    try:
        call_command("migrate", stdout=out)
    finally:
        db_roles.switch("default", app)
    try:
        assert f"Granted the runtime role '{role}' its privileges." in out.getvalue()
        with db_roles.as_owner():
            assert privileges(role, "core_auditentry") == {"SELECT", "INSERT"}
            assert "UPDATE" in privileges(role, "core_user")
    finally:
        with db_roles.as_owner(), connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")
