"""An IMAP mailbox, the shape of an e-fax service's or a referral address's inbox: each mail
becomes one document per attachment (or one from its text), like the watched folder's files.

A mail is fetched whole, its documents stored in one transaction, and only then moved to
the processed folder, or to the problem folder when some of it needs a person (too large to
fetch, broken, an attachment over the size limit or undecodable, nothing in it): so a run
cut off anywhere leaves each mail either stored whole or not at all, and the next run takes
it again. A mail already stored (the same Message-ID and content, see emails.message_key) is
not stored again, only moved. Printed lines name documents and the mail's position in the run,
never its sender, subject or file names (they often carry a patient's name).
"""

import imaplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from refloop.core.errors import PayloadTooLarge
from refloop.core.uploads import ScannerUnavailable
from refloop.intake import emails
from refloop.intake.models import Arrival, DocumentSource, IntakeDocument
from refloop.intake.services import EmailOrigin, ingest, set_aside


class MailboxError(Exception):
    """The mailbox could not be read to the end; the message says why, without the password
    or anything from a mail."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    port: int
    security: str  # "tls" (IMAPS) or "starttls"
    user: str
    password: str
    folder: str
    processed_folder: str
    problem_folder: str
    ca_file: str
    max_bytes: int
    timeout: float
    arrived_by: str = Arrival.EMAIL

    @classmethod
    def from_settings(cls) -> "MailboxSettings":
        missing = [
            f"REFLOOP_INTAKE_MAIL_{name}"
            for name in ("HOST", "USER", "PASSWORD")
            if not getattr(settings, f"INTAKE_MAIL_{name}")
        ]
        if missing:
            raise MailboxError(
                f"Set {', '.join(missing)} first (the password may come from a file, "
                "REFLOOP_INTAKE_MAIL_PASSWORD_FILE); see the README's 'Faxes by email'."
            )
        return cls(
            host=settings.INTAKE_MAIL_HOST,
            port=settings.INTAKE_MAIL_PORT,
            security=settings.INTAKE_MAIL_SECURITY,
            user=settings.INTAKE_MAIL_USER,
            password=settings.INTAKE_MAIL_PASSWORD,
            folder=settings.INTAKE_MAIL_FOLDER,
            processed_folder=settings.INTAKE_MAIL_PROCESSED_FOLDER,
            problem_folder=settings.INTAKE_MAIL_PROBLEM_FOLDER,
            ca_file=settings.INTAKE_MAIL_CA_FILE,
            max_bytes=settings.INTAKE_MAIL_MAX_BYTES,
            timeout=settings.INTAKE_MAIL_TIMEOUT_SECONDS,
            arrived_by=settings.INTAKE_MAIL_ARRIVAL,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:  # never the password, wherever the object is printed
        return f"MailboxSettings({self.user}@{self.address}, {self.security}, {self.folder})"


@dataclass
class Mailbox:
    config: MailboxSettings
    report: Callable[[str], None] = print
    taken: int = 0

    def poll(self) -> int:
        """Take every mail in the folder now; returns how many were taken (stored, or moved
        as already stored). Raises MailboxError when the server cannot be read to the end."""
        config = self.config
        position, count = 0, 0
        try:
            with _connection(config) as client:
                for folder in (config.processed_folder, config.problem_folder):
                    if not client.folder_exists(folder):
                        client.create_folder(folder)
                uids = sorted(client.search(["UNDELETED"]))
                sizes = client.fetch(uids, ["RFC822.SIZE"]) if uids else {}
                count = len(uids)
                for position, uid in enumerate(uids, start=1):
                    if uid in sizes:  # else another client removed it meanwhile
                        self.take(client, uid, sizes[uid][b"RFC822.SIZE"], position)
        except LoginError:
            raise MailboxError(
                f"The mail server at {config.address} refused the sign-in of {config.user}; "
                "check REFLOOP_INTAKE_MAIL_USER and the password."
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise MailboxError(
                f"The mail server at {config.address} is not the one expected: its TLS "
                f"certificate did not verify ({error.verify_message}). If it is signed by a "
                "private authority, set REFLOOP_INTAKE_MAIL_CA_FILE to that authority's "
                "certificate."
            ) from None
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(_lost(config, error, position, count)) from None
        return count

    def take(self, client: IMAPClient, uid: int, size: int, position: int) -> None:
        config = self.config
        header = _fetched(client, uid, "BODY.PEEK[HEADER]", b"BODY[HEADER]")
        if header is None:
            self.report(f"mail {position}: removed from the mailbox by another client; skipped")
            return
        headers = emails.parse_headers(header)
        if size > config.max_bytes:
            key = emails.unfetched_key(headers, header, size)
            stored = _stored(key)
            documents = stored or [
                set_aside(
                    name=emails.MESSAGE_NAME,
                    size=size,
                    reason=f"The email is {_megabytes(size)}; emails of at most "
                    f"{_megabytes(config.max_bytes)} are taken in, so it was not "
                    f"fetched. It is in the mailbox's folder {config.problem_folder}: "
                    "ask the sender for smaller files, or save its attachments and upload them.",
                    source=DocumentSource.EMAIL,
                    email=_origin(headers, key, config.arrived_by),
                )
            ]
            self._move(client, uid, position, documents, config.problem_folder, again=bool(stored))
            return
        raw = _fetched(client, uid, "BODY.PEEK[]", b"BODY[]")
        if raw is None:
            self.report(f"mail {position}: removed from the mailbox by another client; skipped")
            return
        letter = emails.read(raw)
        folder = config.problem_folder if _needs_a_person(letter) else config.processed_folder
        already = _stored(letter.key)
        if already:
            self._move(client, uid, position, already, folder, again=True)
            return
        try:
            documents = _store(letter, config.arrived_by)
        except ScannerUnavailable as error:
            # Nothing is stored unscanned; the mail waits in the mailbox for the next run.
            self.report(f"mail {position}: not stored: {error.message} Left in the mailbox")
            return
        self._move(client, uid, position, documents, folder)

    def _move(
        self,
        client: IMAPClient,
        uid: int,
        position: int,
        documents: list[IntakeDocument],
        folder: str,
        *,
        again: bool = False,
    ) -> None:
        client.move([uid], folder)
        self.taken += 1
        described = "; ".join(
            f"document #{d.pk} {d.status}"
            + (f" ({d.status_reason})" if d.status_reason and not again else "")
            for d in documents
        )
        already = "already stored as " if again else ""
        self.report(f"mail {position}: {already}{described}; moved to {folder}")


def watch(
    config: MailboxSettings,
    *,
    once: bool = False,
    interval: float = 60.0,
    report: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Take the mailbox's mail every `interval` seconds, or once. Returns how many mails were
    taken. With `once`, a mailbox that cannot be read raises MailboxError; otherwise the
    error is reported and the next look tries again."""
    mailbox = Mailbox(config, report=report)
    while True:
        try:
            mailbox.poll()
        except MailboxError as error:
            if once:
                raise
            report(f"{error} Trying again in {interval:g} s.")
        if once:
            return mailbox.taken
        sleep(interval)


@contextmanager
def _connection(config: MailboxSettings) -> Iterator[IMAPClient]:
    context = ssl.create_default_context(cafile=config.ca_file or None)
    client = IMAPClient(
        config.host,
        port=config.port,
        ssl=config.security == "tls",
        ssl_context=context,
        timeout=config.timeout,
    )
    try:
        if config.security == "starttls":
            client.starttls(context)
        client.login(config.user, config.password)
        if not client.has_capability("MOVE"):
            raise MailboxError(
                f"The mail server at {config.address} does not offer IMAP MOVE (RFC 6851), "
                "which refloop needs to move a mail only once it is stored."
            )
        try:
            client.select_folder(config.folder)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            raise MailboxError(
                f"The mailbox at {config.address} has no folder {config.folder!r}; "
                "check REFLOOP_INTAKE_MAIL_FOLDER."
            ) from None
        yield client
    except BaseException:
        # The connection is broken or half-open: closing it may fail too, and the error
        # that got us here is the one to report.
        with suppress(OSError, imaplib.IMAP4.error):
            client.shutdown()
        raise
    # Every mail is already stored and moved: a LOGOUT the server does not answer is no loss.
    with suppress(OSError, imaplib.IMAP4.error):
        client.logout()


def _fetched(client: IMAPClient, uid: int, item: str, key: bytes) -> bytes | None:
    """One item of one mail, or None when the mail is gone (expunged by another client
    since the folder was listed: the server answers nothing for it)."""
    return client.fetch([uid], [item]).get(uid, {}).get(key)


def _store(letter: emails.Letter, arrived_by: str) -> list[IntakeDocument]:
    """The letter's documents, all stored or none (their files too)."""
    origin = _origin(letter.headers, letter.key, arrived_by)
    documents: list[IntakeDocument] = []
    try:
        with transaction.atomic():
            for part in letter.parts:
                documents.append(_store_part(part, origin))
            if not letter.parts:
                documents.append(
                    set_aside(
                        name=emails.MESSAGE_NAME,
                        size=0,
                        reason="The email has no attachment and no text: nothing to read. "
                        "It is in the mailbox's problem folder.",
                        source=DocumentSource.EMAIL,
                        email=origin,
                    )
                )
    except BaseException:
        for document in documents:
            if document.file.name:
                document.file.storage.delete(document.file.name)
        raise
    return documents


def _store_part(part: emails.Part, origin: EmailOrigin) -> IntakeDocument:
    try:
        return ingest(
            content=part.content,
            filename=part.name,
            source=DocumentSource.EMAIL,
            email=origin,
            refused=part.refused,
        )
    except PayloadTooLarge as error:
        return set_aside(
            name=part.name,
            size=len(part.content),
            reason=f"An attachment was too large to keep: {error.message} The email is in "
            "the mailbox's problem folder.",
            source=DocumentSource.EMAIL,
            email=origin,
        )


def _needs_a_person(letter: emails.Letter) -> bool:
    limit = settings.ATTACHMENT_MAX_BYTES
    return not letter.parts or any(p.refused or len(p.content) > limit for p in letter.parts)


def _stored(key: str) -> list[IntakeDocument]:
    return list(IntakeDocument.objects.filter(email_key=key).order_by("pk"))


def _origin(headers: emails.Headers, key: str, arrived_by: str) -> EmailOrigin:
    return EmailOrigin(
        sender=headers.sender, subject=headers.subject, key=key, arrived_by=arrived_by
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def _lost(config: MailboxSettings, error: Exception, position: int, count: int) -> str:
    # The error's own text may quote the server's reply, which can hold a mail's headers:
    # name its kind only.
    if isinstance(error, (ConnectionRefusedError, socket.gaierror)) or position == 0:
        what = f"Could not read the mailbox at {config.address}"
    else:
        what = (
            f"The connection to the mail server at {config.address} was lost at mail "
            f"{position} of {count}"
        )
    return (
        f"{what} ({type(error).__name__}). Each mail is stored whole or not at all, and "
        "moved only once stored: run again to continue where this stopped."
    )
