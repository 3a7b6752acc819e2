"""A row's states in time order, checked against the inbound lifecycle (lifecycle.INBOUND).

`rescheduled_at` is `scheduled` reached a second time, after a no-show. The file keeps
only the first time of each state, so a referral that went back to a state
(pending_info -> in_review -> accepted) shows as pending_info then accepted: a step is
allowed when a state reached earlier joins the two.
"""

from collections.abc import Callable
from datetime import datetime

from refloop.history.layout import RESCHEDULED, STATE_COLUMNS, TERMINAL_COLUMNS, state_words
from refloop.referrals.lifecycle import INBOUND
from refloop.referrals.models import State

# Each state column, in the lifecycle's usual order; the order breaks ties between equal
# times and tells "out of order" from "a step is missing".
STATE_OF = {c.name: c.state for c in STATE_COLUMNS}
RANK = {c.name: position for position, c in enumerate(STATE_COLUMNS)}

# (state, column, time, the state it was reached from), after `received`, by time.
Step = tuple[str, str, datetime, str]


def path(times: dict[str, datetime], show: Callable[[datetime], str]) -> tuple[list[Step], str]:
    """The steps the row's times describe, or ([], what is wrong) the first place they do
    not follow the lifecycle. `times` holds every time column filled in (received_at
    first in time); `show` writes a time as messages quote it."""
    reached = sorted((at, RANK[column], column) for column, at in times.items() if column in RANK)
    terminals = [column for column in TERMINAL_COLUMNS if column in times]
    if len(terminals) > 1:
        return [], _ends_twice(terminals)
    steps: list[Step] = []
    visited: list[str] = [State.RECEIVED]
    previous_column = "received_at"
    for at, _, column in reached[1:]:
        state = STATE_OF[column]
        target = State.SCHEDULED if state == RESCHEDULED else state
        origin = _origin(visited[-1], target, visited)
        if origin is None:
            return [], _out_of_order(previous_column, column, times, show)
        steps.append((target, column, at, origin))
        visited.append(target)
        previous_column = column
    contact = times.get("first_contact_at")
    if contact is not None and terminals and contact > times[terminals[0]]:
        end = terminals[0]
        return [], (
            f"first_contact_at ({show(contact)}) is after {end} ({show(times[end])}); "
            "contact attempts happen while the referral is open."
        )
    return steps, ""


def _ends_twice(terminals: list[str]) -> str:
    if len(terminals) == 2:
        return (
            f"{terminals[0]} and {terminals[1]} are both filled in, but a referral ends only "
            "once; keep the one that happened and clear the other."
        )
    return (
        f"{', '.join(terminals[:-1])} and {terminals[-1]} are all filled in, but a referral "
        "ends only once; keep the one that happened and clear the others."
    )


def _origin(previous: str, target: str, visited: list[str]) -> str | None:
    """The state `target` was reached from: `previous` if the lifecycle allows the move,
    else a state reached before that the referral must have gone back to; None if neither."""
    if target in INBOUND[previous]:
        return previous
    for earlier in reversed(visited):
        if earlier in INBOUND[previous] and target in INBOUND[earlier]:
            return earlier
    return None


def _out_of_order(
    earlier: str, later: str, times: dict[str, datetime], show: Callable[[datetime], str]
) -> str:
    """Why `later` cannot follow `earlier` (the times sort them so)."""
    first, then = STATE_OF[earlier], STATE_OF[later]
    shown_first = f"{earlier} ({show(times[earlier])})"
    shown_then = f"{later} ({show(times[later])})"
    if earlier in TERMINAL_COLUMNS:
        return (
            f"{shown_then} is after {shown_first}; {state_words(first)} is final, so "
            "nothing can follow it. Correct the times or clear one of them."
        )
    if then == RESCHEDULED:
        return (
            f"{shown_then} comes right after {shown_first} with no no_show_at between; "
            "rescheduled_at is the booking after a no-show, so fill in no_show_at or "
            "clear rescheduled_at."
        )
    if RANK[later] < RANK[earlier]:
        return (
            f"{shown_first} is before {shown_then}; {state_words(first)} comes after "
            f"{state_words(then)}."
        )
    missing = _step_between(first, then)
    hint = f" fill in {missing}_at, or" if missing else ""
    return (
        f"{shown_then} follows {shown_first}, but a referral cannot go from "
        f"{state_words(first)} straight to {state_words(then)};{hint} correct the times."
    )


def _step_between(first: str, then: str) -> str | None:
    """A state that would join `first` to `then` (received -> scheduled: accepted)."""
    target = State.SCHEDULED if then == RESCHEDULED else then
    for middle in INBOUND[first]:
        if target in INBOUND[middle]:
            return middle
    return None
