"""The SMS, fax and letter transports, the Twilio adapter against a real local HTTP server,
and Twilio's inbound STOP webhook."""

import base64
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pypdfium2
import pytest
from django.urls import reverse

from refloop.messaging.models import OptOut
from refloop.messaging.transports.base import Envelope, PermanentFailure, TransientFailure
from refloop.messaging.transports.fax import FileFaxTransport
from refloop.messaging.transports.letter import LetterTransport, letter_path
from refloop.messaging.transports.sms import FileSmsTransport, TwilioSmsTransport

MOBILE = "+15555550123"


def envelope(to=MOBILE, **overrides) -> Envelope:
    values = {
        "message_id": 7,
        "to": to,
        "subject": "Your appointment at Lakeside",
        "body": "Your appointment is on Monday at 9:00. Reply STOP to opt out.",
        "delivery_key": "refloop-message-7",
        "recipient_label": "Dr. Reed",
    }
    return Envelope(**{**values, **overrides})


def pdf_text(path) -> str:
    document = pypdfium2.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


# --- File SMS ---------------------------------------------------------------------------


def test_file_sms_appends_one_json_line_per_text(settings, tmp_path):
    settings.SMS_OUTBOX_FILE = tmp_path / "sms" / "outbox.jsonl"
    transport = FileSmsTransport()

    first = transport.send(envelope())
    transport.send(envelope(delivery_key="refloop-message-8"))

    lines = settings.SMS_OUTBOX_FILE.read_text().splitlines()
    assert len(lines) == 2
    line = json.loads(lines[0])
    assert line["to"] == MOBILE
    assert line["body"].startswith("Your appointment is on Monday")
    assert line["delivery_key"] == "refloop-message-7"
    assert line["at"]
    assert first == "file:refloop-message-7"


@pytest.mark.parametrize("number", ["5555550123", "+1555", "+1 555 555 0123", ""])
def test_file_sms_refuses_a_number_that_is_not_e164(settings, tmp_path, number):
    settings.SMS_OUTBOX_FILE = tmp_path / "outbox.jsonl"

    with pytest.raises(PermanentFailure, match="not a valid mobile number"):
        FileSmsTransport().send(envelope(to=number))

    assert not settings.SMS_OUTBOX_FILE.exists()


# --- Twilio, against a real HTTP server on 127.0.0.1 ------------------------------------


class FakeTwilio:
    """A local HTTP server that answers like Twilio's Messages API and records requests."""

    def __init__(self):
        self.status, self.answer = 201, {}
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "form": parse_qs(self.rfile.read(length).decode()),
                    }
                )
                body = json.dumps(fake.answer).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def answers(self, status: int, answer: dict) -> None:
        self.status, self.answer = status, answer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio()
    settings.TWILIO_API_BASE = fake.url
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.TWILIO_FROM = "+15555550100"
    yield fake
    fake.stop()


def test_twilio_posts_the_text_and_returns_its_sid(twilio):
    twilio.answers(201, {"sid": "SM0123456789", "status": "queued"})

    external_id = TwilioSmsTransport().send(envelope())

    assert external_id == "SM0123456789"
    (request,) = twilio.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["authorization"] == "Basic " + base64.b64encode(b"AC123:secret-token").decode()
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": [MOBILE],
        "From": ["+15555550100"],
        "Body": [envelope().body],
    }


def test_twilio_sends_through_a_messaging_service_when_from_is_one(twilio, settings):
    settings.TWILIO_FROM = "MG0000"
    twilio.answers(201, {"sid": "SM1"})

    TwilioSmsTransport().send(envelope())

    form = twilio.requests[0]["form"]
    assert form["MessagingServiceSid"] == ["MG0000"]
    assert "From" not in form


def test_twilio_invalid_number_is_a_permanent_failure_naming_the_code(twilio, db):
    twilio.answers(
        400,
        {
            "code": 21211,
            "message": f"The 'To' number {MOBILE} is not a valid phone number.",
            "status": 400,
        },
    )

    with pytest.raises(PermanentFailure, match="21211") as failure:
        TwilioSmsTransport().send(envelope())

    assert MOBILE not in failure.value.reason
    assert not OptOut.objects.exists()


def test_twilio_unsubscribed_recipient_fails_permanently_and_is_opted_out(twilio, db):
    twilio.answers(
        400,
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
    )

    with pytest.raises(PermanentFailure, match="21610"):
        TwilioSmsTransport().send(envelope())

    opt_out = OptOut.objects.get()
    assert (opt_out.channel, opt_out.address, opt_out.source) == (
        "sms",
        MOBILE,
        "provider_unsubscribed",
    )


def test_twilio_unavailable_is_a_transient_failure(twilio):
    twilio.answers(503, {"code": 20503, "message": "Service unavailable"})

    with pytest.raises(TransientFailure):
        TwilioSmsTransport().send(envelope())


def test_twilio_rate_limit_is_a_transient_failure(twilio):
    twilio.answers(429, {"code": 20429, "message": "Too many requests"})

    with pytest.raises(TransientFailure):
        TwilioSmsTransport().send(envelope())


def test_twilio_refused_connection_is_a_transient_failure(twilio, settings):
    # Bound but not listening: connecting is refused, and no other process can take the port.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed.getsockname()[1]}"

        with pytest.raises(TransientFailure, match="could not be reached"):
            TwilioSmsTransport().send(envelope())


def test_twilio_without_credentials_fails_permanently_without_calling_out(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(PermanentFailure, match="not configured"):
        TwilioSmsTransport().send(envelope())

    assert twilio.requests == []


# --- Inbound STOP webhook ---------------------------------------------------------------


def sign(url: str, params: dict[str, str], token: str) -> str:
    payload = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    ).decode()


@pytest.fixture
def inbound(settings, db):
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.BASE_URL = "https://refloop.example"
    url = settings.BASE_URL + reverse("sms_inbound_twilio")

    def post(client, body: str, *, signature: str | None = None):
        params = {"From": MOBILE, "To": "+15555550100", "Body": body, "MessageSid": "SM9"}
        signature = signature or sign(url, params, "secret-token")
        return client.post(
            reverse("sms_inbound_twilio"), params, headers={"X-Twilio-Signature": signature}
        )

    return post


def test_inbound_stop_opts_the_number_out_and_start_opts_it_back_in(client, inbound):
    answer = inbound(client, "  stop ")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/xml")
    assert b"<Response/>" in answer.content
    opt_out = OptOut.objects.get()
    assert (opt_out.channel, opt_out.address, opt_out.source) == ("sms", MOBILE, "sms_stop")

    assert inbound(client, "START").status_code == 200
    assert not OptOut.objects.exists()


def test_inbound_other_text_changes_nothing(client, inbound):
    assert inbound(client, "Can I stop by on Tuesday?").status_code == 200
    assert not OptOut.objects.exists()


def test_inbound_with_a_wrong_signature_is_refused(client, inbound):
    answer = inbound(client, "STOP", signature="bm90IGEgc2lnbmF0dXJl")

    assert answer.status_code == 403
    assert not OptOut.objects.exists()


def test_inbound_is_refused_when_no_auth_token_is_configured(client, inbound, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    answer = inbound(client, "STOP", signature=sign("x", {}, "anything"))

    assert answer.status_code == 403
    assert not OptOut.objects.exists()


def test_inbound_answers_only_post(client, inbound):
    assert client.get(reverse("sms_inbound_twilio")).status_code == 405


def test_inbound_address_is_the_one_to_give_twilio():
    assert reverse("sms_inbound_twilio") == "/hooks/sms/twilio/"


# --- Fax and letter PDFs ----------------------------------------------------------------


def test_fax_is_a_pdf_with_a_cover_and_the_subject(org, settings, tmp_path):
    org.fax = "(555) 555-0199"
    org.save()
    settings.FAX_OUTBOX_DIR = tmp_path / "fax-out"

    external_id = FileFaxTransport().send(envelope(to="+15555550142"))

    path = settings.FAX_OUTBOX_DIR / "refloop-message-7.pdf"
    assert external_id == "file:refloop-message-7.pdf"
    text = pdf_text(path)
    assert "Your appointment at Lakeside" in text
    assert "To: Dr. Reed, fax +15555550142" in text
    assert "From: Lakeside Orthopedics & Spine, fax (555) 555-0199" in text
    assert "Pages: 1 including this cover" in text


def test_long_fax_runs_onto_more_pages_and_counts_them(org, settings, tmp_path):
    settings.FAX_OUTBOX_DIR = tmp_path / "fax-out"
    body = "\n\n".join(f"Paragraph {n}: " + "the report continues " * 30 for n in range(40))

    FileFaxTransport().send(envelope(to="+15555550142", body=body))

    document = pypdfium2.PdfDocument(settings.FAX_OUTBOX_DIR / "refloop-message-7.pdf")
    pages = len(document)
    cover = document[0].get_textpage().get_text_range()
    document.close()
    assert pages > 1
    assert f"Pages: {pages} including this cover" in cover


def test_fax_sent_twice_leaves_one_file(org, settings, tmp_path):
    settings.FAX_OUTBOX_DIR = tmp_path / "fax-out"
    transport = FileFaxTransport()

    transport.send(envelope(to="+15555550142"))
    transport.send(envelope(to="+15555550142"))

    assert [p.name for p in settings.FAX_OUTBOX_DIR.iterdir()] == ["refloop-message-7.pdf"]


def test_fax_refuses_a_number_that_is_not_e164(org, settings, tmp_path):
    settings.FAX_OUTBOX_DIR = tmp_path / "fax-out"

    with pytest.raises(PermanentFailure, match="not a valid fax number"):
        FileFaxTransport().send(envelope(to="555-0142"))

    assert not settings.FAX_OUTBOX_DIR.exists()


POSTAL = "Dr. Reed, Prairie Family Medicine, 1 Main St, Springfield, IL 62701"


def test_letter_is_a_printable_pdf_on_our_letterhead(org, settings, tmp_path):
    org.phone, org.fax = "(555) 555-0100", "(555) 555-0199"
    org.save()
    settings.LETTER_DIR = tmp_path / "letters"

    external_id = LetterTransport().send(envelope(to=POSTAL))

    assert external_id == "file:refloop-message-7.pdf"
    path = letter_path(7)
    assert path == settings.LETTER_DIR / "refloop-message-7.pdf"
    text = pdf_text(path)
    assert "Your appointment at Lakeside" in text
    assert "Lakeside Orthopedics & Spine" in text
    assert "Phone (555) 555-0100" in text
    assert "Springfield, IL 62701" in text


def test_letter_sent_twice_leaves_one_file(org, settings, tmp_path):
    settings.LETTER_DIR = tmp_path / "letters"
    transport = LetterTransport()

    transport.send(envelope(to=POSTAL))
    transport.send(envelope(to=POSTAL))

    assert [p.name for p in settings.LETTER_DIR.iterdir()] == ["refloop-message-7.pdf"]


def test_letter_path_is_none_before_the_letter_is_printed(settings, tmp_path):
    settings.LETTER_DIR = tmp_path / "letters"

    assert letter_path(7) is None


def test_names_outside_latin1_print_as_typed(org, settings, tmp_path):
    settings.LETTER_DIR = tmp_path / "letters"

    LetterTransport().send(envelope(to="Łukasz Peña, 2 Oak Ave, Chicago, IL 60601"))

    assert "Łukasz Peña" in pdf_text(letter_path(7))
