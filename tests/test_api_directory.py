"""The referral partner directory over /api/v1/: practices and providers."""

import pytest

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.network.models import Practice, Provider

pytestmark = pytest.mark.django_db

VALID_NPI = f.npi_from(987_654)


def provider_body(**overrides) -> dict:
    return {
        "npi": VALID_NPI,
        "first_name": "Imani",
        "last_name": "Okafor",
        "credentials": "DO",
        **overrides,
    }


# ---- practices ----------------------------------------------------------------------


@pytest.mark.parametrize("user", ["ada", "cora", "cliff", "lia", "andy"])
def test_staff_roles_read_the_practice_list(api, request, user, practice_a, practice_b):
    answer = api(request.getfixturevalue(user)).get("/api/v1/practices")
    assert answer.status_code == 200
    names = [p["name"] for p in answer.json()["items"]]
    assert names == ["Prairie Family Medicine", "Riverside Internal Medicine"]
    assert answer.json()["total"] == 2


def test_portal_users_may_not_read_the_directory(api, pam, practice_a, provider_a):
    client = api(pam)
    assert client.get("/api/v1/practices").status_code == 403
    assert client.get(f"/api/v1/practices/{practice_a.pk}").status_code == 403
    assert client.get("/api/v1/providers").status_code == 403
    assert client.get(f"/api/v1/providers/{provider_a.pk}").status_code == 403


def test_practice_list_filters_by_name_or_city_and_network(api, cora, practice_a, practice_b):
    practice_b.city = "Decatur"
    practice_b.in_network = False
    practice_b.save()
    client = api(cora)
    assert [p["id"] for p in client.get("/api/v1/practices", q="prairie").json()["items"]] == [
        practice_a.pk
    ]
    assert [p["id"] for p in client.get("/api/v1/practices", q="decat").json()["items"]] == [
        practice_b.pk
    ]
    out = client.get("/api/v1/practices", in_network="false").json()["items"]
    assert [p["id"] for p in out] == [practice_b.pk]


def test_practice_detail_and_unknown_practice(api, lia, practice_a):
    client = api(lia)
    body = client.get(f"/api/v1/practices/{practice_a.pk}").json()
    assert (body["name"], body["in_network"]) == ("Prairie Family Medicine", True)
    assert client.get("/api/v1/practices/999999").status_code == 404


@pytest.mark.parametrize("user", ["ada", "cora", "lia"])
def test_directory_editors_add_a_practice(api, request, user):
    answer = api(request.getfixturevalue(user)).post(
        "/api/v1/practices",
        {
            "name": "Lakeview Pediatrics",
            "city": "Peoria",
            "state": "IL",
            "in_network": True,
            "preferred_channel": "fax",
            "fax": "(309) 555-0101",
        },
    )
    assert answer.status_code == 201
    practice = Practice.objects.get(pk=answer.json()["id"])
    assert (practice.name, practice.preferred_channel, practice.in_network) == (
        "Lakeview Pediatrics",
        "fax",
        True,
    )
    assert AuditEntry.objects.filter(action="practice.created", object_id=str(practice.pk)).exists()


@pytest.mark.parametrize("user", ["andy", "cliff", "pam"])
def test_roles_without_edit_directory_may_not_add_a_practice(api, request, user):
    answer = api(request.getfixturevalue(user)).post("/api/v1/practices", {"name": "Nope Clinic"})
    assert answer.status_code == 403
    assert not Practice.objects.filter(name="Nope Clinic").exists()


def test_practice_needs_a_name(api, cora):
    answer = api(cora).post("/api/v1/practices", {"city": "Peoria"})
    assert answer.json() == {"detail": "name is required.", "field": "name"}


def test_practice_with_a_malformed_email_is_422_naming_it(api, cora):
    answer = api(cora).post("/api/v1/practices", {"name": "Lakeview", "email": "front desk"})
    assert (answer.status_code, answer.json()["field"]) == (422, "email")


# ---- providers ----------------------------------------------------------------------


def test_provider_list_filters_by_practice_and_by_name_npi_or_city(
    api, cora, provider_a, provider_b, practice_a
):
    practice_a.city = "Champaign"
    practice_a.save()
    # Faker's random surnames can share letters ("Hill", "Hillard"): one nobody else has.
    provider_b.last_name = "Quennevilleworth"
    provider_b.save()
    client = api(cora)

    def ids(**params):
        return [p["id"] for p in client.get("/api/v1/providers", **params).json()["items"]]

    assert ids(practice=practice_a.pk) == [provider_a.pk]
    assert ids(q=provider_b.last_name) == [provider_b.pk]
    assert ids(q=provider_b.npi[:9]) == [provider_b.pk]
    assert ids(q="champaign") == [provider_a.pk]
    assert set(ids()) == {provider_a.pk, provider_b.pk}


def test_provider_detail_names_its_practice(api, andy, provider_a, practice_a):
    body = api(andy).get(f"/api/v1/providers/{provider_a.pk}").json()
    assert body["npi"] == provider_a.npi
    assert body["practice"] == {
        "id": practice_a.pk,
        "name": practice_a.name,
        "city": practice_a.city,
        "in_network": True,
    }
    assert api(andy).get("/api/v1/providers/999999").status_code == 404


def test_liaison_adds_a_provider_to_a_practice(api, lia, practice_a):
    answer = api(lia).post("/api/v1/providers", provider_body(practice_id=practice_a.pk))
    assert answer.status_code == 201
    assert answer.json()["practice"]["id"] == practice_a.pk
    provider = Provider.objects.get(npi=VALID_NPI)
    assert (provider.last_name, provider.credentials) == ("Okafor", "DO")
    assert AuditEntry.objects.filter(action="provider.created", actor=lia).exists()


def test_provider_with_a_wrong_check_digit_is_422_saying_the_npi_is_invalid(api, cora):
    wrong = VALID_NPI[:9] + str((int(VALID_NPI[9]) + 1) % 10)
    answer = api(cora).post("/api/v1/providers", provider_body(npi=wrong))
    assert answer.status_code == 422
    assert answer.json()["field"] == "npi"
    assert answer.json()["detail"].startswith("The NPI is invalid.")
    assert "check digit" in answer.json()["detail"]
    assert not Provider.objects.exists()


def test_provider_with_an_npi_of_the_wrong_length_is_422(api, cora):
    answer = api(cora).post("/api/v1/providers", provider_body(npi="12345"))
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "npi must be the 10 digits of a National Provider Identifier.",
        "field": "npi",
    }


def test_provider_with_an_npi_already_in_the_directory_is_409(api, cora, provider_a):
    answer = api(cora).post("/api/v1/providers", provider_body(npi=provider_a.npi))
    assert answer.status_code == 409
    assert answer.json()["field"] == "npi"
    assert "already in the directory" in answer.json()["detail"]
    assert Provider.objects.filter(npi=provider_a.npi).count() == 1


def test_provider_of_an_unknown_practice_is_422(api, cora):
    answer = api(cora).post("/api/v1/providers", provider_body(practice_id=999999))
    assert (answer.status_code, answer.json()["field"]) == (422, "practice_id")


def test_provider_needs_a_last_name(api, cora):
    body = provider_body()
    del body["last_name"]
    answer = api(cora).post("/api/v1/providers", body)
    assert answer.json() == {"detail": "last_name is required.", "field": "last_name"}


@pytest.mark.parametrize("user", ["andy", "cliff", "pam"])
def test_roles_without_edit_directory_may_not_add_a_provider(api, request, user, practice_a):
    answer = api(request.getfixturevalue(user)).post(
        "/api/v1/providers", provider_body(practice_id=practice_a.pk)
    )
    assert answer.status_code == 403
    assert not Provider.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/practices", "/api/v1/providers"])
def test_a_search_holding_a_nul_character_is_refused_not_a_server_error(api, cora, path):
    # PostgreSQL cannot compare text holding NUL; schemathesis found the 500 there.
    answer = api(cora).get(f"{path}?q=ab%00c")
    assert answer.status_code == 422
    assert answer.json()["field"] == "q"
