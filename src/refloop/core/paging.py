"""One page of a listing, shared by every selector that pages."""

from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    limit: int
    offset: int
    exact: bool = True  # False: there are more than `total` rows (the count stopped early)


def page_of(queryset: QuerySet, *, limit: int, offset: int) -> Page:
    return Page(
        items=list(queryset[offset : offset + limit]),
        total=queryset.count(),
        limit=limit,
        offset=offset,
    )
