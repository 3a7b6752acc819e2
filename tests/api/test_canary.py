"""No API error body repeats what was sent: a canary string goes, one at a time, into every
parameter and every body field of every operation in the OpenAPI document."""

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF

from .walk import (
    call,
    field_paths,
    operations,
    path_for,
    replaced,
    resolved,
    valid_bodies,
    valid_query,
)

pytestmark = pytest.mark.django_db

CANARY = "Zqxcanary Vwpmarker"


def pdf_upload() -> SimpleUploadedFile:
    document = FPDF()
    document.add_page()
    return SimpleUploadedFile("letter.pdf", bytes(document.output()), "application/pdf")


def test_no_error_body_or_log_record_repeats_a_canary_sent_in_any_field_of_any_operation(
    api, ada, world, openapi, caplog
):
    caplog.set_level(logging.DEBUG)
    client = api(ada).client
    checked, leaks = 0, []

    def check(answer, where):
        nonlocal checked
        checked += 1
        assert answer.status_code < 500, where
        if answer.status_code >= 400 and CANARY.lower() in answer.content.decode().lower():
            leaks.append((where, answer.status_code, answer.content.decode()))

    for path, method, operation in operations(openapi):
        bodies = valid_bodies(operation["operationId"], world) if method != "get" else []
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            target = path_for(path, world, **({name: CANARY} if where == "path" else {}))
            query = valid_query(operation["operationId"])
            if where == "query":
                query[name] = CANARY
            headers = {name: CANARY} if where == "header" else None
            body = bodies[0][1] if bodies else None
            multipart = "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
            answer = call(
                client, method, target, query=query, headers=headers, body=body, multipart=multipart
            )
            check(answer, (method, path, where, name))

        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            schema = content["application/json"]["schema"]
            for state, body in bodies:
                target = path_for(path, world, state)
                # The body as given is accepted, so a canary in one field meets the checks
                # that run after the schema's (the services' own).
                baseline = call(client, method, target, body=body)
                assert baseline.status_code < 300, (path, body, baseline.content)
                for field in field_paths(schema, openapi):
                    answer = call(client, method, target, body=replaced(body, field, CANARY))
                    check(answer, (method, path, body.get("to"), field))
        if "multipart/form-data" in content:
            schema = content["multipart/form-data"]["schema"]
            for state, form in bodies:
                target = path_for(path, world, state)
                for name in resolved(schema, openapi)["properties"]:
                    fields = {**form, "file": pdf_upload(), name: CANARY}
                    if name == "file":
                        # The canary as the file's name and as its content.
                        fields["file"] = SimpleUploadedFile(
                            f"{CANARY}.pdf", CANARY.encode(), "application/pdf"
                        )
                    answer = call(client, method, target, body=fields, multipart=True)
                    check(answer, (method, path, name))

    assert checked > 300
    assert leaks == [], "\n".join(map(str, leaks))
    logged = [r.getMessage() for r in caplog.records if "zqxcanary" in r.getMessage().lower()]
    assert logged == []
