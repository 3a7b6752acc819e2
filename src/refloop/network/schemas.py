"""API schemas of the referral partner directory: one input and one output per endpoint."""

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from refloop.core.schemas import (
    Id,
    JsonBool,
    NonBlank,
    Npi,
    Offset,
    OptionalEmail,
    OutSchema,
    Phone,
)
from refloop.network.models import Channel

# Inline rather than a shared component: the outbox's channels (messaging) are also an enum
# named Channel, and the document can hold only one component by that name.
PreferredChannel = Annotated[
    Channel,
    WithJsonSchema({"type": "string", "enum": list(Channel.values), "title": "Preferred channel"}),
]


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class _ContactIn(_In):
    phone: Phone = ""
    fax: Phone = ""
    email: OptionalEmail = ""
    preferred_channel: PreferredChannel | None = None
    best_time: str = Field("", max_length=120)
    notes: str = ""


class PracticeIn(_ContactIn):
    name: Annotated[NonBlank, Field(max_length=200)]
    address: str = Field("", max_length=200)
    city: str = Field("", max_length=80)
    state: str = Field("", max_length=2, description="Two-letter state code")
    postal_code: str = Field("", max_length=10)
    in_network: JsonBool = False


class ProviderIn(_ContactIn):
    npi: Npi = Field(
        description=(
            "10-digit National Provider Identifier; its check digit is verified (422) and it "
            "must not be in the directory yet (409)"
        )
    )
    first_name: Annotated[NonBlank, Field(max_length=80)]
    last_name: Annotated[NonBlank, Field(max_length=80)]
    practice_id: Id | None = Field(None, description="A practice in the directory")
    credentials: str = Field("", max_length=40, description="MD, DO, NP, PA-C…")
    taxonomy_code: str = Field("", max_length=10)
    specialty: str = Field("", max_length=120)


class PracticeFilterIn(Schema):
    q: str = Field("", description="Matches the name or the city")
    in_network: bool | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class ProviderFilterIn(Schema):
    practice: Id | None = Field(None, description="Only providers of this practice (id)")
    q: str = Field(
        "", description="Matches the name, the NPI (from its start) or the practice's city"
    )
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class _ContactOut(OutSchema):
    phone: str
    fax: str
    email: str
    preferred_channel: str
    best_time: str
    notes: str


class PracticeOut(_ContactOut):
    id: int
    name: str
    address: str
    city: str
    state: str
    postal_code: str
    in_network: bool
    segment: str
    created_at: datetime


class PracticeRefOut(OutSchema):
    id: int
    name: str
    city: str
    in_network: bool


class ProviderOut(_ContactOut):
    id: int
    npi: str
    first_name: str
    last_name: str
    credentials: str
    taxonomy_code: str
    specialty: str
    practice: PracticeRefOut | None
    created_at: datetime


class PracticePageOut(OutSchema):
    items: list[PracticeOut]
    total: int
    limit: int
    offset: int


class ProviderPageOut(OutSchema):
    items: list[ProviderOut]
    total: int
    limit: int
    offset: int
