"""Model validation reported the way every edge reports it: one field, one sentence."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from refloop.core.errors import InvalidInput


def validated(instance: models.Model, *, prefix: str = "", exclude: Iterable[str] = ()) -> None:
    """Run the model's field validation; raise InvalidInput naming the first field at fault.

    Uniqueness and constraints are left to the database, where concurrent writers meet.
    """
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(f"{prefix}{field}: {messages[0]}", field=f"{prefix}{field}") from None
