"""Model validation reported the way every edge reports it: one field, one sentence."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import TypeGuard

from django.core.exceptions import ValidationError
from django.db import models

from refloop.core.errors import InvalidInput


def required_text(value: str | None, field: str, refusal: str) -> str:
    """`value` without surrounding blanks; refused with the sentence `refusal` when nothing is left."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(refusal, field=field)
    return text


# The largest value a 64-bit integer column holds (PostgreSQL's bigint, SQLite's INTEGER).
MAX_DB_INT = 2**63 - 1


def in_utc(moment: datetime, zone: tzinfo) -> datetime:
    """`moment` in UTC, read in `zone` when it carries no offset of its own.

    Stored and compared in UTC, a time is the same moment whatever offset a client wrote
    (and PostgreSQL reads no offset past ±15:59, which RFC 3339 allows). A time in year 1
    or 9999 that falls off the calendar in UTC is taken as its first or last instant: no
    referral, message or filter can tell the two apart.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.max if moment.year == datetime.max.year else datetime.min
        return edge.replace(tzinfo=UTC)


def db_id(value: str | None) -> int | None:
    """An id written in a query string; None for anything else, a number past what a
    database column holds included (it would fail in the database)."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if fits_db_int(number) else None


def fits_db_int(value: object) -> TypeGuard[int]:
    """True for an int a database integer column can store; a request may name any number."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_DB_INT


def validated(instance: models.Model, *, prefix: str = "", exclude: Iterable[str] = ()) -> None:
    """Run the model's field validation; raise InvalidInput naming the first field at fault.

    Uniqueness and constraints are left to the database, where concurrent writers meet.
    """
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        field, problems = next(iter(error.error_dict.items()))
        message = _without_value(instance, field, problems[0])
        raise InvalidInput(f"{prefix}{field}{message}", field=f"{prefix}{field}") from None


def _without_value(instance: models.Model, field: str, problem: ValidationError) -> str:
    """Django's sentence, unless it quotes the value (a choice, a date): then ours."""
    sentence = problem.messages[0]
    value = str((problem.params or {}).get("value", ""))
    if not value or value not in sentence:
        return f": {sentence}"
    if problem.code == "invalid_choice":
        choices = [str(value) for value, _ in instance._meta.get_field(field).flatchoices]
        return f" must be one of {', '.join(choices)}."
    return " is not valid."


_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension)\s*\d{1,6}\s*$", re.IGNORECASE)


def phone_e164(phone: str) -> str:
    """A phone or fax number as E.164: North American numbers get +1, numbers written with a
    leading + keep their country code; an extension is dropped. '' if it is not a number."""
    text = _EXTENSION.sub("", phone or "").strip()
    if re.search(r"[^\d\s().+\-/]", text):
        return ""
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return "+" + digits if 8 <= len(digits) <= 15 else ""
    if len(digits) == 10 and digits[0] not in "01":
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1") and digits[1] not in "01":
        return "+" + digits
    return ""


def validate_phone(value: str) -> None:
    if value and not phone_e164(value):
        raise ValidationError(
            "Enter a full phone number with area code, e.g. (217) 555-0142, or +44 20 7946 0958."
        )
