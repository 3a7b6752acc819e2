"""Schemathesis's conformance checks against /api/v1/openapi.json, as a coordinator with an
API token: requests the document says are valid (positive) and requests it says are not
(negative), a bounded number per operation, derandomized so that a run is repeatable.

Every answer must be declared (status, content type, headers, body schema), none may be a
server error, invalid data must be refused and valid data accepted: the document states
the server's rules, so a client that follows it is not refused for one it could not see.
"""

import re

import pytest
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import Schema
from schemathesis import openapi
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from refloop.core.models import ApiToken
from refloop.core.validation import MAX_DB_INT
from refloop.demo import factories as f
from refloop.intake import services as intake
from refloop.intake.models import DocumentSource
from refloop.referrals import services
from refloop.wsgi import application
from tests import samples

EXAMPLES_PER_OPERATION = 12

# Rules JSON Schema cannot state, each said in words in the document (the field's or the
# operation's description). Data the schema calls valid may still meet one, so a 422 (or
# a 415 for a file) for one of these is not a rejected valid request; any other is.
# (field, what the answer says) -> why the schema cannot say it.
BEYOND_THE_SCHEMA = {
    (r".+_ids?", "names no"): "an id must name a row that exists; the schema states its form",
    (r"(department|location|practice)", "does not exist"): "the same, for analytics filters",
    (r"(assignee_id|referring_provider_id|owner_id)", ""): (
        "who may hold, refer or own a task depends on the row"
    ),
    (r"(provider_id|staff_id)", "is not at"): "a person named with a practice must work there",
    (r"description", "Cash and cash equivalents"): "a gift described as cash is refused",
    (r"receiving_practice_id", "required"): "an outbound referral's target, checked by row",
    (r"(at|received_at|patient\.date_of_birth)", ""): "compared with now or the referral",
    (r"(start|end)", ""): "start and end go together, end after start: query parameters",
    (r"source_other", "required"): "needed when source_type is other: across fields",
    (r"npi", "check digit"): "an NPI's check digit",
    (r"file", ""): "a file is judged by its content (type, pages, scan), not its form",
    (r"(reason|reason_detail|department_id|appointment|report_summary|missing_info)", ""): (
        "what a move needs depends on the referral's direction and state"
    ),
    (r"Idempotency-Key", "already used"): "a key already used for another request",
    (r"(provider_ids|staff_ids)", "does not work at"): "the people met work at the practice",
    (r"(starts_at|occurred_on|follow_up_on)", ""): (
        "an activity's day and time go together (a planned visit has a time, the follow-up "
        "is not before the activity), and a time's day is the practice's"
    ),
    (r"status", "was cancelled"): "a cancelled activity is not changed",
    (r"attended", ""): "attendance names the event's own invitees, each with a practice",
}


def _beyond_the_schema(response) -> str | None:
    if response.status_code not in (415, 422):
        return None
    body = response.json()
    field, detail = body.get("field") or "file", body.get("detail", "")
    for (pattern, words), why in BEYOND_THE_SCHEMA.items():
        if re.fullmatch(pattern, field) and words in detail:
            return why
    return None


def valid_data_is_accepted(ctx, response, case):
    """positive_data_acceptance, but for the rules above (documented in words)."""
    if _beyond_the_schema(response) is not None:
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    valid_data_is_accepted,
]


@pytest.fixture
def known(cora, spine, provider_a):
    """Ids of real objects, drawn for path parameters half the time (else 404 every time)."""
    received = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    referrals = [received] + [
        f.advance(
            f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a),
            state,
            acting_user=cora,
        )
        for state in ("accepted", "scheduled", "seen")
    ]
    attachment = services.add_attachment(
        received, acting_user=cora, upload=ContentFile(samples.pdf()), filename="letter.pdf"
    )
    document = intake.ingest(
        content=samples.pdf(), filename="fax.pdf", source=DocumentSource.API, uploaded_by=cora
    )
    return {
        "referral_id": [referral.pk for referral in referrals],
        "attachment_id": [attachment.pk],
        "practice_id": [provider_a.practice_id],
        "provider_id": [provider_a.pk],
        "document_id": [document.pk],
    }


@pytest.fixture
def schema(org):
    # As Django's test client does: the test's connection stays open across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DB_INT


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_document_says(mode, schema, known, cora):
    headers = {"Authorization": f"Bearer {ApiToken.issue(cora)[1]}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 28

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def exercise(case, data):
            for name, value in list((case.path_parameters or {}).items()):
                # Only an id the document calls valid: a negative case's invalid one stays.
                if name in known and _valid_id(value) and data.draw(st.booleans()):
                    case.path_parameters[name] = data.draw(st.sampled_from(known[name]))
            # Judged by what is sent: a query value no URL can carry ({} or []) leaves no
            # parameter, and the token replaces a mutated Authorization header; changed in
            # place, the case's own record of what is invalid in it is checked again (an
            # extra parameter of {} and a dropped token once made a valid request "invalid"
            # data the API had accepted).
            for name in [n for n, v in (case.query or {}).items() if v in (None, [], {})]:
                del case.query[name]
            if case.headers is None:
                case.headers = {}
            case.headers.update(headers)
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        exercise()


def test_a_rule_beyond_the_schema_is_recognised_only_by_its_field_and_words(api, cora, referral):
    # The allowance above is narrow: a blank note (a rule the schema states) is not in it.
    blank = api(cora).post(f"/api/v1/referrals/{referral.pk}/notes", {"text": "  "})
    assert blank.status_code == 422
    assert _beyond_the_schema(blank) is None
    nobody = api(cora).post(f"/api/v1/referrals/{referral.pk}/assignment", {"assignee_id": 10**9})
    assert _beyond_the_schema(nobody) is not None


def test_each_enum_in_the_document_lists_its_own_choices(openapi):
    # Two enums of the same name (the directory's and the outbox's Channel) once shared one
    # component, so the directory's documented choices were the outbox's.
    from refloop.messaging.models import Channel as MessageChannel
    from refloop.network.models import Channel as PreferredChannel

    def choices(schema):
        for option in schema.get("anyOf", [schema]):
            while "$ref" in option:
                option = openapi["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]
            if "enum" in option:
                return option["enum"]
        return None

    practice = openapi["components"]["schemas"]["PracticeIn"]["properties"]
    assert choices(practice["preferred_channel"]) == PreferredChannel.values
    messages = openapi["paths"]["/api/v1/messages"]["get"]["parameters"]
    channel = next(p for p in messages if p["name"] == "channel")
    assert choices(channel["schema"]) == MessageChannel.values


def test_no_two_schemas_in_the_document_share_a_name(openapi):
    # Components are keyed by class name: an outreach event's EventOut once took the place
    # of the referral timeline's, so every referral answer broke its own document.
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in set(subclasses(Schema)) if c.__module__.startswith("refloop.")]
    for name in openapi["components"]["schemas"]:
        named = sorted(f"{c.__module__}.{c.__qualname__}" for c in ours if c.__name__ == name)
        assert len(named) <= 1, named
