"""The referrals behind a chart point (`/analytics/referrals/`), as the viewer's role allows.

- Staff who may see referrals (admin, coordinator, clinician): the referral number linking
  to its page, dates, department, source, practice, urgency, state and the clocks. Never
  the patient: the referral page shows that behind its own audited button. A clinician
  sees the referrals of their departments only, as on the worklist.
- Liaisons (summaries only): the same without the link.
- Analysts: de-identified rows (HIPAA Safe Harbor): no number or id, the year instead of
  the date, whole hours, in an order that is random but stable (a keyed hash of the id)
  so that rows cannot be lined up with a timeline; and nothing at all when fewer than 11
  referrals are selected.

Every view is audited with the selection, the view and the number of rows (no patient data).
"""

import hashlib
from datetime import datetime

from django.conf import settings
from django.db.models import F
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from refloop.analytics import panels
from refloop.analytics.periods import query, scope_params
from refloop.analytics.selection import SORTS, Selection, select
from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.practice.models import Organization
from refloop.referrals.selectors import visible_referrals
from refloop.web.access import staff_view

PAGE_SIZE = 50
SMALLEST_SHOWN = 11  # fewer de-identified rows than this are not shown at all
IDENTIFIED, SUMMARY, DEIDENTIFIED = "identified", "summary", "deidentified"

FIELDS = (
    "pk",
    "direction",
    "referral__number",
    "received_at",
    "sent_at",
    "department__name",
    "source_type",
    "channel",
    "practice__name",
    "receiving_practice__name",
    "receiving_in_network",
    "urgency",
    "state",
    "first_contact_hours",
    "appointment_hours",
)


def view_for(user) -> str:
    if can(user, Capability.VIEW_REFERRALS):
        return IDENTIFIED
    if can(user, Capability.VIEW_REFERRAL_SUMMARIES):
        return SUMMARY
    return DEIDENTIFIED


def _page_number(raw: str | None) -> int:
    if raw in (None, ""):
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput("page must be a whole number from 1.", field="page")
    return int(raw)


@staff_view(Capability.VIEW_ANALYTICS)
def drilldown_page(request):
    try:
        selection = select(request.GET, now=timezone.now())
        number = _page_number(request.GET.get("page"))
    except InvalidInput as error:
        return render(
            request,
            "analytics/drilldown.html",
            {"error": error, "dashboard_url": reverse("analytics_dashboard")},
            status=400,
        )
    view = view_for(request.user)
    if view == DEIDENTIFIED:
        listing = _deidentified(selection, number)
    else:
        listing = _identified(selection, number, request.user, links=view == IDENTIFIED)
    audit.record(
        "analytics.drilldown",
        audit.Touch("analytics_drilldown", selection.population),
        actor=request.user,
        detail={
            "selection": selection.params(page=number),
            "view": view,
            "rows": len(listing["rows"]),
            "total": listing["total"],
        },
    )
    pages = max(1, -(-listing["total"] // PAGE_SIZE))
    context = {
        "selection": selection,
        "view": view,
        "outbound": selection.population == "outbound",
        "dashboard_url": reverse("analytics_dashboard") + query(scope_params(selection.scope)),
        "page_number": number,
        "pages": pages,
        "prev_url": _url(selection, page=number - 1) if number > 1 else "",
        "next_url": _url(selection, page=number + 1)
        if number < pages and not listing.get("suppressed")
        else "",
        "columns": _columns(selection, view),
        **listing,
    }
    return render(request, "analytics/drilldown.html", context)


def _url(selection: Selection, **changes) -> str:
    return reverse("analytics_drilldown") + query(selection.params(**changes))


def _columns(selection: Selection, view: str) -> list[dict]:
    outbound = selection.population == "outbound"
    if outbound:
        headings = [
            ("received", "Sent"),
            (None, "Department"),
            (None, "Receiving practice"),
            (None, "Network"),
            (None, "State"),
        ]
    else:
        headings = [
            ("received", "Received"),
            (None, "Department"),
            (None, "Source"),
            (None, "Referring practice"),
            (None, "Urgency"),
            (None, "State"),
            ("first_contact", "Hours to first contact"),
            ("appointment", "Hours to appointment"),
        ]
    if view != DEIDENTIFIED:
        headings.insert(0, (None, "Referral"))
    columns = []
    current = selection.sort or "-received"
    for key, heading in headings:
        column = {"heading": heading, "aria_sort": "", "url": ""}
        if key and view != DEIDENTIFIED:
            here = current.lstrip("-") == key
            descending = current.startswith("-")
            if here:
                column["aria_sort"] = "descending" if descending else "ascending"
            column["url"] = _url(selection, sort=key if here and descending else f"-{key}", page="")
        columns.append(column)
    return columns


def _identified(selection: Selection, number: int, user, *, links: bool) -> dict:
    selected = selection.queryset
    visible = selected.filter(referral_id__in=visible_referrals(user).values("pk"))
    total, total_selected = visible.count(), selected.count()
    sort = selection.sort or "-received"
    column = SORTS[sort.lstrip("-")]
    if column == "received_at" and selection.population == "outbound":
        column = "sent_at"
    order = (
        F(column).desc(nulls_last=True) if sort.startswith("-") else F(column).asc(nulls_last=True)
    )
    offset = (number - 1) * PAGE_SIZE
    rows = list(visible.order_by(order, "-pk").values(*FIELDS)[offset : offset + PAGE_SIZE])
    zone = Organization.current().zone
    return {
        "rows": [_row(row, zone, links=links) for row in rows],
        "total": total,
        "total_selected": total_selected,
        "first_row": offset + 1 if rows else 0,
        "last_row": offset + len(rows),
    }


def _row(row: dict, zone, *, links: bool) -> dict:
    when = row["sent_at"] if row["direction"] == "outbound" else row["received_at"]
    return {
        "number": row["referral__number"],
        "url": reverse("referral_detail", args=[row["pk"]]) if links else "",
        "date": timezone.localtime(when, zone).date().isoformat() if when else "",
        **_common(row),
        "first_contact": _hours(row["first_contact_hours"], 1),
        "appointment": _hours(row["appointment_hours"], 1),
    }


def _common(row: dict) -> dict:
    network = {True: "In network", False: "Out of network", None: "Not recorded"}
    return {
        "department": row["department__name"] or "",
        "source": panels.label(row["source_type"]),
        "channel": panels.CHANNEL_LABELS.get(row["channel"], row["channel"]),
        "practice": row["practice__name"] or "",
        "receiving_practice": row["receiving_practice__name"] or "",
        "network": network[row["receiving_in_network"]],
        "urgency": panels.URGENCY_LABELS.get(row["urgency"], row["urgency"]),
        "state": panels.label(row["state"]),
    }


def _hours(value: float | None, digits: int) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def _order_key() -> bytes:
    return hashlib.sha256(
        b"refloop.analytics.drilldown-order:" + settings.SECRET_KEY.encode()
    ).digest()


def shuffled(ids: list[int]) -> list[int]:
    """The ids in an order that looks random and stays the same from page to page: by a
    keyed hash, so neither the order nor the key reveals when a referral arrived."""
    key = _order_key()
    return sorted(
        ids, key=lambda pk: hashlib.blake2b(str(pk).encode(), key=key, digest_size=8).digest()
    )


def _deidentified(selection: Selection, number: int) -> dict:
    ids = list(selection.queryset.values_list("pk", flat=True))
    total = len(ids)
    if total < SMALLEST_SHOWN:
        return {"rows": [], "total": total, "suppressed": True, "first_row": 0, "last_row": 0}
    offset = (number - 1) * PAGE_SIZE
    chosen = shuffled(ids)[offset : offset + PAGE_SIZE]
    by_pk = {row["pk"]: row for row in selection.queryset.filter(pk__in=chosen).values(*FIELDS)}
    zone = Organization.current().zone
    rows = []
    for pk in chosen:
        row = by_pk[pk]
        when = row["sent_at"] if row["direction"] == "outbound" else row["received_at"]
        rows.append(
            {
                "year": _year(when, zone),
                **_common(row),
                "first_contact": _hours(row["first_contact_hours"], 0),
                "appointment": _hours(row["appointment_hours"], 0),
            }
        )
    return {
        "rows": rows,
        "total": total,
        "suppressed": False,
        "first_row": offset + 1 if rows else 0,
        "last_row": offset + len(rows),
    }


def _year(when: datetime | None, zone) -> str:
    return str(timezone.localtime(when, zone).year) if when else ""
