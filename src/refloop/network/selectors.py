"""Reads of the referral partner directory shared by pages and the API."""

from django.db.models import Q

from refloop.core.errors import NotFound
from refloop.core.paging import Page, page_of
from refloop.core.roles import Capability, require
from refloop.network.models import Practice, Provider


def list_practices(
    user, *, q: str = "", in_network: bool | None = None, limit: int = 50, offset: int = 0
) -> Page:
    """Practices by name; `q` matches the name or the city."""
    require(user, Capability.VIEW_DIRECTORY)
    practices = Practice.objects.all()
    if q.strip():
        term = q.strip()
        practices = practices.filter(Q(name__icontains=term) | Q(city__icontains=term))
    if in_network is not None:
        practices = practices.filter(in_network=in_network)
    return page_of(practices.order_by("name", "pk"), limit=limit, offset=offset)


def get_practice(user, practice_id: int) -> Practice:
    require(user, Capability.VIEW_DIRECTORY)
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:
        raise NotFound("No practice with this id is in the directory.")
    return practice


def list_providers(
    user, *, practice_id: int | None = None, q: str = "", limit: int = 50, offset: int = 0
) -> Page:
    """Providers by last name; each word of `q` matches the name, the NPI (from its
    start) or the practice's city."""
    require(user, Capability.VIEW_DIRECTORY)
    providers = Provider.objects.select_related("practice")
    if practice_id is not None:
        providers = providers.filter(practice_id=practice_id)
    for term in q.split():
        providers = providers.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(npi__startswith=term)
            | Q(practice__city__icontains=term)
        )
    return page_of(providers.order_by("last_name", "first_name", "pk"), limit=limit, offset=offset)


def get_provider(user, provider_id: int) -> Provider:
    require(user, Capability.VIEW_DIRECTORY)
    provider = Provider.objects.select_related("practice").filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No provider with this id is in the directory.")
    return provider


def find_referral_sources(user, q: str, *, limit: int = 8) -> tuple[list[Provider], list[Practice]]:
    """Providers (by name, NPI or their practice's city) and practices (by name or city)
    matching every word of `q`, for a type-ahead; nothing for fewer than two characters."""
    require(user, Capability.VIEW_DIRECTORY)
    terms = q.split()
    if len("".join(terms)) < 2:
        return [], []
    providers = Provider.objects.select_related("practice")
    practices = Practice.objects.all()
    for term in terms:
        providers = providers.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(npi__startswith=term)
            | Q(practice__name__icontains=term)
            | Q(practice__city__icontains=term)
        )
        practices = practices.filter(Q(name__icontains=term) | Q(city__icontains=term))
    return (
        list(providers.order_by("last_name", "first_name", "pk")[:limit]),
        list(practices.order_by("name", "pk")[:limit]),
    )


def practices_for_outbound(user) -> list[Practice]:
    """Every practice we may send a patient to, in-network ones first, then by name."""
    require(user, Capability.VIEW_DIRECTORY)
    return list(Practice.objects.order_by("-in_network", "name", "pk"))


def providers_for_outbound(user) -> list[Provider]:
    """Providers at partner practices, grouped by practice (in-network practices first)."""
    require(user, Capability.VIEW_DIRECTORY)
    return list(
        Provider.objects.filter(practice__isnull=False)
        .select_related("practice")
        .order_by("-practice__in_network", "practice__name", "last_name", "first_name", "pk")
    )
