"""The referral partner directory over the API: practices and providers."""

from ninja import Query, Router
from ninja.responses import Status

from refloop.core.schemas import ApiRequest, PathId, errors
from refloop.network import selectors, services
from refloop.network.schemas import (
    PracticeFilterIn,
    PracticeIn,
    PracticeOut,
    PracticePageOut,
    ProviderFilterIn,
    ProviderIn,
    ProviderOut,
    ProviderPageOut,
)

router = Router(tags=["directory"])


@router.get("/practices", response={200: PracticePageOut})
def list_practices(request: ApiRequest, filters: Query[PracticeFilterIn]):
    """Outside practices, by name."""
    return selectors.list_practices(
        request.auth,
        q=filters.q,
        in_network=filters.in_network,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.post("/practices", response={201: PracticeOut})
def create_practice(request: ApiRequest, payload: PracticeIn):
    """Add a practice (needs the edit_directory capability)."""
    practice = services.create_practice(
        acting_user=request.auth, **payload.model_dump(exclude_none=True)
    )
    return Status(201, practice)


@router.get("/practices/{practice_id}", response={200: PracticeOut})
def get_practice(request: ApiRequest, practice_id: PathId):
    return selectors.get_practice(request.auth, practice_id)


@router.get("/providers", response={200: ProviderPageOut})
def list_providers(request: ApiRequest, filters: Query[ProviderFilterIn]):
    """Providers, by last name."""
    return selectors.list_providers(
        request.auth,
        practice_id=filters.practice,
        q=filters.q,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.post("/providers", response={201: ProviderOut, **errors(409)})
def create_provider(request: ApiRequest, payload: ProviderIn):
    """Add a provider; the NPI must be valid and not in the directory yet (else 409)."""
    fields = payload.model_dump(exclude_none=True, exclude={"practice_id"})
    provider = services.create_provider(
        acting_user=request.auth, practice=payload.practice_id, **fields
    )
    return Status(201, provider)


@router.get("/providers/{provider_id}", response={200: ProviderOut})
def get_provider(request: ApiRequest, provider_id: PathId):
    return selectors.get_provider(request.auth, provider_id)
