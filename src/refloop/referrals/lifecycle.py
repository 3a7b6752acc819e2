"""The referral state machines of docs/design.md, in one place."""

from refloop.core.errors import Conflict
from refloop.referrals.models import Direction, State

S = State

INBOUND: dict[str, tuple[str, ...]] = {
    S.RECEIVED: (S.IN_REVIEW, S.PENDING_INFO, S.ACCEPTED, S.DECLINED, S.CANCELLED),
    S.IN_REVIEW: (S.PENDING_INFO, S.ACCEPTED, S.DECLINED, S.CANCELLED),
    S.PENDING_INFO: (S.IN_REVIEW, S.DECLINED, S.CANCELLED),
    S.ACCEPTED: (S.CONTACTING, S.SCHEDULED, S.CANCELLED),
    S.DECLINED: (),
    S.CONTACTING: (S.SCHEDULED, S.UNREACHABLE, S.CANCELLED),
    S.SCHEDULED: (S.SEEN, S.NO_SHOW, S.CANCELLED),
    S.NO_SHOW: (S.CONTACTING, S.SCHEDULED, S.UNREACHABLE, S.CANCELLED),
    S.SEEN: (S.LOOP_CLOSED,),
    S.LOOP_CLOSED: (),
    S.UNREACHABLE: (),
    S.CANCELLED: (),
}

OUTBOUND: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.SENT, S.CANCELLED),
    S.SENT: (S.ACCEPTED, S.DECLINED, S.CANCELLED),
    S.ACCEPTED: (S.SCHEDULED, S.CANCELLED),
    S.DECLINED: (),
    S.SCHEDULED: (S.COMPLETED, S.CANCELLED),
    S.COMPLETED: (),
    S.CANCELLED: (),
}

# FHIR Task.status (businessStatus) and 360X for each inbound state, for the interop work.
FHIR_TASK_STATUS: dict[str, tuple[str, str | None, str]] = {
    S.RECEIVED: ("received", None, "Initiated"),
    S.IN_REVIEW: ("received", "in-review", "Initiated"),
    S.PENDING_INFO: ("on-hold", None, "Initiated"),
    S.ACCEPTED: ("accepted", None, "Accepted"),
    S.DECLINED: ("rejected", None, "Declined"),
    S.CONTACTING: ("in-progress", "contacting", "Accepted"),
    S.SCHEDULED: ("in-progress", "scheduled", "InterimCommunicated"),
    S.NO_SHOW: ("in-progress", "no-show", "InterimCommunicated"),
    S.SEEN: ("in-progress", "seen", "InterimCommunicated"),
    S.LOOP_CLOSED: ("completed", None, "Finalized"),
    S.UNREACHABLE: ("failed", None, "Declined"),
    S.CANCELLED: ("cancelled", None, "CancelConfirmed"),
}


def table(direction: str) -> dict[str, tuple[str, ...]]:
    return INBOUND if direction == Direction.INBOUND else OUTBOUND


def allowed_next(direction: str, state: str) -> tuple[str, ...]:
    return table(direction)[state]


def is_open(direction: str, state: str) -> bool:
    return bool(allowed_next(direction, state))


def open_states(direction: str) -> list[str]:
    return [state for state, nexts in table(direction).items() if nexts]


def terminal_states(direction: str) -> list[str]:
    return [state for state, nexts in table(direction).items() if not nexts]


# The inbound states a referral is still being worked in, and the ones it was lost in
# (docs/design.md's "lost referrals"): every page, sweep and metric reads these two.
OPEN: tuple[str, ...] = tuple(open_states(Direction.INBOUND))
LOST: tuple[str, ...] = (S.DECLINED, S.UNREACHABLE, S.CANCELLED)
# Open states whose next step is someone else's: the referring office's records
# (pending_info) or the booked visit (scheduled). Their clocks still run and show, but the
# worklist does not put them before work the practice can do now.
WAITING_ON_OTHERS: tuple[str, ...] = (S.PENDING_INFO, S.SCHEDULED)


def check(direction: str, current: str, to: str) -> None:
    """Raise Conflict with a sentence naming the current state and what may follow."""
    nexts = allowed_next(direction, current)
    if to in nexts:
        return
    if not nexts:
        raise Conflict(f"This referral is {current}, which is final; it cannot move to {to}.")
    options = _words(nexts)
    raise Conflict(
        f"This referral is {current}; it cannot move to {to}. From {current} it can move to {options}."
    )


def _words(states: tuple[str, ...]) -> str:
    if len(states) == 1:
        return states[0]
    return ", ".join(states[:-1]) + " or " + states[-1]
