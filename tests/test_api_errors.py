"""How /api/v1/ refuses: token auth, the one error shape, validation without echoing
input, and the error responses the OpenAPI document declares."""

import datetime as dt
import logging

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from refloop.core.models import ApiToken
from refloop.demo import factories as f
from refloop.referrals.models import Referral
from refloop.referrals.reports import write_progress_report

pytestmark = pytest.mark.django_db


def new_referral_body(provider, department, **overrides) -> dict:
    patient = {
        "first_name": "Ottoline",
        "last_name": "Quarrington",
        "date_of_birth": "1961-04-09",
        "contact_consent": True,
    }
    return {
        "patient": patient,
        "source_type": "provider",
        "referring_provider_id": provider.pk if provider else None,
        "reason": "Knee pain after a fall",
        "department_id": department.pk,
        **overrides,
    }


# ---- authentication ----------------------------------------------------------------


def test_request_without_a_token_is_401(referral):
    answer = Client().get("/api/v1/referrals")
    assert answer.status_code == 401
    assert answer.json()["field"] is None
    assert "Authorization: Bearer" in answer.json()["detail"]
    assert answer["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer rfl_not-a-real-token", "Bearer ", "Token abc", "Basic Y29yYQ=="]
)
def test_unknown_token_or_other_scheme_is_401(cora, header):
    answer = Client(HTTP_AUTHORIZATION=header).get("/api/v1/referrals")
    assert answer.status_code == 401


def test_revoked_token_is_401(api, cora):
    client = api(cora)
    assert client.get("/api/v1/referrals").status_code == 200
    ApiToken.objects.filter(user=cora).update(revoked_at=timezone.now())
    assert client.get("/api/v1/referrals").status_code == 401


def test_token_of_an_inactive_user_is_401(api, cora):
    client = api(cora)
    cora.is_active = False
    cora.save(update_fields=["is_active"])
    assert client.get("/api/v1/referrals").status_code == 401


def test_token_use_is_recorded_at_most_once_a_minute(api, cora):
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = api(cora)
        client.get("/api/v1/referrals")
        row = ApiToken.objects.get(user=cora)
        assert row.last_used_at == start
        traveller.shift(dt.timedelta(seconds=30))
        client.get("/api/v1/referrals")
        row.refresh_from_db()
        assert row.last_used_at == start
        traveller.shift(dt.timedelta(seconds=40))
        client.get("/api/v1/referrals")
        row.refresh_from_db()
        assert row.last_used_at == start + dt.timedelta(seconds=70)


def test_openapi_document_is_served_without_a_token(db):
    answer = Client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.json()["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_api_docs_load_their_assets_locally(db):
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    assert "cdn." not in page.content.decode()


# ---- validation: 422 naming the field, never echoing the value -------------------------


def test_missing_reason_is_422_naming_reason(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine)
    del body["reason"]
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json() == {"detail": "reason is required.", "field": "reason"}


def test_blank_reason_is_422_naming_reason(api, cora, provider_a, spine):
    answer = api(cora).post("/api/v1/referrals", new_referral_body(provider_a, spine, reason=" "))
    assert (answer.status_code, answer.json()["field"]) == (422, "reason")


def test_malformed_date_of_birth_is_422_naming_the_nested_field_without_echoing_it(
    api, cora, provider_a, spine
):
    body = new_referral_body(provider_a, spine)
    body["patient"]["date_of_birth"] = "Quarrington-1961"
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == "patient.date_of_birth"
    assert "Quarrington" not in answer.content.decode()
    assert "Ottoline" not in answer.content.decode()


def test_future_date_of_birth_is_422(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine)
    body["patient"]["date_of_birth"] = "2999-01-01"
    answer = api(cora).post("/api/v1/referrals", body)
    assert (answer.status_code, answer.json()["field"]) == (422, "patient.date_of_birth")


def test_other_source_without_specification_is_422_naming_source_other(api, cora, spine):
    body = new_referral_body(None, spine, source_type="other", referring_provider_id=None)
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == "source_other"
    assert not Referral.objects.exists()


def test_malformed_icd10_code_is_422_naming_its_position_in_icd10_codes(
    api, cora, provider_a, spine
):
    # The code's form is in the schema (a pattern), so the answer points at the item.
    body = new_referral_body(provider_a, spine, icd10_codes=["M54.16", "back pain"])
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "icd10_codes.1 must be an ICD-10-CM code: a letter, two characters and up "
        "to four more, e.g. M54.16.",
        "field": "icd10_codes.1",
    }


def test_unknown_source_type_is_422_listing_the_choices(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine, source_type="tv")
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == "source_type"
    assert "'provider'" in answer.json()["detail"]


def test_unknown_field_is_422_naming_it(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine)
    body["patient"]["ssn"] = "123-45-6789"
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == "patient.ssn"
    assert "123-45-6789" not in answer.content.decode()


def test_unknown_department_id_is_422_naming_it(api, cora, provider_a, spine):
    answer = api(cora).post(
        "/api/v1/referrals", new_referral_body(provider_a, spine, department_id=987654)
    )
    assert (answer.status_code, answer.json()["field"]) == (422, "department_id")


def test_body_that_is_not_json_is_400(api, cora):
    client = api(cora)
    answer = client.client.post("/api/v1/referrals", "{not json", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Cannot parse request body", "field": None}


def test_json_body_over_the_request_limit_is_413(api, cora, referral, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/notes", {"text": "x" * 200})
    assert answer.status_code == 413
    assert answer.json() == {"detail": "The request body is too large.", "field": None}


def test_empty_body_is_422_naming_the_first_required_field_and_listing_all(api, cora):
    # Issue 15: every problem in one answer; the first stays in `detail` and `field`.
    answer = api(cora).client.post("/api/v1/referrals", content_type="application/json")
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "reason is required. (1 more: see errors)",
        "field": "reason",
        "errors": [
            {"detail": "reason is required.", "field": "reason"},
            {"detail": "source_type is required.", "field": "source_type"},
        ],
    }


def test_bad_query_value_is_422_naming_the_parameter(api, cora):
    answer = api(cora).get("/api/v1/referrals", received_from="last tuesday")
    assert (answer.status_code, answer.json()["field"]) == (422, "received_from")


def test_non_numeric_path_id_is_422_naming_it(api, cora):
    answer = api(cora).get("/api/v1/referrals/abc")
    assert (answer.status_code, answer.json()["field"]) == (422, "referral_id")


def test_validation_failures_write_no_patient_data_to_logs(api, cora, provider_a, spine, caplog):
    body = new_referral_body(provider_a, spine)
    body["patient"]["date_of_birth"] = "Quarrington-1961"
    with caplog.at_level(logging.DEBUG):
        api(cora).post("/api/v1/referrals", body)
        api(cora).post("/api/v1/referrals", new_referral_body(provider_a, spine, icd10_codes=["?"]))
        api(cora).post("/api/v1/referrals", new_referral_body(provider_a, spine))
    assert "Quarrington" not in caplog.text
    assert "Ottoline" not in caplog.text


def test_a_body_with_several_problems_gets_them_all_in_one_answer(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine, source_type="rumour", reason=5)
    del body["patient"]["date_of_birth"]
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    problems = answer.json()["errors"]
    assert {p["field"] for p in problems} == {"patient.date_of_birth", "source_type", "reason"}
    assert all(p["detail"].startswith(p["field"]) for p in problems)
    # The first problem stays in `detail` and `field`, as for a single one.
    assert answer.json()["field"] == problems[0]["field"]
    assert "rumour" not in answer.content.decode()


def test_a_single_problem_keeps_the_two_key_shape(api, cora, provider_a, spine):
    answer = api(cora).post("/api/v1/referrals", new_referral_body(provider_a, spine, reason=5))
    assert answer.status_code == 422
    assert answer.json() == {"detail": "reason must be text.", "field": "reason"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("state=nope", "state"), ("state=received&state=nope", "state"), ("limit=abc", "limit")],
)
def test_a_bad_filter_names_the_query_parameter(api, cora, query, parameter):
    answer = api(cora).get(f"/api/v1/referrals?{query}")
    assert answer.status_code == 422
    assert answer.json()["field"] == parameter
    assert answer.json()["detail"].startswith(f"{parameter} ")


def test_a_misspelt_filter_is_refused_not_ignored(api, cora, referral):
    # Ignored, `stat=declined` would answer every referral as if it had filtered them.
    answer = api(cora).get("/api/v1/referrals?stat=declined")
    assert answer.status_code == 422
    body = answer.json()
    assert body["field"] == "stat"
    assert body["detail"].startswith("Unknown parameter stat; the parameters are ")
    assert "state" in body["detail"] and "received_from" in body["detail"]
    assert api(cora).get("/api/v1/referrals?state=received").status_code == 200


def test_an_unknown_parameter_is_named_only_when_it_looks_like_a_name(api, cora, referral):
    for sent in ("Ottoline Quarrington 1961-04-09=1", "Quarrington=1"):
        answer = api(cora).get(f"/api/v1/referrals?{sent}")
        assert answer.status_code == 422
        assert answer.json()["field"] is None
        assert answer.json()["detail"].startswith("Unknown parameter (not shown);")
        assert "Quarrington" not in answer.content.decode()


def test_an_operation_without_query_parameters_refuses_any(api, cora, referral):
    answer = api(cora).get(f"/api/v1/referrals/{referral.pk}?expand=all")
    assert answer.status_code == 422
    assert answer.json()["detail"] == "Unknown parameter expand; this operation takes none."
    assert api(cora).get(f"/api/v1/referrals/{referral.pk}").status_code == 200


def test_an_unknown_query_parameter_is_refused_only_after_the_token(referral):
    assert Client().get("/api/v1/referrals?stat=declined").status_code == 401


def test_every_operation_declares_the_422_of_an_unknown_query_parameter(openapi):
    for operations in openapi["paths"].values():
        for operation in operations.values():
            assert "422" in operation["responses"], operation["operationId"]


@pytest.mark.parametrize("value", ["0", "0.5", "20260301", "1.7e9"])
def test_a_number_given_for_a_date_filter_is_refused_not_read_as_1970(api, cora, value):
    answer = api(cora).get(f"/api/v1/referrals?received_to={value}")
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "received_to must be a date as YYYY-MM-DD.",
        "field": "received_to",
    }


def test_a_number_given_for_a_date_in_the_body_is_refused(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine)
    body["patient"]["date_of_birth"] = 0
    answer = api(cora).post("/api/v1/referrals", body)
    assert (answer.status_code, answer.json()["field"]) == (422, "patient.date_of_birth")
    answer = api(cora).post(
        "/api/v1/referrals", new_referral_body(provider_a, spine, received_at=1700000000)
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "received_at must be a date and time in ISO 8601, e.g. 2026-03-02T15:00.",
        "field": "received_at",
    }


def test_an_iso_date_filter_still_filters(api, cora, referral):
    answer = api(cora).get("/api/v1/referrals?received_to=2999-12-31&received_from=2000-01-01")
    assert answer.status_code == 200
    assert referral.pk in [row["id"] for row in answer.json()["items"]]


# ---- domain errors map to their status with the one error shape -------------------------


def test_domain_errors_answer_detail_and_field(api, cora, referral):
    f.advance(referral, "declined", acting_user=cora)
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": "accepted"})
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": "This referral is declined, which is final; it cannot move to accepted.",
        "field": None,
    }


@pytest.mark.parametrize(
    ("to", "fields"),
    [
        ("loop_closed", {}),
        ("declined", {"reason": "not_a_reason"}),
        ("pending_info", {"missing_info": "   "}),
        ("cancelled", {}),
    ],
)
def test_an_illegal_move_is_refused_for_the_move_before_its_fields(api, cora, referral, to, fields):
    # A closed referral can make none of these moves: the answer says so (409), instead of
    # first asking for data the move could never use (422).
    f.advance(referral, "declined", acting_user=cora)
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": to, **fields})
    assert answer.status_code == 409
    assert "declined, which is final" in answer.json()["detail"]


def test_a_stale_version_is_refused_before_missing_fields(api, cora, referral):
    f.advance(referral, "seen", acting_user=cora)
    referral.refresh_from_db()
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/transitions",
        {"to": "loop_closed", "expected_version": referral.version - 1},
    )
    assert answer.status_code == 409


def test_a_legal_move_missing_its_fields_is_422(api, cora, referral):
    f.advance(referral, "seen", acting_user=cora)
    write_progress_report(referral.pk, acting_user=cora, findings="Seen.", plan="Home.")
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": "loop_closed"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "report_summary"


# ---- the OpenAPI document -----------------------------------------------------------------


@pytest.fixture
def openapi(db):
    return Client().get("/api/v1/openapi.json").json()


def responses(openapi, path, method) -> dict:
    return openapi["paths"][f"/api/v1{path}"][method]["responses"]


def test_openapi_declares_401_403_404_409_422_on_transitions(openapi):
    declared = responses(openapi, "/referrals/{referral_id}/transitions", "post")
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(declared)


def test_openapi_declares_413_and_415_on_attachment_upload(openapi):
    declared = responses(openapi, "/referrals/{referral_id}/attachments", "post")
    assert {"201", "401", "403", "404", "413", "415", "422"} <= set(declared)
    body = openapi["paths"]["/api/v1/referrals/{referral_id}/attachments"]["post"]["requestBody"]
    assert "multipart/form-data" in body["content"]


def test_openapi_declares_the_error_schema_for_every_error_of_every_operation(openapi):
    error_schema = {"$ref": "#/components/schemas/ErrorOut"}
    properties = set(openapi["components"]["schemas"]["ErrorOut"]["properties"])
    assert properties == {"detail", "field", "errors"}  # errors: several problems (issue 15)
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            assert "401" in declared, (method, path)
            for code, response in declared.items():
                if int(code) >= 400:
                    assert response["content"]["application/json"]["schema"] == error_schema


def test_openapi_documents_full_referrer_and_summary_referral_detail(openapi):
    schema = responses(openapi, "/referrals/{referral_id}", "get")["200"]["content"]
    union = schema["application/json"]["schema"]
    refs = {arm["$ref"].rsplit("/", 1)[-1] for arm in union["oneOf"]}
    assert refs == {"ReferralDetailOut", "ReferrerReferralOut", "ReferralSummaryOut"}
    summary = openapi["components"]["schemas"]["ReferralSummaryOut"]["properties"]
    assert "patient" not in summary and "reason" not in summary
    assert "patient" in openapi["components"]["schemas"]["ReferralDetailOut"]["properties"]


def test_openapi_declares_the_replay_answer_of_referral_creation(openapi):
    declared = responses(openapi, "/referrals", "post")
    assert {"200", "201", "400", "401", "403", "422"} <= set(declared)
    assert "Idempotent-Replayed" in declared["200"]["headers"]
