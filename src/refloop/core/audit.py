"""The append-only audit log: who touched which patient's data, how, when, from where."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from django.utils import timezone

from refloop.core import audit_chain, context
from refloop.core.errors import NotFound
from refloop.core.models import AuditEntry
from refloop.core.validation import fits_db_int


@dataclass(frozen=True)
class Touch:
    """One object read or written, with the patient and referral it belongs to."""

    object_type: str
    object_id: object
    patient_id: int | None = None
    referral_id: int | None = None


class _OfPatient(Protocol):
    @property
    def patient_id(self) -> int | None: ...


class OnReferral(Protocol):
    """A row that belongs to a referral (perhaps not yet): a document, a message, a link."""

    @property
    def pk(self) -> Any: ...

    @property
    def referral_id(self) -> int | None: ...

    @property
    def referral(self) -> _OfPatient | None: ...


def touch_on_referral(object_type: str, row: OnReferral) -> Touch:
    """The audit log's handle on `row`, with the referral it belongs to and its patient."""
    referral = row.referral
    return Touch(
        object_type,
        row.pk,
        patient_id=referral.patient_id if referral is not None else None,
        referral_id=row.referral_id,
    )


def _label(actor) -> str:
    if actor is None:
        return "system:" + context.current().channel
    return actor.get_username()


def record(action: str, touch: Touch, *, actor, detail: dict | None = None, now=None) -> AuditEntry:
    return record_many(action, [touch], actor=actor, detail=detail, now=now)[0]


def record_many(
    action: str, touches: Iterable[Touch], *, actor, detail: dict | None = None, now=None
) -> list[AuditEntry]:
    """Write one entry per object in a single INSERT (a list page audits every row it shows),
    linked into this writer's hash chain."""
    at = now or timezone.now()
    return record_each([(action, t, actor, detail, at) for t in touches])


def record_each(records: Iterable[tuple[str, Touch, Any, dict | None, Any]]) -> list[AuditEntry]:
    """Write entries of different actions, actors and times, (action, touch, actor, detail,
    at), in a single INSERT and one link into the hash chain: a write that appends several
    timeline events (an intake: received, assigned, triaged) pays for the chain once."""
    ctx = context.current()
    entries = [
        AuditEntry(
            at=at,
            actor=actor if actor is not None and actor.pk else None,
            actor_label=_label(actor),
            action=action,
            object_type=t.object_type,
            object_id=str(t.object_id),
            patient_id=t.patient_id,
            referral_id=t.referral_id,
            ip_address=ctx.ip_address,
            channel=ctx.channel,
            detail=detail or {},
        )
        for action, t, actor, detail, at in records
    ]
    return audit_chain.append(entries)


def refused(object_type: str, requested_id: object, *, referral_id: object = None) -> Touch:
    """The Touch of a refused read, built so that writing it cannot fail on the request's
    input: the id as asked for is kept as text within the column, and the referral only when
    it is an id a row could have."""
    limit = AuditEntry._meta.get_field("object_id").max_length
    return Touch(
        object_type,
        str(requested_id)[:limit],
        referral_id=referral_id if fits_db_int(referral_id) else None,
    )


def refuse_read(
    object_type: str, requested_id: object, message: str, *, actor, referral_id=None, now=None
) -> NoReturn:
    """Record the refused read of one object ("<object_type>.read_denied") and raise
    NotFound(message): whether it does not exist or is not the user's, the answer is the
    same, and the attempt is recorded either way."""
    touch = refused(object_type, requested_id, referral_id=referral_id)
    record(f"{object_type}.read_denied", touch, actor=actor, now=now)
    raise NotFound(message)
