"""Walking the OpenAPI document: every operation, parameter and body field, and for each
operation bodies it accepts, so a test can change one value at a time and know that only
that value is wrong."""

import copy
import datetime as dt
import json

from django.db import transaction
from django.test import Client
from django.utils import timezone

from refloop.advocacy import testimonials
from refloop.advocacy.advocates import enrol
from refloop.advocacy.cases import open_case
from refloop.advocacy.models import (
    AdvocacySettings,
    Audience,
    ReviewSite,
    RewardItem,
    Trigger,
)
from refloop.advocacy.surveys import create_survey
from refloop.demo import factories as f
from refloop.outreach import activities, events
from refloop.outreach.models import Topic


def resolved(schema: dict, openapi: dict) -> dict:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def alternatives(schema: dict, openapi: dict) -> list[dict]:
    """The non-null shapes a value may take (`int | None` is one: the int)."""
    schema = resolved(schema, openapi)
    # An object's own oneOf only says which of its properties go together (patient or
    # patient_id): its shape is its properties.
    alongside = None if "properties" in schema else schema.get("oneOf")
    options = schema.get("anyOf") or schema.get("allOf") or alongside
    if not options:
        return [schema]
    return [
        shape
        for option in options
        if option.get("type") != "null"
        for shape in alternatives(option, openapi)
    ]


def field_paths(schema: dict, openapi: dict, path: tuple = ()) -> list[tuple]:
    """Every place a value can go in a body of this schema: each field, each nested field,
    the first item of each list."""
    found = [path] if path else []
    for shape in alternatives(schema, openapi):
        if shape.get("type") == "object" and "properties" in shape:
            for name, sub in shape["properties"].items():
                found += [p for p in field_paths(sub, openapi, (*path, name)) if p not in found]
        elif shape.get("type") == "array":
            found += [p for p in field_paths(shape.get("items", {}), openapi, (*path, 0))]
    return found


def schema_at(schema: dict, openapi: dict, path: tuple) -> list[dict]:
    """The shapes the value at `path` may take."""
    shapes = alternatives(schema, openapi)
    for key in path:
        inner = []
        for shape in shapes:
            if isinstance(key, int) and shape.get("type") == "array":
                inner += alternatives(shape.get("items", {}), openapi)
            elif isinstance(key, str) and key in shape.get("properties", {}):
                inner += alternatives(shape["properties"][key], openapi)
        shapes = inner
    return shapes


def replaced(body: dict, path: tuple, value) -> dict:
    """A copy of `body` with `value` at `path` (creating the objects and lists on the way)."""
    body = copy.deepcopy(body)
    node = body
    for key, following in zip(path, path[1:], strict=False):
        if isinstance(node, list):
            while len(node) <= key:
                node.append({} if isinstance(following, str) else [])
        elif not isinstance(node.get(key), (dict, list)):
            node[key] = {} if isinstance(following, str) else []
        node = node[key]
    last = path[-1]
    if isinstance(node, list):
        node[:] = [*node[:last], value, *node[last + 1 :]]
    else:
        node[last] = value
    return body


def operations(openapi: dict):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def call(
    client: Client,
    method: str,
    path: str,
    *,
    query=None,
    body=None,
    headers=None,
    multipart: bool = False,
):
    """One request, rolled back afterwards so every call starts from the same data."""
    with transaction.atomic():
        if method == "get":
            answer = client.get(path, query or {}, headers=headers or {})
        elif multipart:
            answer = client.post(path, body, headers=headers or {})
        else:
            answer = client.generic(
                method.upper(),
                path,
                json.dumps(body),
                content_type="application/json",
                headers=headers or {},
            )
        transaction.set_rollback(True)
    return answer


def outreach_world(ada, practice_a, provider_a) -> dict:
    """An activity (an admin's, so any admin may change it), a staff member and a topic to
    name in one, and an event with provider_a invited."""
    now = timezone.now()
    activity, _ = activities.log_activity(
        acting_user=ada, practice=practice_a, occurred_on=now.date()
    )
    event = events.create_event(acting_user=ada, kind="cme", title="CME evening", starts_at=now)
    events.invite(acting_user=ada, event=event, providers=[provider_a])
    return {
        "activity": activity,
        "staff": f.StaffContactFactory(practice=practice_a),
        "topic": Topic.objects.get_or_create(name="Thank-you")[0],
        "event": event,
        "invitee": event.attendees.get(),
    }


def advocacy_world(cora, referral) -> dict:
    """A survey of the referral's patient (unanswered, with a review site to invite them to),
    a case about it, the patient as an advocate with rewards on, a testimonial they offered
    and signed, and an item of the reward list."""
    now = timezone.now()
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"walk:{referral.pk}",
        now=now,
        patient=referral.patient,
        referral=referral,
    )
    ReviewSite.objects.create(name="Google", url="https://reviews.example/google")
    found = AdvocacySettings.current()
    found.rewards_enabled = True
    found.save()
    testimonial = testimonials.offer_testimonial(
        survey=survey, text="Kind people.", attribution="", photo=None, now=now
    )
    testimonials.sign_authorization(
        testimonial=testimonial,
        signature=f"{referral.patient.first_name} {referral.patient.last_name}",
        agreed=True,
        expires_on=(now + dt.timedelta(days=700)).date(),
        expiry_event="",
        signer_is_patient=True,
        representative_authority="",
        now=now,
    )
    case = open_case(
        acting_user=cora,
        source="phone",
        category="wait",
        summary="Waited two hours",
        referral=referral,
        now=now,
    )
    return {
        "survey": survey,
        "case": case,
        "advocate": enrol(patient=referral.patient, acting_user=cora, via="staff", now=now),
        "testimonial": testimonial,
        "reward_item": RewardItem.objects.create(name="Mug", value_cents=1200),
    }


def path_for(template: str, world: dict, state: str = "received", **values) -> str:
    """The operation's path with ids that exist (a referral in `state`), or `values`."""
    ids = {
        "referral_id": world[state].pk,
        "attachment_id": 1,
        "practice_id": world["practice_a"].pk,
        "provider_id": world["provider_a"].pk,
        "document_id": 1,
        "message_id": 1,
        "year": 2026,
        "task_id": world["task"].pk,
        "activity_id": world["activity"].pk,
        "event_id": world["event"].pk,
        "survey_id": world["survey"].pk,
        "case_id": world["case"].pk,
        "advocate_id": world["advocate"].pk,
        "testimonial_id": world["testimonial"].pk,
    }
    return template.format(**{**ids, **values})


def valid_bodies(operation_id: str, w: dict) -> list[tuple[str, dict]]:
    """(referral state the call is made on, a body the endpoint accepts) per operation."""
    patient = {
        "first_name": "Ottoline",
        "last_name": "Quarrington",
        "date_of_birth": "1961-04-09",
        "contact_consent": True,
    }
    appointment = {
        "starts_at": w["starts_at"],
        "department_id": w["spine"].pk,
        "location_id": w["location"].pk,
        "clinician_id": w["cliff"].pk,
    }
    bodies = {
        "create_referral": [
            (
                "received",
                {
                    "patient": {**patient, "phone": "(217) 555-0142", "email": "o@example.org"},
                    "source_type": "provider",
                    "source_other": "",
                    "referring_provider_id": w["provider_a"].pk,
                    "referring_practice_id": w["practice_a"].pk,
                    "reason": "Knee pain",
                    "icd10_codes": ["M54.16"],
                    "urgency": "routine",
                    "channel": "api",
                    "department_id": w["spine"].pk,
                    "assignee_id": w["cora"].pk,
                    "received_at": w["now"],
                },
            ),
            (
                "received",
                {
                    "patient": patient,
                    "source_type": "other",
                    "source_other": "A flyer",
                    "reason": "Knee pain",
                },
            ),
        ],
        "create_outbound_referral": [
            (
                "received",
                {
                    "patient": patient,
                    "receiving_practice_id": w["practice_a"].pk,
                    "receiving_provider_id": w["provider_a"].pk,
                    "reason": "Second opinion",
                    "icd10_codes": ["M54.16"],
                    "department_id": w["spine"].pk,
                },
            )
        ],
        "transition_referral": [
            (
                "received",
                {
                    "to": "declined",
                    "reason": "outside_scope",
                    "suggested_alternative": "Pain clinic",
                    "expected_version": 1,
                },
            ),
            ("received", {"to": "declined", "reason": "other", "reason_detail": "See notes"}),
            ("received", {"to": "cancelled", "reason": "patient_request"}),
            ("received", {"to": "pending_info", "missing_info": "MRI report"}),
            ("received", {"to": "accepted", "department_id": w["spine"].pk, "note": "ok"}),
            ("accepted", {"to": "contacting", "note": "calling"}),
            ("accepted", {"to": "scheduled", "appointment": appointment}),
            ("scheduled", {"to": "seen", "visit_value": "120.00"}),
            ("seen", {"to": "loop_closed", "report_summary": "Findings and plan"}),
        ],
        "assign_referral": [("received", {"assignee_id": w["cora"].pk, "expected_version": 1})],
        "record_contact_attempt": [
            ("accepted", {"channel": "phone", "outcome": "no_answer", "note": "", "at": w["now"]})
        ],
        "add_note": [("received", {"text": "A note"})],
        "book_appointment": [("accepted", {**appointment, "expected_version": 2})],
        "upload_attachment": [("received", {"kind": "records"})],
        "upload_document": [("received", {})],
        "create_practice": [
            (
                "received",
                {
                    "name": "Lakeside Clinic",
                    "address": "1 Main St",
                    "city": "Urbana",
                    "state": "IL",
                    "postal_code": "61801",
                    "phone": "(217) 555-0142",
                    "fax": "(217) 555-0143",
                    "email": "front@example.org",
                    "preferred_channel": "fax",
                    "best_time": "mornings",
                    "notes": "",
                    "in_network": True,
                },
            )
        ],
        "create_provider": [
            (
                "received",
                {
                    "npi": f.npi_from(424242),
                    "first_name": "Ada",
                    "last_name": "Byron",
                    "practice_id": w["practice_a"].pk,
                    "credentials": "MD",
                    "taxonomy_code": "207Q00000X",
                    "specialty": "Family medicine",
                    "phone": "(217) 555-0142",
                    "fax": "",
                    "email": "",
                    "best_time": "",
                    "notes": "",
                },
            )
        ],
        "create_task": [("received", {"title": "Visit the office", "due_on": "2026-03-09"})],
        "close_task": [("received", {"status": "done"})],
        # A meal for the referring provider, well within the year's limit.
        "record_gift": [
            (
                "received",
                {
                    "provider_id": w["provider_a"].pk,
                    "given_on": "2026-03-02",
                    "kind": "meal",
                    "description": "Lunch for the office",
                    "value": "12.00",
                },
            )
        ],
        # A visit with everyone and everything a body can name; a planned one by its time.
        "log_activity": [
            (
                "received",
                {
                    "practice_id": w["practice_a"].pk,
                    "kind": "visit",
                    "status": "done",
                    "occurred_on": "2026-03-02",
                    "provider_ids": [w["provider_a"].pk],
                    "staff_ids": [w["staff"].pk],
                    "topic_ids": [w["topic"].pk],
                    "notes": "Met the office manager",
                    "follow_up": "Send the spine one-pager",
                    "follow_up_on": "2026-03-09",
                    "cost": "12.50",
                },
            ),
            (
                "received",
                {
                    "practice_id": w["practice_a"].pk,
                    "status": "planned",
                    "starts_at": w["starts_at"],
                },
            ),
        ],
        "change_activity": [
            (
                "received",
                {
                    "practice_id": w["practice_a"].pk,
                    "kind": "call",
                    "status": "done",
                    "occurred_on": "2026-03-01",
                    "provider_ids": [w["provider_a"].pk],
                    "staff_ids": [w["staff"].pk],
                    "topic_ids": [w["topic"].pk],
                    "notes": "Called the office manager",
                    "follow_up": "Send the spine one-pager",
                    "follow_up_on": "2026-03-09",
                    "cost": "0",
                },
            ),
            ("received", {"status": "planned", "starts_at": w["starts_at"]}),
        ],
        "cancel_activity": [("received", {})],
        "create_event": [
            (
                "received",
                {
                    "kind": "lunch_and_learn",
                    "title": "Spine care for primary care",
                    "starts_at": w["starts_at"],
                    "place": "The practice's break room",
                    "host_practice_id": w["practice_a"].pk,
                    "total_cost": "180.00",
                },
            )
        ],
        "invite_to_event": [
            ("received", {"provider_ids": [w["provider_a"].pk], "staff_ids": [w["staff"].pk]})
        ],
        # provider_a came; a share well within the year's limit.
        "record_attendance": [("received", {"attended": [w["invitee"].pk], "total_cost": "30.00"})],
        "send_survey": [("received", {"referral_id": w["received"].pk})],
        "invite_to_review": [("received", {})],
        "open_case": [
            (
                "received",
                {
                    "source": "phone",
                    "category": "billing",
                    "summary": "A bill after the visit was covered",
                    "referral_id": w["received"].pk,
                    "owner_id": w["cora"].pk,
                },
            )
        ],
        "move_case": [
            ("received", {"move": "acknowledge", "note": "Called back", "expected_version": 1}),
            ("received", {"move": "reassign", "owner_id": w["cliff"].pk}),
        ],
        "enrol_advocate": [("received", {"referral_id": w["received"].pk, "agreed": True})],
        "opt_out_advocate": [("received", {})],
        "give_reward": [("received", {"item_id": w["reward_item"].pk})],
        "approve_testimonial": [("received", {})],
        "decline_testimonial": [("received", {})],
        "revoke_testimonial_authorization": [("received", {"how": "Letter of 3 March"})],
    }
    return bodies[operation_id]


def valid_query(operation_id: str) -> dict:
    """The query parameters an operation requires, with values it accepts."""
    if operation_id.startswith("analytics_"):
        return {"start": "2026-01-01", "end": "2026-02-01"}
    return {}


def inputs(openapi: dict, world: dict, wanted):
    """Every parameter and body field that may take a value of a `wanted` shape:
    (where, its shapes, the request that carries `value` there, the field a 422 names).
    The rest of each request is valid, so only that value can be wrong."""
    for path, method, operation in operations(openapi):
        bodies = valid_bodies(operation["operationId"], world) if method != "get" else []
        for parameter in operation.get("parameters", []):
            shapes = [s for s in alternatives(parameter["schema"], openapi) if wanted(s)]
            if not shapes:
                continue
            name, where = parameter["name"], parameter["in"]

            def request(
                value, name=name, where=where, path=path, method=method, operation=operation
            ):
                target = path_for(path, world, **({name: value} if where == "path" else {}))
                query = valid_query(operation["operationId"])
                if where == "query":
                    query[name] = value
                bodies = valid_bodies(operation["operationId"], world) if method != "get" else []
                body = bodies[0][1] if bodies else None
                return {"method": method, "path": target, "query": query, "body": body}

            yield (method, path, where, name), shapes, request, name
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = content["application/json"]["schema"]
        for field in field_paths(schema, openapi):
            shapes = [s for s in schema_at(schema, openapi, field) if wanted(s)]
            if not shapes or isinstance(field[-1], int):
                continue
            # A body that already holds the field's object, so only this value is wrong.
            state, body = next(((s, b) for s, b in bodies if field[0] in b), bodies[0])

            def request(value, field=field, path=path, method=method, state=state, body=body):
                return {
                    "method": method,
                    "path": path_for(path, world, state),
                    "body": replaced(body, field, value),
                }

            yield (method, path, "body", field), shapes, request, ".".join(map(str, field))


def send(client: Client, request: dict):
    return call(
        client,
        request["method"],
        request["path"],
        query=request.get("query"),
        body=request.get("body"),
    )
