"""Text and times at the edges of what a database holds, at every input the API takes.

PostgreSQL cannot store or compare text holding a NUL character, nor read a time whose
offset from UTC is beyond ±15:59; Python cannot move a time in year 1 or 9999 past the edge
of its calendar. A client may send any of these (RFC 3339 allows offsets up to ±23:59 and
years up to 9999): each is refused with a 422 naming the input, or answered, never a
server error, on both databases.
"""

import datetime as dt
import re

import pytest

from .walk import inputs, send, valid_bodies

pytestmark = pytest.mark.django_db

NUL = "before\x00after"


def _free_text(shape: dict) -> bool:
    return shape.get("type") == "string" and not {"enum", "const", "format"} & shape.keys()


def text_inputs(openapi: dict, world: dict):
    # Headers are left out: HTTP itself carries no NUL in one.
    for found in inputs(openapi, world, _free_text):
        if found[0][2] != "header":
            yield found


def _of_format(name: str):
    return lambda shape: shape.get("type") == "string" and shape.get("format") == name


def test_the_document_says_no_text_input_takes_a_nul_character(openapi, world):
    found = list(text_inputs(openapi, world))
    names = {name for *_, name in found}
    assert {"q", "recipient", "reason", "text", "patient.first_name"} <= names
    for where, shapes, _, _ in found:
        for shape in shapes:
            assert re.search(shape["pattern"], NUL) is None, where


def test_a_nul_character_in_any_text_input_is_422_naming_it(api, ada, openapi, world):
    client = api(ada).client
    for where, _, request, name in text_inputs(openapi, world):
        answer = send(client, request(NUL))
        assert answer.status_code == 422, (where, answer.content)
        assert answer.json()["field"] == name, where
        assert "NUL" in answer.json()["detail"], where
        assert "before" not in answer.json()["detail"], where


def test_a_nul_character_in_a_field_the_document_does_not_name_is_refused_too(api, ada, world):
    answer = api(ada).post(
        f"/api/v1/referrals/{world['received'].pk}/notes", {"text": "Fine", "extra\x00": "x"}
    )
    assert answer.status_code == 422


EDGE_TIMES = [
    "9999-12-31T23:59:59-05:00",  # past the end of the calendar in UTC
    "0001-01-01T00:00:00+05:00",  # before its start
    "9999-12-31T23:59:59",  # the practice's time: past the end in UTC
    "0001-01-01T00:00:00",
    "2026-03-02T09:00:00+19:22",  # an offset RFC 3339 allows and PostgreSQL refuses
    "2026-03-02T09:00:00-23:59",
    "5695-11-26T19:41:04.38+19:22",  # what schemathesis sent
]


@pytest.mark.parametrize("value", EDGE_TIMES)
def test_a_time_at_the_edge_of_the_calendar_is_answered_without_a_server_error(
    api, ada, openapi, world, value
):
    client = api(ada).client
    found = list(inputs(openapi, world, _of_format("date-time")))
    assert {"due_after", "due_before", "received_at", "starts_at", "at"} <= {n for *_, n in found}
    for where, _, request, name in found:
        answer = send(client, request(value))
        assert answer.status_code < 500, (where, answer.content)
        if answer.status_code == 422:
            assert answer.json()["field"] == name, (where, answer.content)


# A pair's rule (end after start, at most ten years) names the pair's other half.
PARTNER = {
    "start": "end",
    "end": "start",
    "received_from": "received_to",
    "occurred_on": "follow_up_on",  # an activity's follow-up is not before it
}


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_a_date_at_the_edge_of_the_calendar_is_answered_without_a_server_error(
    api, ada, openapi, world, value
):
    client = api(ada).client
    found = list(inputs(openapi, world, _of_format("date")))
    assert {"received_from", "received_to", "start", "end"} <= {n for *_, n in found}
    for where, _, request, name in found:
        answer = send(client, request(value))
        assert answer.status_code < 500, (where, answer.content)
        if answer.status_code == 422:
            named = answer.json()["field"]
            assert named in (name, PARTNER.get(name)), (where, answer.content)


def test_a_time_with_an_offset_is_kept_as_the_same_moment(api, cora, referral):
    # Written at +10:00, the moment the referral arrived: the same moment in UTC.
    moment = referral.received_at
    written = moment.astimezone(dt.timezone(dt.timedelta(hours=10)))
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/contact-attempts",
        {"channel": "phone", "outcome": "no_answer", "at": written.isoformat()},
    )
    assert answer.status_code in (200, 201), answer.content
    # The API answers to the millisecond.
    assert abs(dt.datetime.fromisoformat(answer.json()["at"]) - moment) < dt.timedelta(
        milliseconds=1
    )
    assert answer.json()["at"].endswith(("Z", "+00:00"))


def test_a_referral_received_before_1900_is_refused_naming_the_field(api, cora, world):
    body = {**valid_bodies("create_referral", world)[0][1], "received_at": "1899-12-31T23:59:59Z"}
    answer = api(cora).post("/api/v1/referrals", body)
    assert (answer.status_code, answer.json()["field"]) == (422, "received_at")
    body["received_at"] = "1900-01-01T00:00:00Z"
    assert api(cora).post("/api/v1/referrals", body).status_code == 201
