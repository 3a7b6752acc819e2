"""Writes to the referral partner directory: new practices and providers."""

from django.db import IntegrityError, transaction

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.validation import required_text, validated
from refloop.network.models import Practice, Provider
from refloop.network.npi import npi_problem

# The fields of ContactDetails, which practices and providers share.
CONTACT_FIELDS = ("phone", "fax", "email", "preferred_channel", "best_time", "notes")
PRACTICE_FIELDS = (
    "name",
    "address",
    "city",
    "state",
    "postal_code",
    "in_network",
    *CONTACT_FIELDS,
)
PROVIDER_FIELDS = (
    "npi",
    "first_name",
    "last_name",
    "credentials",
    "taxonomy_code",
    "specialty",
    *CONTACT_FIELDS,
)


def _only(fields: dict, allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidInput(f"{unknown[0]} is not a directory field.", field=unknown[0])
    return fields


@transaction.atomic
def create_practice(*, acting_user: User, name: str, **fields) -> Practice:
    """Add an outside practice to the directory."""
    require(acting_user, Capability.EDIT_DIRECTORY)
    if not name or not name.strip():
        raise InvalidInput("name is required.", field="name")
    practice = Practice(name=name.strip(), **_only(fields, PRACTICE_FIELDS))
    validated(practice)
    practice.save()
    audit.record("practice.created", audit.Touch("practice", practice.pk), actor=acting_user)
    return practice


def _npi(value: str) -> str:
    npi = required_text(value, "npi", "npi is required.")
    problem = npi_problem(npi)
    if problem:
        raise InvalidInput(f"The NPI is invalid. {problem}", field="npi")
    return npi


def _npi_taken() -> Conflict:
    return Conflict(
        "A provider with this NPI is already in the directory; look it up instead of adding "
        "it again.",
        field="npi",
    )


def create_provider(
    *,
    acting_user: User,
    npi: str,
    first_name: str,
    last_name: str,
    practice: Practice | int | None = None,
    **fields,
) -> Provider:
    """Add a provider; the NPI must be valid (check digit) and not in the directory yet."""
    require(acting_user, Capability.EDIT_DIRECTORY)
    npi = _npi(npi)
    if practice is not None and not isinstance(practice, Practice):
        practice = Practice.objects.filter(pk=practice).first()
        if practice is None:
            raise InvalidInput("practice_id names no practice.", field="practice_id")
    for required, value in (("first_name", first_name), ("last_name", last_name)):
        if not value or not value.strip():
            raise InvalidInput(f"{required} is required.", field=required)
    provider = Provider(
        npi=npi,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        practice=practice,
        **_only(fields, PROVIDER_FIELDS),
    )
    validated(provider, exclude=("practice",))
    if Provider.objects.filter(npi=npi).exists():
        raise _npi_taken()
    try:
        with transaction.atomic():
            provider.save()
            audit.record(
                "provider.created", audit.Touch("provider", provider.pk), actor=acting_user
            )
    except IntegrityError:
        # Another request added the same NPI between the check and the insert.
        raise _npi_taken() from None
    return provider
