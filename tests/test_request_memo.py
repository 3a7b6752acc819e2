"""Settings rows are read once per request (core.context.remembered), never across
requests, and a change saved during the request is what the rest of it reads."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from refloop.core import context
from refloop.practice.models import Organization


def _organization_reads(queries) -> int:
    return sum('FROM "practice_organization"' in q["sql"] for q in queries)


def test_within_a_request_the_organization_is_read_once(db):
    Organization.current()
    with context.remembering(), CaptureQueriesContext(connection) as seen:
        first = Organization.current()
        assert Organization.current() is first
        assert Organization.current().zone == first.zone
    assert _organization_reads(seen.captured_queries) == 1


def test_outside_a_request_every_read_is_fresh(db):
    org = Organization.current()
    Organization.objects.filter(pk=org.pk).update(name="Renamed elsewhere")
    assert Organization.current().name == "Renamed elsewhere"


def test_a_change_saved_during_the_request_is_read_by_the_rest_of_it(db):
    Organization.current()
    with context.remembering():
        before = Organization.current()
        changed = Organization.objects.get(pk=before.pk)  # another copy, as a settings form has
        changed.name = "Saved mid-request"
        changed.save()
        assert Organization.current().name == "Saved mid-request"
    with context.remembering():  # the next request knows nothing of the last one's copy
        assert Organization.current() is not before


def test_each_request_reads_it_once_afresh(client, db):
    """The liaison's home asks for the organization from several places (time zone, due
    list, new referrers): one read per request, and the next request reads it afresh."""
    from refloop.core.roles import Role
    from refloop.demo import factories as f

    client.force_login(f.UserFactory(role=Role.LIAISON))
    Organization.current()
    with CaptureQueriesContext(connection) as seen:
        assert client.get("/outreach/").status_code == 200
        Organization.objects.filter(pk=1).update(name="Renamed between requests")
        second = client.get("/outreach/")
    assert _organization_reads(seen.captured_queries) == 2
    assert second.status_code == 200


def test_an_installation_without_its_organization_row_gets_one_on_first_read(db):
    Organization.objects.all().delete()
    created = Organization.current()
    assert (created.pk, created.name) == (1, "Our practice")
    with CaptureQueriesContext(connection) as seen:
        assert Organization.current().pk == 1
    assert len(seen.captured_queries) == 1  # found by its key, no ORDER BY and no insert
