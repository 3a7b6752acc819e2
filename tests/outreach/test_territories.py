"""Territories: rules by city and ZIP code prefix with a preview before applying, one
territory per practice, moving a practice, and who may change them."""

import pytest
from django.urls import reverse

from refloop.core.errors import InvalidInput, NotAllowed
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.outreach import territories
from refloop.outreach.models import Relationship, Territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(db):
    """Practices in Springfield (ZIP 627..), Chatham (626..) and Peoria (616..)."""
    return {
        "downtown": f.PracticeFactory(
            name="Downtown Clinic", city="Springfield", postal_code="62701"
        ),
        "westside": f.PracticeFactory(
            name="Westside Clinic", city="springfield", postal_code="62704"
        ),
        "chatham": f.PracticeFactory(name="Chatham Family", city="Chatham", postal_code="62629"),
        "rural": f.PracticeFactory(name="Rural Health", city="Pawnee", postal_code="62558"),
        "peoria": f.PracticeFactory(name="Peoria Heights", city="Peoria", postal_code="61614"),
    }


def territory_of(practice) -> Territory | None:
    found = Relationship.objects.filter(practice=practice).first()
    return found.territory if found else None


def test_rules_match_a_city_in_any_case_or_a_zip_prefix(places):
    found = territories.matching(["SPRINGFIELD"], ["6262", "6155"])

    assert {p.name for p in found} == {"Downtown Clinic", "Westside Clinic", "Chatham Family"}
    assert {p.name for p in territories.matching([], ["616"])} == {"Peoria Heights"}
    assert not territories.matching([], []).exists()


def test_a_zip_rule_must_be_digits(ada):
    with pytest.raises(InvalidInput, match="not a ZIP code") as error:
        territories.save_territory(
            acting_user=ada, name="North", liaison=None, cities=[], postal_codes=["62A"]
        )
    assert error.value.field == "postal_codes"


def test_the_preview_counts_what_applying_adds_and_applying_adds_exactly_that(ada, lia, places):
    south = territories.save_territory(
        acting_user=ada, name="South", liaison=None, cities=["Chatham"], postal_codes=[]
    )
    territories.apply_rules(acting_user=ada, territory=south)
    north = territories.save_territory(
        acting_user=ada,
        name="North",
        liaison=lia,
        cities=["Springfield"],
        postal_codes=["626"],
    )
    assert territory_of(places["downtown"]) is None  # saving rules assigns nothing

    preview = territories.preview(north.cities, north.postal_codes, north)

    assert (preview.matching, preview.added, preview.already, preview.elsewhere) == (3, 2, 0, 1)
    assert territories.apply_rules(acting_user=ada, territory=north) == preview.added
    assert territory_of(places["downtown"]) == territory_of(places["westside"]) == north
    # Chatham was in South already: a rule never takes a practice from another territory.
    assert territory_of(places["chatham"]) == south
    after = territories.preview(north.cities, north.postal_codes, north)
    assert (after.added, after.already, after.elsewhere) == (0, 2, 1)
    assert AuditEntry.objects.filter(action="outreach.territory_rules_applied").count() == 2


def test_a_practice_is_in_one_territory_and_moving_it_takes_it_out_of_the_other(ada, places):
    north, south = (
        territories.save_territory(
            acting_user=ada, name=name, liaison=None, cities=[], postal_codes=[]
        )
        for name in ("North", "South")
    )
    practice = places["rural"]

    assert territories.move_practice(acting_user=ada, practice=practice, territory=north) is None
    before = territories.move_practice(acting_user=ada, practice=practice, territory=south)

    assert before == north
    assert Relationship.objects.filter(practice=practice).count() == 1
    assert territory_of(practice) == south
    assert not north.relationships.exists()
    entry = AuditEntry.objects.filter(action="outreach.practice_moved").latest("pk")
    assert entry.detail == {"from": "North", "to": "South"}


def test_territory_names_are_unique_whatever_the_case(ada):
    territories.save_territory(
        acting_user=ada, name="North", liaison=None, cities=[], postal_codes=[]
    )
    with pytest.raises(InvalidInput, match="already a territory"):
        territories.save_territory(
            acting_user=ada, name=" north ", liaison=None, cities=[], postal_codes=[]
        )


def test_only_managers_change_territories(lia, places):
    with pytest.raises(NotAllowed):
        territories.save_territory(
            acting_user=lia, name="Mine", liaison=lia, cities=[], postal_codes=[]
        )


# ---- the pages ----------------------------------------------------------------------


def test_an_admin_creates_previews_applies_and_moves_through_the_pages(client, ada, lia, places):
    client.force_login(ada)

    preview = client.get(
        reverse("outreach_territory_preview"), {"cities": "Springfield", "postal_codes": "626"}
    )
    assert "3 practices match these rules." in preview.content.decode()
    assert "adds 3 in no territory yet" in preview.content.decode()

    created = client.post(
        reverse("outreach_territory_new"),
        {"name": "North", "liaison": lia.pk, "cities": "Springfield", "postal_codes": "626"},
    )
    north = Territory.objects.get(name="North")
    assert created["Location"] == reverse("outreach_territory", args=[north.pk])
    assert (north.liaison, north.cities, north.postal_codes) == (lia, ["Springfield"], ["626"])
    page = client.get(created["Location"]).content.decode()
    assert "Add the 3 practices" in page

    client.post(reverse("outreach_territory_apply", args=[north.pk]))
    assert north.relationships.count() == 3

    # One by one: found by name, added; taken out again.
    found = client.get(created["Location"], {"q": "Peoria"}).content.decode()
    assert "Peoria Heights" in found
    url = reverse("outreach_territory_practices", args=[north.pk])
    client.post(url, {"practice": places["peoria"].pk})
    assert territory_of(places["peoria"]) == north
    client.post(url, {"practice": places["peoria"].pk, "action": "remove"})
    assert territory_of(places["peoria"]) is None

    # From the practice's relationship page: moved to another territory.
    south = Territory.objects.create(name="South")
    client.post(
        reverse("outreach_practice_territory", args=[places["chatham"].pk]),
        {"territory": south.pk},
    )
    assert territory_of(places["chatham"]) == south


def test_a_liaison_reads_territories_but_does_not_change_them(client, lia, places):
    north = Territory.objects.create(name="North", liaison=lia, cities=["Springfield"])
    Relationship.objects.create(practice=places["downtown"], territory=north)
    client.force_login(lia)

    listing = client.get(reverse("outreach_territories")).content.decode()
    page = client.get(reverse("outreach_territory", args=[north.pk])).content.decode()

    assert "North" in listing and "New territory" not in listing
    assert "Downtown Clinic" in page and "Change the name" not in page
    assert client.post(reverse("outreach_territory_apply", args=[north.pk])).status_code == 403
    refused = client.post(
        reverse("outreach_territory_practices", args=[north.pk]),
        {"practice": places["rural"].pk},
    )
    assert refused.status_code == 403
    assert territory_of(places["rural"]) is None
