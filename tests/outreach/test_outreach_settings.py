"""Outreach settings: the visit cadence per tier and the topic list, for admins only."""

import pytest
from django.urls import reverse

from refloop.core.models import AuditEntry
from refloop.outreach.models import OutreachSettings, Topic

pytestmark = pytest.mark.django_db

CADENCE = {"cadence_a": 21, "cadence_b": 45, "cadence_c": 90, "cadence_prospect": 120}


def test_the_cadence_defaults_are_30_60_90_and_90(client, ada):
    client.force_login(ada)

    html = client.get(reverse("outreach_settings")).content.decode()

    for name, value in (
        ("cadence_a", 30),
        ("cadence_b", 60),
        ("cadence_c", 90),
        ("cadence_prospect", 90),
    ):
        assert f'name="{name}" value="{value}"' in html


def test_an_admin_saves_the_cadence_and_it_is_audited(client, ada):
    client.force_login(ada)

    response = client.post(reverse("outreach_settings"), CADENCE)

    assert response.status_code == 302
    found = OutreachSettings.current()
    assert (found.cadence("A"), found.cadence("B"), found.cadence("prospect")) == (21, 45, 120)
    entry = AuditEntry.objects.get(action="settings.outreach_cadence_changed")
    assert entry.detail == {
        "cadence_a": [30, 21],
        "cadence_b": [60, 45],
        "cadence_prospect": [90, 120],
    }


@pytest.mark.parametrize("days", [0, 366, -5])
def test_a_cadence_outside_1_to_365_days_is_refused(client, ada, days):
    client.force_login(ada)

    response = client.post(reverse("outreach_settings"), CADENCE | {"cadence_b": days})

    assert response.status_code == 422
    assert OutreachSettings.current().cadence_b == 60


def test_the_bounds_themselves_are_accepted(client, ada):
    client.force_login(ada)

    client.post(reverse("outreach_settings"), CADENCE | {"cadence_a": 1, "cadence_c": 365})

    assert (OutreachSettings.current().cadence_a, OutreachSettings.current().cadence_c) == (1, 365)


def test_topics_are_added_renamed_reordered_and_deactivated(client, ada):
    client.force_login(ada)
    names = lambda: list(Topic.objects.order_by("position", "name").values_list("name", flat=True))  # noqa: E731
    start = names()

    client.post(reverse("outreach_topics"), {"name": "Prior authorization"})
    assert names() == [*start, "Prior authorization"]
    assert client.post(reverse("outreach_topics"), {"name": "complaint"}).status_code == 422

    added = Topic.objects.get(name="Prior authorization")
    url = reverse("outreach_topic", args=[added.pk])
    client.post(url, {"action": "up"})
    assert names()[-2:] == ["Prior authorization", start[-1]]

    client.post(url, {"action": "save", "name": "Prior auth", "active": "on"})
    client.post(url, {"action": "save", "name": "Prior auth"})  # the box unticked
    added.refresh_from_db()
    assert (added.name, added.active) == ("Prior auth", False)
    assert AuditEntry.objects.filter(action__startswith="settings.outreach_topic").count() == 4


def test_the_settings_hub_links_outreach(client, ada):
    client.force_login(ada)

    html = client.get(reverse("settings_home")).content.decode()

    assert reverse("outreach_settings") in html


@pytest.mark.parametrize("route", ["outreach_settings", "outreach_topics"])
def test_a_liaison_may_not_change_outreach_settings(client, lia, route):
    client.force_login(lia)

    assert client.get(reverse(route)).status_code == 403
    assert client.post(reverse(route), CADENCE | {"name": "x"}).status_code == 403
