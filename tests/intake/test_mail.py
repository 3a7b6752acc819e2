"""`refloop intake mail` against a real IMAP server (Dovecot, tests/dovecot.py): each mail's
attachments become documents with the sender and subject on them, a mail moves only once
stored, and nothing is doubled, lost or logged, whatever the mailbox does."""

import io
import logging
import os
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from refloop.core.models import AuditEntry
from refloop.intake import mailbox as mailboxes
from refloop.intake.models import DocumentSource, DocumentStatus, IntakeDocument
from refloop.intake.pipeline import process_document
from tests.dovecot import CuttingProxy, Dovecot

from .helpers import blank_png, referral_pdf

SENDER_NAME = "Oriel Vantongeren"
SENDER_ADDRESS = "oriel.vantongeren@efax-relay.example"
SENDER = f"{SENDER_NAME} <{SENDER_ADDRESS}>"
SUBJECT = "Referral for Zephyrine Quillfeather, DOB 02/29/1964"
FILE_NAME = "Quillfeather_Zephyrine_referral.pdf"
PROCESSED, PROBLEM = "refloop-processed", "refloop-problem"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:
        yield server


@pytest.fixture
def account(dovecot):
    return dovecot.account()


@pytest.fixture
def mailbox(settings, dovecot, account):
    """The settings pointing refloop at a fresh mailbox over IMAPS, trusting the test CA."""
    settings.INTAKE_MAIL_HOST = "127.0.0.1"
    settings.INTAKE_MAIL_PORT = dovecot.imaps_port
    settings.INTAKE_MAIL_SECURITY = "tls"
    settings.INTAKE_MAIL_USER = account.user
    settings.INTAKE_MAIL_PASSWORD = account.password
    settings.INTAKE_MAIL_CA_FILE = str(dovecot.ca_file)
    settings.INTAKE_MAIL_FOLDER = "INBOX"
    settings.INTAKE_MAIL_PROCESSED_FOLDER = PROCESSED
    settings.INTAKE_MAIL_PROBLEM_FOLDER = PROBLEM
    settings.INTAKE_MAIL_TIMEOUT_SECONDS = 20
    return settings


def mail(
    *attachments: tuple[str, bytes],
    text: str = "You have received a 1 page fax.",
    message_id: str | None = None,
    sender: str = SENDER,
    subject: str = SUBJECT,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "intake@clinic.example"
    message["Subject"] = subject
    message["Date"] = formatdate()
    if message_id != "":
        message["Message-ID"] = message_id or make_msgid(domain="efax-relay.example")
    message.set_content(text)
    for name, content in attachments:
        kind = {"pdf": "application/pdf", "png": "image/png"}.get(name.rsplit(".")[-1])
        maintype, subtype = (kind or "application/octet-stream").split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=SMTP)


def noise_png(size: int) -> bytes:
    """A PNG of random grey pixels: it does not compress, so its size is about `size`."""
    from PIL import Image

    side = int(size**0.5)
    out = io.BytesIO()
    Image.frombytes("L", (side, side), os.urandom(side * side)).save(out, "PNG")
    return out.getvalue()


def take_mail(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("intake", "mail", "--once", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT / "intake"
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


def test_a_faxed_pdf_becomes_a_queued_document_with_its_sender_and_subject(
    dovecot, account, mailbox
):
    dovecot.append(account, mail((FILE_NAME, referral_pdf())))

    output = take_mail()

    document = IntakeDocument.objects.get()
    assert document.source == DocumentSource.EMAIL
    assert document.status == DocumentStatus.QUEUED
    assert document.content_type == "application/pdf"
    assert document.original_name == FILE_NAME
    assert (document.email_sender, document.email_subject) == (SENDER, SUBJECT)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email_sender, email_subject FROM intake_intakedocument WHERE id = %s",
            [document.pk],
        )
        stored = cursor.fetchone()
    assert all(value.startswith("e1:") and SENDER_NAME not in value for value in stored)
    assert dovecot.messages(account, "INBOX") == []
    assert len(dovecot.messages(account, PROCESSED)) == 1
    assert f"document #{document.pk} queued; moved to {PROCESSED}" in output


def test_the_mailbox_says_whether_its_mail_is_email_or_a_fax(dovecot, account, mailbox):
    dovecot.append(account, mail((FILE_NAME, referral_pdf())))
    take_mail()
    assert IntakeDocument.objects.get().arrived_by == "email"

    mailbox.INTAKE_MAIL_ARRIVAL = "fax"  # an e-fax service's inbox
    dovecot.append(account, mail(("other.pdf", referral_pdf(title="Second referral"))))
    take_mail()
    assert IntakeDocument.objects.latest("pk").arrived_by == "fax"


def test_a_mail_removed_by_another_client_after_the_listing_is_skipped(dovecot, account, mailbox):
    lines: list[str] = []
    config = mailboxes.MailboxSettings.from_settings()
    with mailboxes._connection(config) as client:
        client.select_folder("INBOX")
        # The UID the listing named is gone: the server answers nothing for it.
        mailboxes.Mailbox(config, report=lines.append).take(client, 4242, 100, 1)
    assert lines == ["mail 1: removed from the mailbox by another client; skipped"]
    assert not IntakeDocument.objects.exists()


def test_two_attachments_become_two_documents_of_the_same_mail(dovecot, account, mailbox):
    dovecot.append(
        account, mail(("page-1.pdf", referral_pdf()), ("page-2.png", blank_png(850, 1100)))
    )

    take_mail()

    documents = IntakeDocument.objects.order_by("pk")
    assert [d.content_type for d in documents] == ["application/pdf", "image/png"]
    assert {d.status for d in documents} == {DocumentStatus.QUEUED}
    assert len({d.email_key for d in documents}) == 1
    assert len(dovecot.messages(account, PROCESSED)) == 1


def test_a_referral_written_in_the_mail_becomes_a_document_read_like_a_fax(
    dovecot, account, mailbox
):
    text = "\n".join(
        [
            "Dear colleague, please see my patient:",
            "Patient name: Zephyrine Quillfeather",
            "Date of birth: 02/29/1964",
            "Reason for referral: Low back pain with left leg radiculopathy",
        ]
    )
    dovecot.append(account, mail(text=text))

    take_mail()

    document = IntakeDocument.objects.get()
    assert document.content_type == "application/pdf"
    assert document.status == DocumentStatus.QUEUED
    read = process_document(document.pk)
    page = read.pages.get()
    assert page.method == "text"
    assert "Patient name: Zephyrine Quillfeather" in page.text
    assert "left leg radiculopathy" in page.text


def test_a_fax_service_note_beside_an_attachment_is_not_kept_as_a_document(
    dovecot, account, mailbox
):
    dovecot.append(account, mail(("fax.pdf", referral_pdf()), text="Fax from (217) 555-0199"))

    take_mail()

    assert IntakeDocument.objects.get().original_name == "fax.pdf"


def test_the_same_mail_delivered_again_is_not_stored_again(dovecot, account, mailbox):
    first = mail(("fax.pdf", referral_pdf()), message_id="<fax-7731@efax-relay.example>")
    # The service resent it: same Message-ID, the headers around it changed.
    resent = first.replace(b"To: intake@clinic.example", b"To: frontdesk@clinic.example")
    without_id = mail(("other.pdf", referral_pdf(npi="1245319599")), message_id="")
    for message in (first, first, resent, without_id, without_id):
        dovecot.append(account, message)

    output = take_mail()

    documents = IntakeDocument.objects.order_by("pk")
    assert [d.original_name for d in documents] == ["fax.pdf", "other.pdf"]
    assert {d.status for d in documents} == {DocumentStatus.QUEUED}
    assert dovecot.messages(account, "INBOX") == []
    assert len(dovecot.messages(account, PROCESSED)) == 5
    assert output.count("already stored as") == 3


def test_two_faxes_under_one_reused_message_id_are_both_stored(dovecot, account, mailbox):
    reused = "<fax@efax-relay.example>"
    dovecot.append(account, mail(("fax-1.pdf", referral_pdf()), message_id=reused))
    dovecot.append(account, mail(("fax-2.pdf", referral_pdf(npi="1245319599")), message_id=reused))

    take_mail()

    documents = IntakeDocument.objects.order_by("pk")
    assert [d.original_name for d in documents] == ["fax-1.pdf", "fax-2.pdf"]
    assert {d.status for d in documents} == {DocumentStatus.QUEUED}


def test_the_same_fax_in_a_new_mail_is_recorded_as_a_duplicate(dovecot, account, mailbox):
    fax = referral_pdf()
    dovecot.append(account, mail(("fax.pdf", fax)))
    dovecot.append(account, mail(("fax-again.pdf", fax)))

    take_mail()

    first, again = IntakeDocument.objects.order_by("pk")
    assert first.status == DocumentStatus.QUEUED
    assert again.status == DocumentStatus.DUPLICATE
    assert again.duplicate_of == first


def test_a_mail_over_the_size_limit_is_recorded_without_being_fetched(
    dovecot, account, mailbox, settings
):
    settings.INTAKE_MAIL_MAX_BYTES = 200_000
    huge = mail(("scan.png", noise_png(300_000)))
    dovecot.append(account, huge)

    with CuttingProxy(dovecot.imaps_port) as proxy:
        settings.INTAKE_MAIL_PORT = proxy.port
        output = take_mail()

    assert proxy.from_server < len(huge) / 2  # its headers only
    document = IntakeDocument.objects.get()
    assert document.status == DocumentStatus.QUARANTINED
    assert not document.file
    assert document.size == len(huge)
    assert "0.2 MB" in document.status_reason and PROBLEM in document.status_reason
    assert (document.email_sender, document.email_subject) == (SENDER, SUBJECT)
    assert len(dovecot.messages(account, PROBLEM)) == 1
    assert dovecot.messages(account, "INBOX") == []
    assert f"moved to {PROBLEM}" in output


def test_an_attachment_over_the_document_limit_is_recorded_and_the_mail_set_aside(
    dovecot, account, mailbox, settings
):
    settings.ATTACHMENT_MAX_BYTES = 100_000
    dovecot.append(account, mail(("fax.pdf", referral_pdf()), ("scan.png", noise_png(150_000))))

    take_mail()

    kept, refused = IntakeDocument.objects.order_by("pk")
    assert kept.status == DocumentStatus.QUEUED
    assert refused.status == DocumentStatus.QUARANTINED and not refused.file
    assert "too large" in refused.status_reason
    assert len(dovecot.messages(account, PROBLEM)) == 1


def test_a_mail_whose_parts_cannot_be_found_is_kept_whole_with_the_reason(
    dovecot, account, mailbox
):
    broken = mail(("fax.pdf", referral_pdf())).replace(b"boundary=", b"boundary-lost=")
    dovecot.append(account, broken)

    take_mail()

    document = IntakeDocument.objects.get()
    assert document.status == DocumentStatus.QUARANTINED
    assert "parts" in document.status_reason and "problem folder" in document.status_reason
    with document.file.open("rb") as kept:
        assert kept.read().replace(b"\r\n", b"\n") == broken.replace(b"\r\n", b"\n")
    assert len(dovecot.messages(account, PROBLEM)) == 1


def test_an_undecodable_attachment_is_kept_with_the_reason_and_the_text_beside_it(
    dovecot, account, mailbox
):
    good = mail(("fax.pdf", referral_pdf()), text="Please see the attached referral.")
    assert good.count(b"JVBERi0x") == 1  # "%PDF-1" in base64: where the attachment starts
    dovecot.append(account, good.replace(b"JVBERi0x", b"JV*&!Ri0"))

    take_mail()

    # With no readable attachment, the text may be the referral: it is kept too.
    attachment, text = IntakeDocument.objects.order_by("pk")
    assert attachment.status == DocumentStatus.QUARANTINED
    assert "could not be decoded" in attachment.status_reason
    with attachment.file.open("rb") as kept:
        assert kept.read().startswith(b"JV*&!Ri0")
    assert text.status == DocumentStatus.QUEUED and text.content_type == "application/pdf"
    assert len(dovecot.messages(account, PROBLEM)) == 1


def test_a_connection_dropped_mid_mail_stops_the_run_and_the_next_run_continues(
    dovecot, account, mailbox, settings
):
    attachments = [noise_png(30_000) for _ in range(6)]
    for number, content in enumerate(attachments, start=1):
        dovecot.append(account, mail((f"scan-{number}.png", content)))
    failures = []

    # Each run's connection is cut after 100 kB from the server, in the middle of a mail:
    # a mail or two per run.
    for _ in range(10):
        with CuttingProxy(dovecot.imaps_port, cut_after=100_000) as proxy:
            settings.INTAKE_MAIL_PORT = proxy.port
            try:
                take_mail()
            except CommandError as error:
                failures.append(str(error))
        # Whatever the moment of the cut, each mail is stored whole or not at all.
        assert stored_files(settings) == sorted(d.file.path for d in IntakeDocument.objects.all())
        if not proxy.cut:
            break

    assert len(failures) >= 2
    assert all("connection to the mail server" in failure for failure in failures)
    assert all("run again to continue" in failure for failure in failures)
    documents = IntakeDocument.objects.order_by("pk")
    assert sorted(d.original_name for d in documents) == [f"scan-{n}.png" for n in range(1, 7)]
    assert {d.status for d in documents} == {DocumentStatus.QUEUED}
    assert dovecot.messages(account, "INBOX") == []
    assert len(dovecot.messages(account, PROCESSED)) == 6


def test_a_run_cut_between_any_two_commands_loses_nothing_and_doubles_nothing(
    dovecot, account, mailbox, settings
):
    dovecot.append(account, mail(("fax.pdf", referral_pdf())))
    dovecot.append(
        account,
        mail(("page-1.pdf", referral_pdf(npi="1245319599")), ("p2.png", blank_png(85, 110))),
    )
    dovecot.append(account, mail(text="Patient name: Zephyrine Quillfeather"))
    printed = io.StringIO()

    # Run k is cut just before refloop's k-th command reaches the server: the sweep cuts
    # the conversation everywhere, between a mail's storing and its move included.
    for cut_before in range(1, 60):
        with CuttingProxy(dovecot.imaps_port, cut_before_record=cut_before) as proxy:
            settings.INTAKE_MAIL_PORT = proxy.port
            try:
                call_command("intake", "mail", "--once", stdout=printed, stderr=printed)
            except CommandError:
                failed = True
            else:
                failed = False
        counts = {}
        for document in IntakeDocument.objects.all():
            counts[document.email_key] = counts.get(document.email_key, 0) + 1
        assert sorted(counts.values()) in ([], [1], [2], [1, 1], [1, 2], [1, 1, 2])
        assert stored_files(settings) == sorted(d.file.path for d in IntakeDocument.objects.all())
        if not failed and not dovecot.messages(account, "INBOX"):
            break

    assert proxy.client_records > 3  # the last run ran to its end
    assert IntakeDocument.objects.count() == 4
    assert {d.status for d in IntakeDocument.objects.all()} == {DocumentStatus.QUEUED}
    assert len(dovecot.messages(account, PROCESSED)) == 3
    # Some run was cut after storing a mail and before moving it; the next one moved it.
    assert "already stored as" in printed.getvalue()


def test_while_the_virus_scanner_is_down_the_mail_waits_in_the_mailbox(
    dovecot, account, mailbox, settings, refused_port
):
    settings.CLAMD_SOCKET = f"127.0.0.1:{refused_port}"
    dovecot.append(account, mail(("fax.pdf", referral_pdf()), ("page-2.png", blank_png(85, 110))))

    output = take_mail()

    assert IntakeDocument.objects.count() == 0
    assert stored_files(settings) == []
    assert len(dovecot.messages(account, "INBOX")) == 1
    assert "virus scanner is not answering" in output and "Left in the mailbox" in output


def test_starttls_on_the_plain_port_works_as_imaps_does(dovecot, account, mailbox, settings):
    settings.INTAKE_MAIL_SECURITY = "starttls"
    settings.INTAKE_MAIL_PORT = dovecot.imap_port
    dovecot.append(account, mail(("fax.pdf", referral_pdf())))

    take_mail()

    assert IntakeDocument.objects.count() == 1


def test_a_server_with_an_untrusted_certificate_is_refused_before_signing_in(
    dovecot, account, mailbox, settings
):
    settings.INTAKE_MAIL_CA_FILE = ""
    dovecot.append(account, mail(("fax.pdf", referral_pdf())))

    with pytest.raises(CommandError, match="certificate did not verify") as refused:
        take_mail()

    assert "REFLOOP_INTAKE_MAIL_CA_FILE" in str(refused.value)
    assert IntakeDocument.objects.count() == 0
    assert len(dovecot.messages(account, "INBOX")) == 1


def test_a_refused_password_is_named_but_never_printed(dovecot, account, mailbox, settings):
    settings.INTAKE_MAIL_PASSWORD = "not-the-password-5521"

    with pytest.raises(CommandError, match="refused the sign-in") as refused:
        take_mail()

    assert "not-the-password-5521" not in str(refused.value)
    assert account.user in str(refused.value)


def test_left_running_it_reports_a_refused_sign_in_and_tries_again_next_time(
    dovecot, account, mailbox, settings
):
    dovecot.append(account, mail(("fax.pdf", referral_pdf())))
    settings.INTAKE_MAIL_PASSWORD = "not-the-password-5521"
    config = mailboxes.MailboxSettings.from_settings()
    lines, pauses = [], []

    def pause(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            raise KeyboardInterrupt  # as Ctrl-C does

    with pytest.raises(KeyboardInterrupt):
        mailboxes.watch(config, interval=30, report=lines.append, sleep=pause)

    assert pauses == [30, 30]
    assert len(lines) == 2 and all("refused the sign-in" in line for line in lines)
    assert "not-the-password-5521" not in repr(config) + " ".join(lines)
    assert len(dovecot.messages(account, "INBOX")) == 1


def test_without_a_mailbox_configured_the_command_says_what_to_set(settings):
    settings.INTAKE_MAIL_HOST = ""
    settings.INTAKE_MAIL_PASSWORD = ""

    with pytest.raises(CommandError, match="REFLOOP_INTAKE_MAIL_HOST") as refused:
        take_mail()

    assert "REFLOOP_INTAKE_MAIL_PASSWORD" in str(refused.value)


def test_no_sender_subject_file_name_or_password_reaches_a_log_or_the_audit(
    dovecot, account, mailbox, settings, caplog
):
    caplog.set_level(logging.DEBUG)
    settings.INTAKE_MAIL_MAX_BYTES = 200_000
    dovecot.append(account, mail((FILE_NAME, referral_pdf())))
    dovecot.append(account, mail((FILE_NAME, noise_png(300_000))))
    dovecot.append(account, mail((FILE_NAME, referral_pdf())).replace(b"boundary=", b"b="))
    dovecot.append(account, mail(text=f"Referral for {SUBJECT}"))
    dovecot.append(account, mail((FILE_NAME, noise_png(30_000))))
    dovecot.append(account, mail((FILE_NAME, noise_png(30_000))))

    printed = []
    with CuttingProxy(dovecot.imaps_port, cut_after=60_000) as proxy:
        settings.INTAKE_MAIL_PORT = proxy.port
        with pytest.raises(CommandError) as cut:
            take_mail()
    printed.append(str(cut.value))
    settings.INTAKE_MAIL_PORT = dovecot.imaps_port
    printed.append(take_mail())

    assert IntakeDocument.objects.count() == 6
    audit = " ".join(str(e.detail) for e in AuditEntry.objects.all())
    logged = caplog.text + "\n".join(printed) + audit
    assert "document #" in printed[1] and "connection to the mail server" in printed[0]
    for secret in (SENDER_NAME, SENDER_ADDRESS, "Quillfeather", FILE_NAME, account.password):
        assert secret not in logged


def test_the_document_page_shows_the_coordinator_who_sent_it_and_the_subject(
    dovecot, account, mailbox, client, cora
):
    dovecot.append(account, mail(("fax.pdf", referral_pdf())))
    take_mail()
    document = IntakeDocument.objects.get()
    client.force_login(cora)

    html = client.get(reverse("intake_document", kwargs={"pk": document.pk})).content.decode()

    assert SENDER_NAME in html and SENDER_ADDRESS in html
    assert "Zephyrine Quillfeather" in html
