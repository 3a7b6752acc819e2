"""Service-recovery cases: opening one (from a low score, a complaining comment, a phone
call, the portal, an office survey, in person) and each move on it (acknowledge, reassign,
resolve, close, reopen). States: open -> acknowledged -> resolved -> closed.

Every write locks the case, checks its state, records the `case.*` event on the case's
timeline and the audit entry in the same transaction. A case never touches a review
invitation: holding those back from unhappy patients is the gating the FTC rule forbids.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from refloop.advocacy import case_clocks
from refloop.advocacy.events import record_event
from refloop.advocacy.models import (
    EVENT_FREE_TEXT,
    AdvocacyEvent,
    Case,
    CaseCategory,
    CaseOutcome,
    CaseSource,
    CaseState,
    Response,
)
from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from refloop.core.models import User
from refloop.core.roles import Capability, can

SUMMARY_MAX = 4000
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_case_number() -> str:
    # Random, like referral numbers: a number said on the phone reveals no volume.
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"C-{body[:4]}-{body[4:]}"


def _check_handler(user: User | None) -> None:
    if user is not None and not can(user, Capability.HANDLE_FEEDBACK):
        raise NotAllowed("Only staff who handle patient feedback work cases.")


def _check_owner(owner: User | None) -> None:
    if owner is not None and (not owner.is_active or not can(owner, Capability.HANDLE_FEEDBACK)):
        raise InvalidInput(
            "Choose someone who handles patient feedback (an admin, a coordinator or a "
            "clinician) as the owner.",
            field="owner",
        )


def _check_portal(user: User | None, referral) -> object:
    """A complaint from the portal comes from a portal user, about their own practice's
    referral if any: another practice's is answered as one that does not exist."""
    if user is None or not can(user, Capability.USE_PORTAL) or user.partner_practice_id is None:
        raise NotAllowed("Only staff of a referring practice send feedback from the portal.")
    if referral is not None and (
        referral.direction != "inbound"
        or referral.referring_practice_id != user.partner_practice_id
    ):
        raise NotFound("No referral from your practice has that number.", field="referral")
    return user.partner_practice


def default_owner(*, referral=None, department=None) -> User | None:
    """Who a new case goes to: the referral's assignee, else the department's point of
    contact, else nobody (the list's unassigned cases)."""
    if referral is not None:
        assignee = referral.assignee
        if (
            assignee is not None
            and assignee.is_active
            and can(assignee, Capability.HANDLE_FEEDBACK)
        ):
            return assignee
        department = department or referral.department
    contact = department.point_of_contact if department is not None else None
    if contact is not None and contact.is_active and can(contact, Capability.HANDLE_FEEDBACK):
        return contact
    return None


def _text(value: str, field: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(missing, field=field)
    if len(value) > SUMMARY_MAX:
        raise InvalidInput(f"Please keep it under {SUMMARY_MAX} characters.", field=field)
    return value


def open_case(
    *,
    acting_user: User | None,
    source: str,
    category: str,
    summary: str,
    now: datetime,
    referral=None,
    patient=None,
    referring_practice=None,
    response: Response | None = None,
    department=None,
    owner: User | None = None,
    client_key: str | None = None,
    client_fingerprint: str = "",
) -> Case:
    """Open a case. `acting_user` is None when the system opens it (a survey's answer);
    a portal user opens one with source portal. The owner defaults as `default_owner` says.
    `client_key` is an API client's Idempotency-Key, kept so a retry finds this case."""
    if source not in CaseSource.values:
        raise InvalidInput("Say where the complaint came from.", field="source")
    if category not in CaseCategory.values:
        raise InvalidInput("Choose a category for the complaint.", field="category")
    if source == CaseSource.PORTAL:
        referring_practice = _check_portal(acting_user, referral)
    else:
        _check_handler(acting_user)
    summary = _text(summary, "summary", "Say what the complaint is about: the summary is empty.")
    if referral is not None:
        patient = patient or referral.patient
        department = department or referral.department
        referring_practice = referring_practice or referral.referring_practice
    if owner is None:
        owner = default_owner(referral=referral, department=department)
    else:
        _check_owner(owner)
    with transaction.atomic():
        for _ in range(5):
            try:
                with transaction.atomic():
                    case = Case.objects.create(
                        number=new_case_number(),
                        source=source,
                        category=category,
                        summary=summary,
                        patient=patient,
                        referral=referral,
                        referring_practice=referring_practice,
                        response=response,
                        department=department,
                        owner=owner,
                        opened_by=acting_user,
                        opened_at=now,
                        acknowledge_by=case_clocks.acknowledge_by(now),
                        resolve_by=case_clocks.resolve_by(now),
                        client_key=client_key,
                        client_fingerprint=client_fingerprint,
                    )
                break
            except IntegrityError:  # the number was taken: draw another
                if client_key and Case.objects.filter(client_key=client_key).exists():
                    raise Conflict(
                        "A request with this Idempotency-Key was being handled at the same "
                        "time; send it again to get its answer."
                    ) from None
                continue
        else:
            raise Conflict("Could not number the case. Please try again.")
        record_event(
            "case.opened",
            actor=acting_user,
            at=now,
            case=case,
            data={
                "source": source,
                "category": category,
                "owner": owner.pk if owner is not None else None,
            },
        )
        audit.record("case.opened", case.audit_touch(), actor=acting_user, now=now)
    return case


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _require(case: Case, *states: str, refusal: str) -> None:
    if case.state not in states:
        raise Conflict(refusal.format(state=CaseState(case.state).label.lower()))


def _done(case: Case, kind: str, *, acting_user: User, now: datetime, fields, data=None) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])
    record_event(kind, actor=acting_user, at=now, case=case, data=data or {})
    # The audit log keeps codes and ids only: a note or a reason may name the patient.
    detail = {k: v for k, v in (data or {}).items() if k not in EVENT_FREE_TEXT}
    audit.record(kind, case.audit_touch(), actor=acting_user, detail=detail or None, now=now)


def acknowledge(case: Case, *, acting_user: User, now: datetime, note: str = "") -> Case:
    """The owner (or anyone handling feedback) has been in touch: stops the first clock."""
    _check_handler(acting_user)
    with transaction.atomic():
        case = _locked(case)
        _require(
            case,
            CaseState.OPEN,
            refusal="This case is {state}: only an open case can be acknowledged.",
        )
        case.state = CaseState.ACKNOWLEDGED
        case.acknowledged_at = now
        if case.owner_id is None:
            case.owner = acting_user
        _done(
            case,
            "case.acknowledged",
            acting_user=acting_user,
            now=now,
            fields=["state", "acknowledged_at", "owner"],
            data={"note": note.strip()[:500]} if note.strip() else None,
        )
    return case


def reassign(case: Case, *, acting_user: User, owner: User | None, now: datetime) -> Case:
    _check_handler(acting_user)
    _check_owner(owner)
    with transaction.atomic():
        case = _locked(case)
        _require(
            case,
            CaseState.OPEN,
            CaseState.ACKNOWLEDGED,
            refusal="This case is {state}: reopen it before giving it to someone else.",
        )
        if case.owner_id == (owner.pk if owner else None):
            raise Conflict("The case is already theirs.")
        previous = case.owner_id
        case.owner = owner
        _done(
            case,
            "case.reassigned",
            acting_user=acting_user,
            now=now,
            fields=["owner"],
            data={"from": previous, "to": owner.pk if owner else None},
        )
    return case


def resolve(
    case: Case, *, acting_user: User, outcome: str, action_taken: str, now: datetime
) -> Case:
    _check_handler(acting_user)
    if outcome not in CaseOutcome.values:
        raise InvalidInput("Choose how the case ended.", field="outcome")
    action_taken = _text(
        action_taken, "action_taken", "Say what was done for the person: it is empty."
    )
    with transaction.atomic():
        case = _locked(case)
        _require(
            case,
            CaseState.ACKNOWLEDGED,
            refusal="This case is {state}: acknowledge it before resolving it.",
        )
        case.state = CaseState.RESOLVED
        case.resolved_at = now
        case.outcome = outcome
        case.action_taken = action_taken
        _done(
            case,
            "case.resolved",
            acting_user=acting_user,
            now=now,
            fields=["state", "resolved_at", "outcome", "action_taken"],
            data={"outcome": outcome},
        )
    return case


def close(case: Case, *, acting_user: User, now: datetime) -> Case:
    _check_handler(acting_user)
    with transaction.atomic():
        case = _locked(case)
        _require(
            case,
            CaseState.RESOLVED,
            refusal="This case is {state}: only a resolved case can be closed.",
        )
        case.state = CaseState.CLOSED
        case.closed_at = now
        _done(case, "case.closed", acting_user=acting_user, now=now, fields=["state", "closed_at"])
    return case


def reopen(case: Case, *, acting_user: User, reason: str, now: datetime) -> Case:
    """A resolved case that was not: back to acknowledged, the outcome kept on the timeline."""
    _check_handler(acting_user)
    reason = _text(reason, "reason", "Say why the case is reopened.")
    with transaction.atomic():
        case = _locked(case)
        _require(
            case,
            CaseState.RESOLVED,
            refusal="This case is {state}: only a resolved case can be reopened.",
        )
        case.state = CaseState.ACKNOWLEDGED
        case.resolved_at = None
        case.outcome = ""
        _done(
            case,
            "case.reopened",
            acting_user=acting_user,
            now=now,
            fields=["state", "resolved_at", "outcome"],
            data={"reason": reason[:500]},
        )
    return case


def record_overdue(case: Case, *, clock: str, now: datetime) -> bool:
    """Record `case.<clock>_overdue` once per case and clock (the sweep's write); False when
    it already was, or the clock has stopped meanwhile."""
    kind = f"case.{clock}_overdue"
    with transaction.atomic():
        case = _locked(case)
        if not Case.objects.filter(case_clocks.overdue_filter(now, clock), pk=case.pk).exists():
            return False
        if AdvocacyEvent.objects.filter(case=case, kind=kind).exists():
            return False
        due = case.acknowledge_by if clock == case_clocks.ACKNOWLEDGE else case.resolve_by
        record_event(kind, actor=None, at=now, case=case, data={"due_at": due.isoformat()})
        audit.record(kind, case.audit_touch(), actor=None, now=now)
    return True


# ---------------------------------------------------------------- the moves, in one table


@dataclass(frozen=True)
class Move:
    key: str
    label: str
    from_states: tuple[str, ...]
    needs: tuple[str, ...] = ()  # the fields the form asks for


MOVES: dict[str, Move] = {
    move.key: move
    for move in [
        Move("acknowledge", "Acknowledge", (CaseState.OPEN,), ("note",)),
        Move("reassign", "Give to", (CaseState.OPEN, CaseState.ACKNOWLEDGED), ("owner",)),
        Move("resolve", "Resolve", (CaseState.ACKNOWLEDGED,), ("outcome", "action_taken")),
        Move("close", "Close", (CaseState.RESOLVED,)),
        Move("reopen", "Reopen", (CaseState.RESOLVED,), ("reason",)),
    ]
}


def moves_for(case: Case, user: User) -> list[Move]:
    if not can(user, Capability.HANDLE_FEEDBACK):
        return []
    return [m for m in MOVES.values() if case.state in m.from_states]


def apply_move(key: str, case: Case, *, acting_user: User, now: datetime, **fields) -> Case:
    """Run the move named `key` with the fields it needs (the page's one entry point)."""
    if key not in MOVES:
        raise InvalidInput("That is not something a case can do.", field="move")
    if key == "acknowledge":
        return acknowledge(case, acting_user=acting_user, now=now, note=fields.get("note") or "")
    if key == "reassign":
        return reassign(case, acting_user=acting_user, owner=fields.get("owner"), now=now)
    if key == "resolve":
        return resolve(
            case,
            acting_user=acting_user,
            outcome=fields.get("outcome") or "",
            action_taken=fields.get("action_taken") or "",
            now=now,
        )
    if key == "close":
        return close(case, acting_user=acting_user, now=now)
    return reopen(case, acting_user=acting_user, reason=fields.get("reason") or "", now=now)
