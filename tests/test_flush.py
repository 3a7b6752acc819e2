"""A transactional test's teardown flushes the database (pytest-django); the next test still
finds it as migrated: the content types and permissions come back with post_migrate, the
data migrations' rows with tests/conftest.py. A data migration that adds rows goes into
conftest's DATA_MIGRATIONS, or this test names the table it fills."""

import pytest
from django.core.management import call_command

from refloop.outreach.models import StarkLimit, Topic


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_database_holds_what_the_migrations_put_in(migrated_rows, count_rows):
    assert {Topic._meta.label, StarkLimit._meta.label} <= set(migrated_rows)
    call_command("flush", interactive=False, verbosity=0)
    assert count_rows() == migrated_rows
