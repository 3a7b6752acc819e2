"""The server's input rules, stated in the OpenAPI document and enforced as it states them;
and every error an operation can answer, declared once for all of them."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from refloop.core.schemas import ICD10, NON_BLANK, PHONE, NonBlank
from refloop.core.validation import phone_e164
from refloop.referrals.services import ICD10 as SERVICE_ICD10

pytestmark = pytest.mark.django_db

ERROR = {"$ref": "#/components/schemas/ErrorOut"}


def component(openapi, name) -> dict:
    return openapi["components"]["schemas"][name]


# ---- errors declared from each operation's shape ---------------------------------------


def test_every_operation_declares_the_errors_its_shape_can_cause(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            where = {parameter["in"] for parameter in operation.get("parameters", [])}
            expected = {"401", "403", "429"}
            if "path" in where:
                expected |= {"404", "422"}
            if "query" in where:
                expected.add("422")
            if "requestBody" in operation:
                expected |= {"400", "413", "422"}
            assert expected <= set(declared), (method, path)
            for code in declared:
                if int(code) >= 400:
                    content = declared[code]["content"]["application/json"]
                    assert content["schema"] == ERROR, (method, path, code)


def test_the_reported_undeclared_422_is_declared(openapi, api, cora):
    answer = api(cora).get("/api/v1/intake/documents/abc")
    assert answer.status_code == 422
    declared = openapi["paths"]["/api/v1/intake/documents/{document_id}"]["get"]["responses"]
    assert "422" in declared


def test_409_is_declared_where_a_conflict_can_happen(openapi):
    conflicts = {
        ("/api/v1/referrals", "post"),
        ("/api/v1/referrals/{referral_id}/transitions", "post"),
        ("/api/v1/referrals/{referral_id}/assignment", "post"),
        ("/api/v1/referrals/{referral_id}/contact-attempts", "post"),
        ("/api/v1/referrals/{referral_id}/notes", "post"),
        ("/api/v1/referrals/{referral_id}/appointments", "post"),
        ("/api/v1/providers", "post"),
    }
    for path, method in conflicts:
        assert "409" in openapi["paths"][path][method]["responses"], (method, path)


def test_401_and_429_declare_their_headers(openapi):
    declared = openapi["paths"]["/api/v1/referrals"]["get"]["responses"]
    assert "WWW-Authenticate" in declared["401"]["headers"]
    assert "Retry-After" in declared["429"]["headers"]


# ---- rules the schema states -----------------------------------------------------------


def test_names_reasons_and_notes_are_documented_as_not_blank(openapi):
    for schema, field in [
        ("PatientIn", "first_name"),
        ("PatientIn", "last_name"),
        ("ReferralIn", "reason"),
        ("NoteIn", "text"),
        ("PracticeIn", "name"),
        ("ProviderIn", "last_name"),
    ]:
        stated = component(openapi, schema)["properties"][field]
        assert stated["minLength"] == 1 and stated["pattern"] == NON_BLANK, (schema, field)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/practices", {"name": "   "}, "name"),
        ("/api/v1/referrals/{id}/notes", {"text": "\t "}, "text"),
    ],
)
def test_a_blank_name_or_note_is_refused_as_blank(api, cora, referral, path, body, field):
    answer = api(cora).post(path.format(id=referral.pk), body)
    assert answer.status_code == 422
    assert answer.json() == {"detail": f"{field} must not be blank.", "field": field}


def test_a_blank_patient_name_is_refused(api, cora, provider_a, spine):
    body = {
        "patient": {
            "first_name": " ",
            "last_name": "Quarrington",
            "date_of_birth": "1961-04-09",
            "contact_consent": True,
        },
        "source_type": "provider",
        "referring_provider_id": provider_a.pk,
        "reason": "Knee pain",
        "department_id": spine.pk,
    }
    answer = api(cora).post("/api/v1/referrals", body)
    assert (answer.status_code, answer.json()["field"]) == (422, "patient.first_name")


def test_patient_or_patient_id_is_stated_as_two_alternatives(openapi):
    for schema in ("ReferralIn", "OutboundReferralIn"):
        alternatives = component(openapi, schema)["oneOf"]
        assert [a["required"] for a in alternatives] == [["patient"], ["patient_id"]]


def test_lengths_match_the_columns(openapi):
    patient = component(openapi, "PatientIn")["properties"]
    assert patient["first_name"]["maxLength"] == 80
    assert patient["insurance_member_id"]["maxLength"] == 40
    assert patient["email"]["maxLength"] == 254
    assert component(openapi, "PracticeIn")["properties"]["name"]["maxLength"] == 200


def test_analytics_filters_are_enums_and_the_period_rule_is_described(openapi):
    parameters = {
        p["name"]: p for p in openapi["paths"]["/api/v1/analytics/funnel"]["get"]["parameters"]
    }
    for name in ("urgency", "source_type", "channel"):
        schema = parameters[name]["schema"]
        assert any("$ref" in option or "enum" in option for option in schema["anyOf"]), name
    assert "end after start" in parameters["start"]["description"]


def test_a_number_given_for_a_message_due_date_is_refused(api, cora):
    answer = api(cora).get("/api/v1/messages", due_before="0.5")
    assert answer.status_code == 422
    assert answer.json()["field"] == "due_before"


# ---- the patterns say what the services accept -------------------------------------------


# The pattern is long (every digit may have separators around it): generating from it is
# slow and large by Hypothesis's measure, which is what this test is for.
@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.from_regex(re.compile(PHONE.replace("$", r"\Z")), fullmatch=True))
def test_every_phone_number_the_pattern_allows_is_read_as_a_full_number(number):
    assert number == "" or phone_e164(number) != ""


@pytest.mark.parametrize(
    "number", ["(217) 555-0142", "217.555.0142 x12", "1-217-555-0142", "+44 20 7946 0958"]
)
def test_the_phone_pattern_allows_the_usual_ways_of_writing_a_number(number):
    assert re.fullmatch(PHONE, number)


@settings(max_examples=200, derandomize=True, database=None)
@given(st.from_regex(re.compile(ICD10.replace("$", r"\Z")), fullmatch=True))
def test_every_code_the_icd10_pattern_allows_the_service_accepts(code):
    assert SERVICE_ICD10.match(code.upper())


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=4))
def test_not_blank_means_what_the_services_strip_leaves(text):
    # The schema's check (pydantic's regular expressions) and the services' (str.strip)
    # agree: a text the schema lets through is never refused by a service as blank. (A NUL
    # is refused before either runs: refloop.core.nul.)
    try:
        TypeAdapter(NonBlank).validate_python(text)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert accepted == bool(text.strip()) or (not accepted and ("\ufeff" in text or "\x00" in text))


@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
def test_a_boolean_in_a_body_is_true_or_false_only(api, cora, value):
    # Found by schemathesis's coverage phase: in_network 0 created a practice.
    answer = api(cora).post("/api/v1/practices", {"name": "Lakeside Clinic", "in_network": value})
    assert (answer.status_code, answer.json()["field"]) == (422, "in_network")


def test_an_id_written_as_a_whole_number_with_a_point_zero_is_the_id(api, cora, spine):
    # JSON Schema counts 9.0 as an integer, and schemathesis sent one to analytics.
    answer = api(cora).get("/api/v1/analytics/referrers", department=f"{spine.pk}.0")
    assert answer.status_code == 200, answer.content
    half = api(cora).get("/api/v1/analytics/referrers", department=f"{spine.pk}.5")
    assert (half.status_code, half.json()["field"]) == (422, "department")


def test_the_funnel_and_referrers_describe_their_new_fields(openapi):
    funnel = openapi["paths"]["/api/v1/analytics/funnel"]["get"]["description"]
    assert "`milestones`" in funnel and "`detours`" in funnel and "`states`" in funnel
    referrers = openapi["paths"]["/api/v1/analytics/referrers"]["get"]["description"]
    assert "receiver" in referrers and "unrounded" in referrers
