"""Schemathesis against /api/v1/openapi.json as every staff role and two portal users.

Each operation gets a bounded number of generated requests per user (derandomized, so a
run is repeatable), with path ids drawn half the time from real objects of both referring
practices. Every answer must be documented (status, content type, body schema), none may
be a server error, and a portal user never reads what the other practice sent. The
coordinator's run of every conformance check, valid and invalid data, is
tests/api/test_conformance.py.
"""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from refloop.core.models import ApiToken
from refloop.demo import factories as f
from refloop.outreach import activities, events
from refloop.referrals import services
from refloop.wsgi import application
from tests import samples

EXAMPLES_PER_OPERATION = 6
TODAY = dt.date(2026, 3, 2)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _objects(*, acting, liaison, department, provider) -> dict[str, set[int]]:
    activity, _ = activities.log_activity(
        acting_user=liaison, practice=provider.practice, providers=[provider], occurred_on=TODAY
    )
    event = events.create_event(
        acting_user=liaison, kind="cme", title="CME evening", starts_at=timezone.now()
    )
    events.invite(acting_user=liaison, event=event, providers=[provider])
    referral = f.make_referral(
        acting_user=acting, department=department, referring_provider=provider
    )
    attachment = services.add_attachment(
        referral, acting_user=acting, upload=ContentFile(samples.pdf()), filename="letter.pdf"
    )
    return {
        "referral_id": {referral.pk},
        "attachment_id": {attachment.pk},
        "practice_id": {provider.practice_id},
        "provider_id": {provider.pk},
        "activity_id": {activity.pk},
        "event_id": {event.pk},
    }


@pytest.fixture
def practices(cora, lia, spine, hand, provider_a, provider_b):
    return {
        "pam": _objects(acting=cora, liaison=lia, department=spine, provider=provider_a),
        "pete": _objects(acting=cora, liaison=lia, department=hand, provider=provider_b),
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


def _foreign_read(who: str, case, response, practices: dict) -> str | None:
    """A portal user's successful read that touches the other practice's objects."""
    if who not in practices or case.method != "GET" or not 200 <= response.status_code < 300:
        return None
    other = practices["pete" if who == "pam" else "pam"]
    for name, value in (case.path_parameters or {}).items():
        if value in other.get(name, set()):
            return f"{who} read {name}={value} of the other practice at {case.formatted_path}"
    body = response.json() if "json" in response.headers.get("content-type", [""])[0] else None
    items = body.get("items", []) if isinstance(body, dict) else []
    for item in items:
        if isinstance(item, dict) and item.get("id") in other["referral_id"]:
            return f"{who} listed referral {item['id']} of the other practice"
    return None


@pytest.mark.parametrize("who", ["ada", "cora", "cliff", "lia", "andy", "pam", "pete"])
def test_generated_requests_get_documented_answers_and_no_foreign_reads(
    who, request, schema, practices
):
    user = request.getfixturevalue(who)
    token = ApiToken.issue(user)[1]
    headers = {"Authorization": f"Bearer {token}"}
    known = {
        name: sorted(practices["pam"][name] | practices["pete"][name]) for name in practices["pam"]
    }
    problems = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def exercise(case, data):
            for name in list(case.path_parameters or {}):
                if name in known and data.draw(st.booleans()):
                    case.path_parameters[name] = data.draw(st.sampled_from(known[name]))
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
            if (problem := _foreign_read(who, case, response, practices)) is not None:
                problems.append(problem)

        exercise()

    assert not problems, problems
