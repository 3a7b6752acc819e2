"""Every number the API takes (ids, offsets, versions; in a path, a query or a body) is
bounded by the schema: one past what a database column holds answers 422 naming it, never a
server error, and a refused read of any id is still audited."""

import pytest

from refloop.core.models import AuditEntry
from refloop.core.validation import MAX_DB_INT

from .walk import inputs, send

pytestmark = pytest.mark.django_db

TOO_BIG = MAX_DB_INT + 1
WAY_TOO_BIG = 99999999999999999999


def integer_inputs(openapi: dict, world: dict):
    return inputs(openapi, world, lambda shape: shape.get("type") == "integer")


def test_the_openapi_document_bounds_every_integer_the_api_accepts(openapi, world):
    found = list(integer_inputs(openapi, world))
    names = {name for *_, name in found}
    assert {"referral_id", "offset", "assignee", "referring_practice", "patient_id"} <= names
    for where, shapes, _, _ in found:
        for shape in shapes:
            assert 0 <= shape.get("minimum", -1), where
            assert shape.get("maximum", MAX_DB_INT + 1) <= MAX_DB_INT, where


@pytest.mark.parametrize("value", [TOO_BIG, WAY_TOO_BIG, -1])
def test_a_number_out_of_range_is_422_naming_it(api, ada, openapi, world, value):
    client = api(ada).client
    for where, _, request, name in integer_inputs(openapi, world):
        answer = send(client, request(value))
        assert answer.status_code == 422, (where, answer.content)
        assert answer.json()["field"] == name, where
        assert str(value) not in answer.json()["detail"], where


def test_the_largest_number_a_column_holds_answers_without_a_server_error(api, ada, openapi, world):
    client = api(ada).client
    for where, _, request, _ in integer_inputs(openapi, world):
        answer = send(client, request(MAX_DB_INT))
        assert answer.status_code < 500, where


def test_the_reported_out_of_range_requests_answer_422(api, cora, referral):
    client = api(cora)
    for path, params in [
        (f"/api/v1/referrals/{WAY_TOO_BIG}", {}),
        (f"/api/v1/referrals/{WAY_TOO_BIG}/notes", {}),
        ("/api/v1/referrals", {"offset": WAY_TOO_BIG}),
        ("/api/v1/referrals", {"assignee": WAY_TOO_BIG}),
        ("/api/v1/referrals", {"referring_practice": WAY_TOO_BIG}),
    ]:
        answer = client.get(path, **params)
        assert answer.status_code == 422, path
        assert "must be at most 9223372036854775807" in answer.json()["detail"]
    body = {"patient_id": WAY_TOO_BIG, "source_type": "self", "reason": "Knee pain"}
    answer = client.post("/api/v1/referrals", body)
    assert (answer.status_code, answer.json()["field"]) == (422, "patient_id")


def test_a_refused_read_of_the_largest_id_is_audited(api, cora, referral):
    answer = api(cora).get(f"/api/v1/referrals/{MAX_DB_INT}")
    assert answer.status_code == 404
    entry = AuditEntry.objects.get(action="referral.read_denied")
    assert (entry.object_id, entry.referral_id) == (str(MAX_DB_INT), MAX_DB_INT)


@pytest.mark.parametrize("prefix", ["/referrals/", "/portal/referrals/"])
def test_a_page_asked_for_an_id_no_column_holds_answers_404_and_audits_the_refusal(
    client, cora, pam, referral, prefix
):
    # Page URLs take any digits; the refused read is recorded whatever the number.
    client.force_login(pam if prefix.startswith("/portal") else cora)
    huge = "9" * 60
    assert client.get(f"{prefix}{huge}/").status_code == 404
    entry = AuditEntry.objects.get(action="referral.read_denied")
    assert entry.referral_id is None
    assert huge.startswith(entry.object_id)
