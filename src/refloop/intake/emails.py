"""What an emailed packet holds, read from the message's bytes: the documents to ingest
(its attachments, or its text as a PDF page when the text is the referral itself), who sent
it, its subject, and the key that recognises the same message delivered again.

Pure: no mailbox, no database. `refloop.intake.mailbox` fetches messages and stores what
this finds. Nothing here logs: sender, subject, file names and text are patient data.
"""

import hashlib
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html.parser import HTMLParser

from refloop.core import uploads
from refloop.core.pdf import FONT, OnePager

BODY_NAME = "email-text.pdf"
MESSAGE_NAME = "email.eml"
# The parts of a mail that carry no document: signatures of signed mail.
SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
# Defects that leave the parser unable to find the parts: the message is kept whole.
BROKEN_STRUCTURE = (
    errors.NoBoundaryInMultipartDefect,
    errors.StartBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
)
BROKEN_ENCODING = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)
HEADER_LIMIT = 500  # characters of a sender or subject kept


@dataclass(frozen=True)
class Part:
    """One document to ingest: an attachment, the message's text as a PDF, or the whole
    message when its parts cannot be found."""

    name: str
    content: bytes
    refused: str = ""  # why it cannot be read as sent (broken encoding, broken message)


@dataclass(frozen=True)
class Headers:
    sender: str
    subject: str
    message_id: str  # as sent, "" when missing


@dataclass
class Letter:
    headers: Headers
    key: str
    parts: list[Part] = field(default_factory=list)


def parse_headers(raw: bytes) -> Headers:
    """Sender, subject and Message-ID from a message's header block (or the whole message)."""
    message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    return _headers(message)


def message_key(headers: Headers, raw: bytes) -> str:
    """The same message delivered twice has the same key: its Message-ID with its content
    (the bytes after the header block, which a relay leaves alone while it adds headers), or
    without a Message-ID its content alone. The content is in the key because some senders
    reuse a Message-ID: two faxes under one must both be taken."""
    message_id = "".join(headers.message_id.split())
    content = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[-1]
    digest = hashlib.sha256()
    for piece in (message_id.encode(), hashlib.sha256(content).digest()):
        digest.update(len(piece).to_bytes(4, "big") + piece)
    return digest.hexdigest()


def unfetched_key(headers: Headers, header: bytes, size: int) -> str:
    """The key of a message too large to fetch: its Message-ID and size, or without one its
    header block and size."""
    message_id = "".join(headers.message_id.split())
    seen = message_id.encode() if message_id else header
    return hashlib.sha256(b"unfetched:%d:" % size + seen).hexdigest()


def read(raw: bytes) -> Letter:
    """The documents in a message: each attachment (whatever its type: the upload check
    judges it), and the text as a PDF page when no attachment is a document refloop reads.
    A message whose parts cannot be found is kept whole, as received, with the reason."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = _headers(message)
    letter = Letter(headers=headers, key=message_key(headers, raw))
    if any(isinstance(d, BROKEN_STRUCTURE) for part in message.walk() for d in part.defects):
        letter.parts.append(
            Part(
                MESSAGE_NAME,
                raw,
                refused="The email is broken: its parts (text and attachments) could not be "
                "told apart. The file here is the email as received; the message itself is "
                "in the mailbox's problem folder.",
            )
        )
        return letter
    texts: list[EmailMessage] = []
    for part in _leaves(message):
        if _is_text(part):
            texts.append(part)
        elif part.get_content_type() not in SIGNATURE_TYPES:
            letter.parts.append(_attachment(part, number=len(letter.parts) + 1))
    if not any(_readable(p) for p in letter.parts):
        text = _text_of(texts)
        if text.strip():
            letter.parts.append(Part(BODY_NAME, body_pdf(text)))
    return letter


def body_pdf(text: str) -> bytes:
    """The message's text on Letter pages, as a born-digital PDF the reader takes as it
    takes a faxed form."""
    pdf = OnePager("Received by email")
    pdf.add_page()
    pdf.set_font(FONT, "", 10.5)
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).strip()
    pdf.line_of(pdf.drawable(text), size=10.5, height=5.2)
    return bytes(pdf.output())


def _headers(message: Message) -> Headers:
    return Headers(
        sender=_header(message, "From"),
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID"),
    )


def _header(message: Message, name: str) -> str:
    try:
        value = str(message.get(name) or "")
    except (errors.HeaderParseError, IndexError, ValueError, TypeError):
        # The stdlib's structured header parser raises on some malformed headers; the
        # header as sent, its encoded words decoded where they decode, serves instead.
        value = _unstructured(message, name)
    value = " ".join("".join(ch for ch in value if ch.isprintable() or ch == " ").split())
    return value[:HEADER_LIMIT]


def _unstructured(message: Message, name: str) -> str:
    raw = next((value for key, value in message.raw_items() if key.lower() == name.lower()), "")
    try:
        return str(make_header(decode_header(str(raw))))
    except (errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        return str(raw)


def _leaves(part: Message, *, related: bool = False):
    """The message's parts that hold content, forwarded messages' included, without the
    pictures an HTML text shows (an image with a Content-ID in multipart/related: a logo)."""
    if part.is_multipart():
        related = part.get_content_type() == "multipart/related"
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _leaves(child, related=related)
    elif not (related and part.get_content_maintype() == "image" and part["Content-ID"]):
        yield part


def _is_text(part: EmailMessage) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _attachment(part: EmailMessage, *, number: int) -> Part:
    name = uploads.display_name(part.get_filename() or f"attachment-{number}")
    content = _payload(part)
    if any(isinstance(d, BROKEN_ENCODING) for d in part.defects):
        encoded = part.get_payload(decode=False)
        return Part(
            name,
            encoded.encode("ascii", "replace") if isinstance(encoded, str) else content,
            refused=f"Attachment {number} of the email could not be decoded (its base64 "
            "encoding is broken), so it cannot be read. The file here is the attachment as "
            "it was encoded; the message itself is in the mailbox's problem folder.",
        )
    return Part(name, content)


def _readable(part: Part) -> bool:
    return not part.refused and uploads.sniff_content_type(part.content[:16]) is not None


def _text_of(texts: list[EmailMessage]) -> str:
    plain = [p for p in texts if p.get_content_type() == "text/plain"]
    for part in plain or texts:
        text = _decoded(part)
        if part.get_content_type() == "text/html":
            text = html_to_text(text)
        if text.strip():
            return text
    return ""


def _decoded(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        return _payload(part).decode("utf-8", "replace")


def _payload(part: Message) -> bytes:
    """A leaf part's content, its transfer encoding undone (as well as it can be)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


class _TextOfHtml(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "ul"})
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BREAKS:
            self.chunks.append("\n")
        elif tag == "td":
            self.chunks.append("  ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """The words of an HTML mail, a line per block, without its markup or scripts."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    text = "".join(parser.chunks)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
