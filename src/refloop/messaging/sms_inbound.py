"""Twilio's inbound SMS webhook: a patient texting STOP (or START) to our number."""

import base64
import hashlib
import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from refloop.core.links import absolute_url
from refloop.messaging import outbox
from refloop.messaging.models import Channel
from refloop.messaging.recipients import e164

logger = logging.getLogger(__name__)

# The keywords carriers and Twilio treat as opting out and back in.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twilio_signature(url: str, params, token: str) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 of the URL and the sorted POST parameters."""
    payload = url + "".join(
        name + value for name in sorted(params) for value in params.getlist(name)
    )
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _signed_by_twilio(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    given = request.headers.get("X-Twilio-Signature", "")
    if not token or not given:
        return False
    # Twilio signs the address it was given: the public BASE_URL behind a proxy, or this
    # request's own address when the server is reached directly.
    urls = dict.fromkeys([absolute_url(request.get_full_path()), request.build_absolute_uri()])
    return any(
        hmac.compare_digest(twilio_signature(url, request.POST, token), given) for url in urls
    )


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed_by_twilio(request):
        # Neither the sender's number nor the text is logged: both are the patient's.
        logger.warning("Refused an inbound SMS webhook without a valid Twilio signature.")
        return HttpResponseForbidden("Invalid signature.", content_type="text/plain")
    keyword = request.POST.get("Body", "").strip().upper()
    number = e164(request.POST.get("From", ""))
    if number and keyword in STOP_WORDS:
        if outbox.record_opt_out(
            channel=Channel.SMS, address=number, source="sms_stop", now=timezone.now()
        ):
            logger.info("A recipient opted out of SMS by text.")
    elif number and keyword in START_WORDS:
        if outbox.remove_opt_out(channel=Channel.SMS, address=number):
            logger.info("A recipient opted back in to SMS by text.")
    # An empty reply: Twilio itself confirms STOP and START to the sender.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
