"""Request logs never carry what was typed into a URL: a patient's name in a path that
answers 404 (or 422) is redacted before any handler sees the record."""

import logging

import pytest

from refloop.core.logging import redact_path

pytestmark = pytest.mark.django_db

CANARY = "Zqxcanary Vwpmarker"


def records_mentioning(caplog, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if text.lower() in f"{record.getMessage()} {record.__dict__!r}".lower()
    ]


@pytest.mark.parametrize(
    "path",
    [
        f"/referrals/{CANARY}/",
        f"/referrals/{CANARY}/print",
        f"/portal/referrals/{CANARY}/",
        f"/{CANARY}",
        f"/api/v1/referrals/{CANARY}",
        f"/api/v1/referrals/{CANARY}/notes",
        f"/api/v1/{CANARY}",
    ],
)
def test_a_name_in_a_404_path_reaches_no_log_record(client, api, cora, caplog, path):
    client.force_login(cora)
    with caplog.at_level(logging.DEBUG):
        page = client.get(path)
        answer = api(cora).get(path)
    assert 400 <= page.status_code < 500 and 400 <= answer.status_code < 500
    assert any(r.name == "django.request" for r in caplog.records)
    assert records_mentioning(caplog, "Zqxcanary") == []


def test_the_404_log_line_keeps_the_known_part_of_the_path(client, cora, caplog):
    client.force_login(cora)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(f"/referrals/{CANARY}/print")
    assert "Not Found: /referrals/[...]" in caplog.messages


def test_the_development_servers_request_line_is_redacted(caplog):
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").warning(
            '"%s" %s %s', f"GET /referrals/{CANARY}/?q={CANARY} HTTP/1.1", "404", "179"
        )
    assert caplog.messages == ['"GET /referrals/[...] HTTP/1.1" 404 179']


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/referrals/42/print", "/referrals/42/print"),
        (
            "/api/v1/referrals/42/attachments/7/content",
            "/api/v1/referrals/42/attachments/7/content",
        ),
        ("/referrals/?q=Quillfeather", "/referrals/"),
        ("/referrals/Jane Doe/print", "/referrals/[...]"),
        ("/api/v1/referrals/Jane Doe", "/api/v1/referrals/[token]"),
        ("/p/abc123token/", "/p/[token]/"),
        ("/p/[token]/", "/p/[token]/"),
        ("/Quillfeather", "/[...]"),
        ("/", "/"),
    ],
)
def test_redact_path_keeps_route_words_and_ids_and_nothing_else(path, logged):
    assert redact_path(path) == logged
