"""Email through Django's configured mailer (SMTP in production, files in the demo)."""

import logging
import smtplib
from email.charset import QP, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMessage, mailers

from refloop.messaging.transports.base import Envelope, PermanentFailure, TransientFailure

logger = logging.getLogger(__name__)


class EmailTransport:
    channel = "email"

    def __init__(self):
        self.connection = None
        # Once the server could not be reached, the rest of the batch is not tried against it
        # (each try could wait out the whole timeout); the next batch tries again.
        self.unreachable = ""

    def open(self) -> None:
        if self.unreachable:
            raise TransientFailure(self.unreachable)
        self.connection = mailers.create_connection("default")
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as error:
            self.connection = None
            self.unreachable = f"The mail server could not be reached ({type(error).__name__})."
            raise TransientFailure(self.unreachable) from None

    def send(self, envelope: Envelope) -> str:
        if self.connection is None:
            self.open()
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "refloop.local"
        message_id = f"<{envelope.delivery_key}@{domain}>"
        smtp = getattr(self.connection, "connection", None)
        try:
            if isinstance(smtp, smtplib.SMTP) and _plain(envelope):
                # The common case, a plain-text message to an ASCII address over SMTP, is
                # built directly: Django's general MIME path costs several times as much.
                smtp.sendmail(
                    settings.DEFAULT_FROM_EMAIL, [envelope.to], _mime(envelope, message_id)
                )
            else:
                self.connection.send_messages([_django_message(envelope, message_id)])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _failure(code, text) from None
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, error.smtp_error) from None
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            raise TransientFailure(
                f"The connection to the mail server was lost ({type(error).__name__})."
            ) from None
        return message_id

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except (OSError, smtplib.SMTPException) as error:
                # The connection is being discarded either way; a broken QUIT changes nothing.
                logger.debug("closing the mail connection failed: %s", type(error).__name__)
            self.connection = None


_BODY_CHARSET = Charset("utf-8")
_BODY_CHARSET.body_encoding = QP


def _plain(envelope: Envelope) -> bool:
    return not envelope.attachments and envelope.to.isascii()


def _mime(envelope: Envelope, message_id: str) -> bytes:
    message = MIMEText(envelope.body, "plain", _BODY_CHARSET)
    subject = " ".join(envelope.subject.split())  # one line: no header can be injected
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    message["From"] = settings.DEFAULT_FROM_EMAIL
    message["To"] = envelope.to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    return message.as_bytes()


def _django_message(envelope: Envelope, message_id: str) -> EmailMessage:
    email = EmailMessage(
        subject=envelope.subject,
        body=envelope.body,
        to=[envelope.to],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    for name, content, mimetype in envelope.attachments:
        email.attach(name, content, mimetype)
    return email


def _failure(code: int, text) -> TransientFailure | PermanentFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = f"The mail server answered {code}: {str(text)[:200]}"
    return PermanentFailure(reason) if 500 <= code < 600 else TransientFailure(reason)
