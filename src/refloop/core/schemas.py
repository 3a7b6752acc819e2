"""API schemas every router shares: bounded ids and offsets, the error body and the error
responses it documents."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from django.http import HttpRequest
from ninja import Path, Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import models_json_schema
from pydantic_core import PydanticCustomError

from refloop.core.validation import MAX_DB_INT, in_utc

if TYPE_CHECKING:
    from refloop.core.models import User

# An id or offset past what a database column holds would make the driver fail; it is
# refused as invalid input (422, naming the parameter) before any query runs.
# Every id, offset and version the API accepts, in a path, a query or a body, is one of these.
Id = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
Offset = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
Version = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
PathId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]

# pydantic reads a number given for a date or a time as seconds since 1970, so
# `received_to=0` would filter on 1 January 1970 instead of being refused.
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _not_a_number(kind: str):
    def check(value: Any) -> Any:
        if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
            raise PydanticCustomError(f"{kind}_type", f"Input should be a valid {kind}")
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_not_a_number("date"))]


def _offset_in_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else in_utc(moment, UTC)


# A time with an offset arrives in UTC (refloop.core.validation.in_utc); one without stays
# naive, for the service to read in the practice's zone.
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_not_a_number("datetime")),
    AfterValidator(_offset_in_utc),
]

# ---- server rules the OpenAPI document states ------------------------------------------
# Each pattern is enforced here, before any service runs, exactly as the document says
# it: a client (or a fuzzer) that follows the document is not refused for a rule it
# could not see, and one that does not is refused with the same 422 as every other.

# Something other than blanks. Not \S alone: Python's strip() (the services') also drops
# \x1c-\x1f, which are not blanks to the Rust and ECMAScript regular expressions that
# pydantic and JSON Schema validators use, and ECMAScript counts \ufeff as one. No NUL
# anywhere, as for all text (refloop.core.nul).
NON_BLANK = r"^[^\x00]*[^\s\x00\x1c-\x1f\ufeff][^\x00]*$"
# A number the services read as a full phone or fax number (core.validation.phone_e164):
# ten North American digits (area code first, optionally after a 1) or + and 8 to 15
# digits, with spaces, dots, dashes, slashes or brackets between, and an extension.
_SEPARATORS = r"[ ().\-/]*"
_NORTH_AMERICAN = rf"{_SEPARATORS}(?:1{_SEPARATORS})?[2-9](?:{_SEPARATORS}[0-9]){{9}}"
_INTERNATIONAL = rf"\+(?:{_SEPARATORS}[0-9]){{8,15}}"
_EXTENSION = r"(?: ?(?:[xX]|[eE][xX][tT]\.?|[eE][xX][tT][eE][nN][sS][iI][oO][nN]) ?[0-9]{1,6})?"
PHONE = rf"^(?:(?:{_NORTH_AMERICAN}|{_INTERNATIONAL}){_SEPARATORS}{_EXTENSION})?$"
NPI = r"^[0-9]{10}$"
ICD10 = r"^[A-TV-Za-tv-z][0-9][0-9A-Za-z](?:\.?[0-9A-Za-z]{1,4}|\.)?$"
AMOUNT = r"^[0-9]{1,8}(?:\.[0-9]{1,2})?$"
# The same, more than zero (no lookahead: the Rust and ECMAScript engines differ on them).
POSITIVE_AMOUNT = r"^(?:0*[1-9][0-9]{0,7}(?:\.[0-9]{1,2})?|0+\.(?:[1-9][0-9]?|0[1-9]))$"

# What each pattern asks for, in the words of a 422 ("<field> must ...").
PATTERN_WORDS = {
    NON_BLANK: "must not be blank",
    PHONE: ("must be a full phone number with area code, e.g. (217) 555-0142, or +44 20 7946 0958"),
    NPI: "must be the 10 digits of a National Provider Identifier",
    ICD10: "must be an ICD-10-CM code: a letter, two characters and up to four more, e.g. M54.16",
    AMOUNT: "must be an amount such as 180.00",
    POSITIVE_AMOUNT: "must be an amount more than 0, such as 18.50",
}

NonBlank = Annotated[str, Field(min_length=1, pattern=NON_BLANK)]
# true or false in a JSON body: pydantic would also read 0, 1 or "yes" as one, which the
# document (type boolean) does not allow. Query parameters stay text (?in_network=true).
JsonBool = StrictBool
Phone = Annotated[str, Field(max_length=30, pattern=PHONE)]
Npi = Annotated[str, Field(pattern=NPI)]
Icd10Code = Annotated[str, Field(pattern=ICD10)]


def _money(pattern: str, *, positive: bool):
    """An amount of money below 100 million: a number, or its digits as text."""

    def as_text(value: Any) -> Any:
        # pydantic reads "1e3", "1_000" or " 5 " as decimals; the document promises digits.
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            raise PydanticCustomError("string_pattern_mismatch", "", {"pattern": pattern})
        return value

    least = Decimal("0.01") if positive else Decimal("0")
    return Annotated[
        Decimal,
        BeforeValidator(as_text),
        Field(ge=least, lt=100_000_000),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": float(least), "exclusiveMaximum": 100_000_000},
                    {"type": "string", "pattern": pattern},
                ]
            }
        ),
    ]


# A visit's value (may be nothing), and a gift's (a cent at least; a number with more
# decimals is rounded to the cent by whoever records it).
Amount = _money(AMOUNT, positive=False)
PositiveAmount = _money(POSITIVE_AMOUNT, positive=True)

# An e-mail address or nothing; the address is checked as Django's EmailField checks it.
OptionalEmail = Annotated[
    str,
    Field(max_length=254),
    WithJsonSchema(
        {"type": "string", "maxLength": 254, "anyOf": [{"const": ""}, {"format": "email"}]}
    ),
]

ERROR_DESCRIPTIONS = {
    400: "The request could not be read (malformed JSON, for example).",
    401: "Missing, invalid or revoked API token.",
    403: "Your role may not do this.",
    404: "Nothing with this id is visible to you.",
    409: "The object is not in a state that allows this, or changed since you loaded it.",
    413: "The request body or the uploaded file is larger than the limit.",
    415: "The file type is not accepted (judged by content).",
    422: "A value is missing or invalid; `field` names it.",
    429: "Too many failed attempts (bad API tokens, for one) from your address; wait and retry.",
    503: "A service the request needs (the virus scanner) is not answering; try again.",
}


def replayed(what: str) -> dict:
    """The document's 200 of a POST that an Idempotency-Key made a replay: `what` comes back
    (the 201 is the first request's answer), with the header that says so."""
    return {
        "description": f"A replay (same Idempotency-Key, same body): {what}",
        "headers": {
            "Idempotent-Replayed": {
                "description": "true: this answer replays an earlier request",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    }


class OutSchema(Schema):
    """An output schema; an instance the view already built passes through unchanged.

    A view that picks one arm of a union (full detail or summary) builds the instance
    itself; validating it again would run its resolvers on the instance, not the row.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler, info: ValidationInfo) -> Any:
        if isinstance(values, cls):
            return values
        return handler(DjangoGetter(values, cls, info.context))


class FieldErrorOut(Schema):
    detail: str = Field(description="What is wrong with this field, in a sentence")
    field: str | None = Field(None, description="The field (dotted) or query parameter")


class ErrorOut(Schema):
    """Every error answer: a sentence saying what to fix, and the field it is about."""

    detail: str = Field(
        description="A plain sentence; never contains patient data you did not send"
    )
    field: str | None = Field(
        None, description="The input the error is about (dotted for nested: patient.date_of_birth)"
    )
    errors: list[FieldErrorOut] | None = Field(
        None,
        description=(
            "When a request has several problems (422), every one of them; `detail` and "
            "`field` are the first"
        ),
    )


# The error body's schema for the OpenAPI document's components (refloop.api declares it on
# every operation's error responses).
ERROR_SCHEMAS = {
    name: schema
    for name, schema in models_json_schema(
        [(ErrorOut, "serialization")], ref_template="#/components/schemas/{model}"
    )[1]["$defs"].items()
}


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """The errors an operation's own logic adds (409, 415, 503), for its `response=`.

    Those that follow from its shape (401, 403, 404, 422, 400, 413, 429) are declared for
    every operation by refloop.api; this only adds to them.
    """
    return {code: ErrorOut for code in sorted(codes)}


class ApiRequest(HttpRequest):
    """What an API operation's `request` is: the bearer-token auth (refloop.api) let it in
    and put the token's user in `auth`. An annotation only; ninja passes the HttpRequest."""

    auth: "User"
