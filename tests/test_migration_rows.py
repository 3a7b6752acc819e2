"""tests/migration_rows.py: a flush (the end of every transactional test) leaves the rows the
data migrations wrote, so a test that runs after it in the same process still finds them."""

import pytest
from django.core.management import call_command

from refloop.advocacy.models import Question
from refloop.outreach.models import StarkLimit, Topic
from tests import migration_rows

pytestmark = pytest.mark.django_db(transaction=True)


def rows():
    return {
        "topics": sorted(Topic.objects.values_list("name", "position")),
        "limits": sorted(StarkLimit.objects.values_list("year", "amount")),
        "questions": sorted(Question.objects.values_list("audience", "key", "text")),
    }


def test_the_copy_holds_the_rows_of_the_data_migrations():
    copied = set(migration_rows._snapshot)
    assert {"outreach.topic", "outreach.starklimit", "advocacy.question"} <= copied


def test_a_flush_puts_the_data_migrations_rows_back():
    before = rows()
    assert all(before.values())
    Topic.objects.create(name="Added by this test", position=99)
    call_command("flush", interactive=False, verbosity=0)
    assert rows() == before
    # New rows are numbered after the ones put back.
    assert Topic.objects.create(name="Another", position=100).pk > max(
        Topic.objects.exclude(name="Another").values_list("pk", flat=True)
    )


def test_a_test_after_a_transactional_one_still_finds_them():
    # Runs after the flush that ended the test above (same file, same worker).
    assert all(rows().values())
