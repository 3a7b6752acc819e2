"""API schemas every router shares: bounded ids and offsets, the error body and the error
responses it documents."""

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from django.http import HttpRequest
from ninja import Path, Schema
from ninja.schema import DjangoGetter
from pydantic import BeforeValidator, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from refloop.core.validation import MAX_DB_INT

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
IsoDateTime = Annotated[datetime, BeforeValidator(_not_a_number("datetime"))]

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


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Error responses for an operation's `response=`; 401 and 429 apply to every operation."""
    return {code: ErrorOut for code in sorted({401, 429, *codes})}


class ApiRequest(HttpRequest):
    """What an API operation's `request` is: the bearer-token auth (refloop.api) let it in
    and put the token's user in `auth`. An annotation only; ninja passes the HttpRequest."""

    auth: "User"
