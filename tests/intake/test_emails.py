"""Reading a mail's bytes into documents (refloop.intake.emails), without a mailbox: which
parts are documents, when the text is one, and what is kept of a broken mail."""

import logging
from email.message import EmailMessage
from email.policy import SMTP

import pypdfium2 as pdfium

from refloop.intake import emails

from .helpers import blank_png, referral_pdf


def message(text: str = "", subtype: str = "plain") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Dr. Ines Albrecht <ines@northside-clinic.example>"
    mail["Subject"] = "Referral"
    mail["Message-ID"] = "<ref-1@northside-clinic.example>"
    if text:
        mail.set_content(text, subtype=subtype)
    return mail


def text_of(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_a_logo_the_html_shows_is_not_a_document_but_an_attached_pdf_is():
    mail = message("Please see the attached referral.")
    mail.add_alternative("<p>Please see the attached referral.</p><img src='cid:logo'>", "html")
    html = mail.get_payload()[1]
    html.add_related(blank_png(40, 20), "image", "png", cid="<logo>")
    mail.add_attachment(referral_pdf(), "application", "pdf", filename="referral.pdf")

    letter = emails.read(mail.as_bytes(policy=SMTP))

    assert [part.name for part in letter.parts] == ["referral.pdf"]


def test_an_attachment_of_a_forwarded_mail_is_taken():
    forwarded = message("See below.")
    forwarded.add_attachment(referral_pdf(), "application", "pdf", filename="fax.pdf")
    mail = message("Forwarding the fax we received.")
    mail.add_attachment(forwarded)

    letter = emails.read(mail.as_bytes(policy=SMTP))

    assert [part.name for part in letter.parts] == ["fax.pdf"]
    assert letter.parts[0].content.startswith(b"%PDF-")


def test_a_signature_of_a_signed_mail_is_not_a_document():
    mail = message("Referral attached.")
    mail.add_attachment(referral_pdf(), "application", "pdf", filename="referral.pdf")
    mail.add_attachment(
        b"0\x82\x01signature", "application", "pkcs7-signature", filename="smime.p7s"
    )

    letter = emails.read(mail.as_bytes(policy=SMTP))

    assert [part.name for part in letter.parts] == ["referral.pdf"]


def test_an_attachment_refloop_cannot_read_is_kept_and_the_text_beside_it_too():
    mail = message("Patient: Ada Quist, DOB 1970-03-04. Reason: chest pain.")
    mail.add_attachment(b"PK\x03\x04 a word file", "application", "octet-stream", filename="r.docx")

    letter = emails.read(mail.as_bytes(policy=SMTP))

    assert [part.name for part in letter.parts] == ["r.docx", emails.BODY_NAME]
    assert "Reason: chest pain." in text_of(letter.parts[1].content)


def test_an_html_mail_is_kept_as_its_words_without_markup_or_script():
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Patient: Ada Quist</p><table><tr><td>DOB</td><td>03/04/1970</td></tr></table>"
        "<script>track()</script><p>Reason: chest pain &amp; dyspnea</p></body></html>"
    )

    letter = emails.read(message(html, subtype="html").as_bytes(policy=SMTP))

    text = text_of(letter.parts[0].content)
    assert "Patient: Ada Quist" in text
    assert "DOB 03/04/1970" in " ".join(text.split())
    assert "Reason: chest pain & dyspnea" in text
    assert "track" not in text and "color" not in text and "<" not in text


def test_characters_the_font_lacks_are_replaced_and_never_logged(caplog):
    caplog.set_level(logging.DEBUG)

    # DejaVu has no CJK characters: fpdf2 would log each one it cannot draw.
    letter = emails.read(message("Ada Quist (\u674e\u660e) needs a cardiology visit").as_bytes())

    assert "Ada Quist (??) needs a cardiology visit" in text_of(letter.parts[0].content)
    assert "\u674e" not in caplog.text and "674E" not in caplog.text.upper()
    assert "missing" not in caplog.text


def test_a_mail_with_neither_attachment_nor_text_has_no_document():
    assert emails.read(message("  \n ").as_bytes()).parts == []


def test_encoded_sender_and_subject_are_decoded_and_control_characters_dropped():
    raw = (
        b"From: =?utf-8?q?Dr=2E_Ren=C3=A9e_Pe=C3=B1a?= <renee@clinic.example>\r\n"
        b"Subject: =?utf-8?b?UmVmZXJyYWw6IErDvHJnZW4=?=\x07 for review\r\n"
        b"\r\nSee attached.\r\n"
    )

    headers = emails.read(raw).headers

    assert headers.sender == '"Dr. Renée Peña" <renee@clinic.example>'
    assert headers.subject == "Referral: Jürgen for review"


def test_the_key_knows_a_message_resent_with_new_headers_but_not_a_reused_message_id():
    headers = emails.Headers("a", "b", "<fax-1@relay.example>")
    spaced = emails.Headers("c", "d", " <fax-1@relay.example> ")
    without = emails.Headers("a", "b", "")
    sent = b"Message-ID: <fax-1@relay.example>\r\nTo: a@b\r\n\r\nfax one"
    relayed = b"Received: by relay\r\nMessage-ID: <fax-1@relay.example>\r\n\r\nfax one"
    other_fax = b"Message-ID: <fax-1@relay.example>\r\nTo: a@b\r\n\r\nfax two"

    assert emails.message_key(headers, sent) == emails.message_key(spaced, relayed)
    assert emails.message_key(headers, sent) != emails.message_key(headers, other_fax)
    assert emails.message_key(without, sent) == emails.message_key(without, relayed)
    assert emails.message_key(without, sent) != emails.message_key(headers, sent)
