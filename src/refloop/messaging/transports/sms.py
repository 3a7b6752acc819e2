"""SMS: a file of JSON lines for the demo, and Twilio's Messages API for production."""

import base64
import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from refloop.core.validation import phone_e164
from refloop.messaging import outbox
from refloop.messaging.transports.base import Envelope, PermanentFailure, TransientFailure

logger = logging.getLogger(__name__)

TWILIO_TIMEOUT_SECONDS = 15
# Twilio's error code for a recipient who texted STOP to our sender.
TWILIO_UNSUBSCRIBED = 21610
# Phone numbers that a provider's error text may quote back; staff see reasons, so drop them.
_NUMBER_IN_TEXT = re.compile(r"\+?\d[\d ().-]{5,}\d")


def is_e164(number: str) -> bool:
    """Already in E.164 form (as the outbox stores numbers), by the same rule as entry checks."""
    return bool(number) and phone_e164(number) == number


def _check_number(number: str, kind: str = "mobile") -> None:
    if not is_e164(number):
        raise PermanentFailure(
            f"The number on file is not a valid {kind} number (expected + and 8 to 15 digits)."
        )


class FileSmsTransport:
    """The demo's SMS gateway: each text becomes one JSON line in SMS_OUTBOX_FILE."""

    channel = "sms"

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> str:
        _check_number(envelope.to)
        path = Path(settings.SMS_OUTBOX_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "to": envelope.to,
                "body": envelope.body,
                "delivery_key": envelope.delivery_key,
                "at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        # One write of one line, in append mode, so lines from two workers never interleave.
        with path.open("a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")
        return f"file:{envelope.delivery_key}"

    def close(self) -> None:
        pass


class TwilioSmsTransport:
    """Twilio's Messages REST API, with nothing but the standard library.

    Twilio has no idempotency key for creating a message, so a timeout after Twilio
    accepted the request can, on retry, send the text twice; the retry schedule keeps
    that rare, and a duplicate reminder beats a missing one.
    """

    channel = "sms"

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> str:
        sid, token, sender = (
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_FROM,
        )
        if not (sid and token and sender):
            raise PermanentFailure(
                "SMS through Twilio is not configured: set REFLOOP_TWILIO_ACCOUNT_SID, "
                "REFLOOP_TWILIO_AUTH_TOKEN and REFLOOP_TWILIO_FROM."
            )
        _check_number(envelope.to)
        base = settings.TWILIO_API_BASE.rstrip("/")
        if urllib.parse.urlsplit(base).scheme not in {"http", "https"}:
            raise PermanentFailure("TWILIO_API_BASE must be an http(s) address.")
        url = f"{base}/2010-04-01/Accounts/{urllib.parse.quote(sid, safe='')}/Messages.json"
        fields = {"To": envelope.to, "Body": envelope.body}
        # A Messaging Service SID (MG...) lets Twilio pick the sending number.
        fields["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode("ascii")
        # The scheme is checked above: only http(s) reaches urlopen.
        request = urllib.request.Request(  # noqa: S310
            url,
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": "refloop",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TWILIO_TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = response.read()
        except urllib.error.HTTPError as error:
            raise self._refused(error, envelope.to) from None
        except urllib.error.URLError as error:
            cause = error.reason if isinstance(error.reason, BaseException) else error
            raise TransientFailure(
                f"Twilio could not be reached ({type(cause).__name__})."
            ) from None
        except (TimeoutError, OSError, http.client.HTTPException) as error:
            raise TransientFailure(
                f"Twilio could not be reached ({type(error).__name__})."
            ) from None
        try:
            return str(json.loads(answer)["sid"])
        except (ValueError, KeyError, TypeError):
            # Twilio took the message; sending it again would text the recipient twice.
            logger.warning("Twilio accepted an SMS but its answer carried no message sid.")
            return ""

    def _refused(self, error: urllib.error.HTTPError, to: str) -> Exception:
        status = error.code
        try:
            answer = json.loads(error.read() or b"{}")
        except (ValueError, OSError, http.client.HTTPException):
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        code, text = answer.get("code"), str(answer.get("message") or "")
        text = _NUMBER_IN_TEXT.sub("[number]", text)[:200]
        detail = f"error {code}: {text}" if code else f"HTTP {status}"
        if status in {408, 429} or status >= 500:
            return TransientFailure(f"Twilio is unavailable for now ({detail}).")
        if code == TWILIO_UNSUBSCRIBED:
            outbox.record_opt_out(
                channel="sms", address=to, source="provider_unsubscribed", now=timezone.now()
            )
        return PermanentFailure(f"Twilio refused the SMS ({detail}).")

    def close(self) -> None:
        pass
