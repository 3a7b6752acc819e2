"""Reads of the audit log shared by the audit viewer page and its CSV export. They live beside
the page, not in core: they name referrals by number and read the practice's time zone."""

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from itertools import batched

from django.db import connection
from django.db.models import QuerySet

from refloop.core.models import AuditEntry
from refloop.practice.models import Organization
from refloop.referrals.models import Referral

SYSTEM_ACTOR = "system"  # the `actor` filter value for entries written by jobs, not people


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to; every field is optional. Dates are the practice's
    local calendar days, both inclusive. No field ever holds patient data."""

    actor: int | str | None = None  # a user id, or SYSTEM_ACTOR
    patient_id: int | None = None
    referral_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_detail(self) -> dict:
        """The filter as JSON-safe values (for the audit record of an export)."""
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in asdict(self).items()
            if value not in (None, "")
        }


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int  # 1-based
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.entries) - 1


def _local_day_start(day: date, zone) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def audit_entries(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Audit entries matching `filters`, newest first (ties by insertion order)."""
    conditions: dict = {}
    if filters.actor == SYSTEM_ACTOR:
        conditions["actor__isnull"] = True
    elif filters.actor is not None:
        conditions["actor_id"] = filters.actor
    if filters.patient_id is not None:
        conditions["patient_id"] = filters.patient_id
    if filters.referral_id is not None:
        conditions["referral_id"] = filters.referral_id
    if filters.action:
        conditions["action"] = filters.action
    if filters.date_from or filters.date_to:
        zone = Organization.current().zone
        if filters.date_from:
            conditions["at__gte"] = _local_day_start(filters.date_from, zone)
        if filters.date_to:
            conditions["at__lt"] = _local_day_start(filters.date_to + timedelta(days=1), zone)
    return AuditEntry.objects.filter(**conditions).order_by("-at", "-pk")


def audit_page(filters: AuditFilters, *, number: int = 1, per_page: int = 50) -> AuditPage:
    """One page of `audit_entries`. No total: counting millions of rows on every page view
    costs more than the page itself, so the page only knows whether another one follows."""
    number = max(number, 1)
    offset = (number - 1) * per_page
    rows = list(audit_entries(filters)[offset : offset + per_page + 1])
    return AuditPage(
        entries=rows[:per_page], number=number, per_page=per_page, has_next=len(rows) > per_page
    )


def audit_actions() -> list[str]:
    """Every distinct action in the log, sorted. A loose index scan (one index probe per
    distinct value) instead of SELECT DISTINCT, which would read the whole index."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    sql = (
        f"WITH RECURSIVE actions(action) AS ("  # noqa: S608 (the table name is ours)
        f" SELECT MIN(action) FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT MIN(action) FROM {table} WHERE action > actions.action)"
        f" FROM actions WHERE actions.action IS NOT NULL"
        f") SELECT action FROM actions WHERE action IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def referral_numbers(referral_ids: Iterable[int | None]) -> dict[int, str]:
    """Referral id -> number, for the referrals named by some audit entries (one query)."""
    ids = {i for i in referral_ids if i is not None}
    if not ids:
        return {}
    return dict(Referral.objects.filter(pk__in=ids).values_list("pk", "number"))


def referral_id_for_number(number: str) -> int | None:
    return (
        Referral.objects.filter(number=number.strip().upper()).values_list("pk", flat=True).first()
    )


def audit_export_rows(
    filters: AuditFilters, *, chunk_size: int = 2000
) -> Iterator[tuple[AuditEntry, str]]:
    """Every matching entry with its referral's number, newest first, read in chunks so an
    export of millions of rows never sits in memory at once."""
    entries = audit_entries(filters).iterator(chunk_size=chunk_size)
    for chunk in batched(entries, chunk_size):
        numbers = referral_numbers(e.referral_id for e in chunk)
        for entry in chunk:
            number = numbers.get(entry.referral_id) if entry.referral_id is not None else None
            yield entry, number or ""
