"""The one interface every channel implements, and the two ways a send can fail."""

from dataclasses import dataclass, field
from typing import Protocol


class DeliveryFailure(Exception):
    """A send did not go through. `reason` is shown to staff, so it never names the patient."""

    retry = False

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryFailure):
    """Worth trying again later: a timeout, a busy server, a provider's 5xx."""

    retry = True


class PermanentFailure(DeliveryFailure):
    """Trying again will not help: a bounced address, a number the provider refuses."""


def delivery_key(message_pk: int) -> str:
    """A message's identity towards the outside world: the same on every attempt."""
    return f"refloop-message-{message_pk}"


@dataclass(frozen=True)
class Envelope:
    """Everything a transport needs to deliver one message."""

    message_id: int
    to: str
    subject: str
    body: str
    # Stable per outbox row, so a message re-sent after a crash carries the same identity
    # (an email's Message-ID header, an SMS provider's idempotency key, a fax file's name).
    delivery_key: str
    recipient_label: str = ""
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


class Transport(Protocol):
    """Open once per batch, send many, close. `send` returns the provider's id, if any."""

    channel: str

    def open(self) -> None: ...

    def send(self, envelope: Envelope) -> str: ...

    def close(self) -> None: ...
