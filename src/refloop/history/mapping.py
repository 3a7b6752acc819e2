"""The value-mapping step: a practice's own wording for sources, channels, departments,
urgencies and reasons, mapped once to refloop's values and remembered for later files.

A mapping is read from the database (ValueMapping) and, for the command, from a mapping
file (--map): CSV with the columns kind, original, value, or JSON {kind: {original: value}}.
"""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from django.db import transaction
from django.utils import timezone

from refloop.history.models import MappedKind, ValueMapping, original_key
from refloop.practice.models import Department, Organization
from refloop.referrals.models import (
    CancelReason,
    DeclineReason,
    ReferralChannel,
    SourceType,
    State,
    UnreachableReason,
    Urgency,
)

# The reasons' kind for each final state that needs one.
REASON_KIND: dict[str, str] = {
    State.DECLINED: MappedKind.DECLINE_REASON,
    State.UNREACHABLE: MappedKind.UNREACHABLE_REASON,
    State.CANCELLED: MappedKind.CANCEL_REASON,
}
KINDS = tuple(MappedKind.values)

Mappings = dict[tuple[str, str], str]  # (kind, original_key) -> refloop value


@dataclass(frozen=True)
class UnknownValue:
    kind: str
    original: str  # as first written in the file
    count: int  # rows that use it

    def as_dict(self) -> dict:
        return {"kind": self.kind, "original": self.original, "count": self.count}


class MappingFileProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def allowed_values(kind: str) -> tuple[str, ...]:
    """What a value of `kind` may be mapped to."""
    if kind == MappedKind.DEPARTMENT:
        return tuple(Department.objects.order_by("code").values_list("code", flat=True))
    choices = {
        MappedKind.SOURCE_TYPE: SourceType,
        MappedKind.CHANNEL: ReferralChannel,
        MappedKind.URGENCY: Urgency,
        MappedKind.DECLINE_REASON: DeclineReason,
        MappedKind.UNREACHABLE_REASON: UnreachableReason,
        MappedKind.CANCEL_REASON: CancelReason,
    }[MappedKind(kind)]
    return tuple(choices.values)


def remembered() -> Mappings:
    """The practice's mappings so far."""
    rows = ValueMapping.objects.filter(organization=Organization.current())
    return {(kind, key): value for kind, key, value in rows.values_list("kind", "key", "value")}


def read_mapping_file(content: bytes, file_name: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, key) -> (original, value) from a mapping file, every entry checked."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingFileProblem("The mapping file is not UTF-8 text.") from None
    if PurePath(file_name).suffix.lower() == ".json":
        entries = _json_entries(text)
    else:
        entries = _csv_entries(text)
    mapped: dict[tuple[str, str], tuple[str, str]] = {}
    allowed = {kind: allowed_values(kind) for kind in KINDS}
    for where, kind, original, value in entries:
        kind, original, value = kind.strip().lower(), original.strip(), value.strip()
        if kind not in allowed:
            raise MappingFileProblem(f"{where}: kind '{kind}' is not one of {', '.join(KINDS)}.")
        if not original:
            raise MappingFileProblem(f"{where}: the original wording is empty.")
        found = _allowed_value(value, allowed[kind])
        if found is None:
            raise MappingFileProblem(
                f"{where}: '{value}' is not a {MappedKind(kind).label}; use one of "
                f"{', '.join(allowed[kind])}."
            )
        mapped[kind, original_key(original)] = (original, found)
    return mapped


def _allowed_value(value: str, allowed: tuple[str, ...]) -> str | None:
    folded = {choice.casefold(): choice for choice in allowed}
    return folded.get(value.casefold())


def _csv_entries(text: str) -> Iterable[tuple[str, str, str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    if header[:3] != ["kind", "original", "value"]:
        raise MappingFileProblem("Line 1 of a CSV mapping file must be: kind,original,value.")
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) < 3:
            raise MappingFileProblem(f"line {line}: give kind, original and value.")
        yield f"line {line}", cells[0], cells[1], cells[2]


def _json_entries(text: str) -> Iterable[tuple[str, str, str, str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as problem:
        raise MappingFileProblem(f"The JSON mapping file cannot be read: {problem.msg}.") from None
    if not isinstance(data, dict):
        raise MappingFileProblem('A JSON mapping file is {"kind": {"original": "value"}}.')
    for kind, pairs in data.items():
        if not isinstance(pairs, dict) or not all(
            isinstance(v, str) for v in (*pairs, *pairs.values())
        ):
            raise MappingFileProblem(f'"{kind}" must map each original wording to a value.')
        for original, value in pairs.items():
            yield f'"{kind}"', kind, original, value


def remember(entries: dict[tuple[str, str], tuple[str, str]], *, acting_user=None, now=None) -> int:
    """Save (or replace) mappings for the next files; returns how many were saved."""
    org = Organization.current()
    now = now or timezone.now()
    user = acting_user if acting_user is not None and acting_user.pk else None
    with transaction.atomic():
        for (kind, key), (original, value) in entries.items():
            ValueMapping.objects.update_or_create(
                organization=org,
                kind=kind,
                key=key,
                defaults={
                    "original": original,
                    "value": value,
                    "mapped_by": user,
                    "mapped_at": now,
                },
            )
    return len(entries)
