"""API tokens expire (90 days by default), say so when refused, and show admins when
they were last used; tokens from before expiry existed get one in the migration."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from refloop.core import db_roles
from refloop.core.models import ApiToken

ISSUED = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_works_until_the_moment_it_expires(cora):
    with time_machine.travel(ISSUED, tick=False) as clock:
        row, token = ApiToken.issue(cora)
        assert row.expires_at == ISSUED + dt.timedelta(days=90)
        clock.move_to(row.expires_at - dt.timedelta(seconds=1))
        assert bearer(token).get("/api/v1/referrals").status_code == 200
        clock.move_to(row.expires_at)
        refused = bearer(token).get("/api/v1/referrals")
    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "This API token expired on 2026-08-02 09:00 UTC; "
        "ask an administrator for a new one.",
        "field": None,
    }
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_the_default_lifetime_is_a_setting(cora, settings):
    settings.API_TOKEN_DAYS = 30
    with time_machine.travel(ISSUED, tick=False):
        row, _ = ApiToken.issue(cora)
    assert row.expires_at == ISSUED + dt.timedelta(days=30)


def test_an_expired_token_does_not_record_a_use(cora):
    with time_machine.travel(ISSUED, tick=False) as clock:
        row, token = ApiToken.issue(cora, days=1)
        clock.move_to(ISSUED + dt.timedelta(days=2))
        assert bearer(token).get("/api/v1/referrals").status_code == 401
    row.refresh_from_db()
    assert row.last_used_at is None


# ---- the command ------------------------------------------------------------------------


def test_token_create_prints_the_expiry(cora):
    with time_machine.travel(ISSUED, tick=False):
        out, err = run("token", "create", "cora")
    assert "good until 2026-08-02 09:00 UTC" in err
    assert ApiToken.objects.get(digest=ApiToken.digest_of(out.strip())).expires_at == (
        ISSUED + dt.timedelta(days=90)
    )


def test_token_create_takes_a_number_of_days(cora):
    with time_machine.travel(ISSUED, tick=False):
        out, err = run("token", "create", "cora", "--days", "7")
    assert "good until 2026-05-11 09:00 UTC" in err
    row = ApiToken.objects.get(digest=ApiToken.digest_of(out.strip()))
    assert row.expires_at == ISSUED + dt.timedelta(days=7)


@pytest.mark.parametrize("days", ["0", "-3"])
def test_token_create_refuses_a_lifetime_under_a_day(cora, days):
    with pytest.raises(CommandError, match="--days must be 1 or more"):
        run("token", "create", "cora", "--days", days)
    assert not ApiToken.objects.exists()


def test_token_list_shows_expiry_and_last_use(cora, lia):
    with time_machine.travel(ISSUED, tick=False) as clock:
        _, used = ApiToken.issue(cora)
        ApiToken.issue(lia, days=1)
        clock.move_to(ISSUED + dt.timedelta(hours=3))
        bearer(used).get("/api/v1/referrals")
        clock.move_to(ISSUED + dt.timedelta(days=2))
        out, _ = run("token", "list")
    cora_line, lia_line = out.splitlines()
    assert "cora" in cora_line and "expires 2026-08-02 09:00 UTC" in cora_line
    assert "last used 2026-05-04 12:00 UTC" in cora_line
    assert "lia" in lia_line and "expired 2026-05-05 09:00 UTC" in lia_line
    assert "last used never" in lia_line


# ---- shown to admins ---------------------------------------------------------------------


def test_admins_see_each_tokens_expiry_and_last_use(ada, cora):
    ada.is_staff = ada.is_superuser = True
    ada.save(update_fields=["is_staff", "is_superuser"])
    with time_machine.travel(ISSUED, tick=False) as clock:
        row, token = ApiToken.issue(cora)
        admin = Client()
        admin.force_login(ada)
        before = admin.get("/admin/core/apitoken/").content.decode()
        clock.move_to(ISSUED + dt.timedelta(minutes=5))
        bearer(token).get("/api/v1/referrals")
        after = admin.get("/admin/core/apitoken/").content.decode()
    assert "Expires at" in before and "Last used at" in before
    assert "Aug. 2, 2026, 9 a.m." in before
    assert "May 4, 2026, 9:05 a.m." not in before
    assert "May 4, 2026, 9:05 a.m." in after


# ---- the migration -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_tokens_the_default_lifetime():
    before, after = (
        [("core", "0003_audit_append_only")],
        [("core", "0005_apitoken_expiry_required")],
    )
    # As `refloop migrate` does: connected as the tables' owner when one is configured.
    with db_roles.as_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        try:
            old = MigrationExecutor(connection).loader.project_state(before).apps
            user = old.get_model("core", "User").objects.create(
                username="olive", role="coordinator"
            )
            old.get_model("core", "ApiToken").objects.create(
                user=user, digest="d" * 64, prefix="rfl_old"
            )
            with time_machine.travel(ISSUED, tick=False):
                MigrationExecutor(connection).migrate(after)
        finally:
            MigrationExecutor(connection).migrate(
                MigrationExecutor(connection).loader.graph.leaf_nodes()
            )
    token = ApiToken.objects.get(prefix="rfl_old")
    assert token.expires_at == ISSUED + dt.timedelta(days=90)
