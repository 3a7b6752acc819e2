"""The audit viewer for admins: who touched what, filtered, paged, exported as CSV.

Filters travel in the query string, so they hold ids, referral numbers, action names and
dates only, never a patient's name or date of birth.
"""

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from django import forms
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import path

from refloop.core import audit
from refloop.core.models import AuditEntry, User
from refloop.core.roles import Capability
from refloop.practice.models import Organization
from refloop.web.access import staff_view
from refloop.workspace.audit_selectors import (
    SYSTEM_ACTOR,
    AuditFilters,
    audit_actions,
    audit_export_rows,
    audit_page,
    referral_id_for_number,
    referral_numbers,
)

PER_PAGE = 50


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label="User", required=False)
    action = forms.ChoiceField(label="Action", required=False)
    patient = forms.IntegerField(label="Patient id", required=False, min_value=1)
    referral = forms.CharField(
        label="Referral number",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"placeholder": "e.g. R-7K2M-9QXD", "autocomplete": "off"}),
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.order_by("username").values_list("pk", "username")
        cast(forms.ChoiceField, self.fields["actor"]).choices = [
            ("", "Anyone"),
            (SYSTEM_ACTOR, "System jobs"),
            *((str(pk), username) for pk, username in users),
        ]
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", "Any action"),
            *((a, a) for a in audit_actions()),
        ]

    def clean_referral(self) -> int | None:
        number = self.cleaned_data["referral"].strip()
        if not number:
            return None
        referral_id = referral_id_for_number(number)
        if referral_id is None:
            raise forms.ValidationError("No referral has this number.")
        return referral_id

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        actor = data["actor"] or None
        return AuditFilters(
            actor=actor if actor in (None, SYSTEM_ACTOR) else int(actor),
            patient_id=data["patient"],
            referral_id=data["referral"],
            action=data["action"] or None,
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    referral_number: str
    detail: str


def compact(detail: dict) -> str:
    return json.dumps(detail, separators=(",", ":"), sort_keys=True) if detail else ""


def page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        return 1


def _asked_filters(request) -> tuple[AuditFilterForm, AuditFilters | None]:
    """The filter form over the query and the filters it asks for (all entries when none);
    None for the filters when the form is not valid."""
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    return form, form.filters() if form.is_bound else AuditFilters()


@staff_view(Capability.VIEW_AUDIT)
def audit_log(request):
    form, filters = _asked_filters(request)
    if filters is None:
        return render(request, "workspace/audit/log.html", {"form": form}, status=400)
    page = audit_page(filters, number=page_number(request), per_page=PER_PAGE)
    # Recorded after the page is read, so the page shows the log as it was when opened.
    audit.record(
        "audit.viewed",
        audit.Touch("audit_log", "page"),
        actor=request.user,
        detail={"filters": filters.as_detail(), "page": page.number},
    )
    numbers = referral_numbers(e.referral_id for e in page.entries)
    rows = [
        Row(e, "" if e.referral_id is None else numbers.get(e.referral_id, ""), compact(e.detail))
        for e in page.entries
    ]
    return render(
        request,
        "workspace/audit/log.html",
        {"form": form, "page": page, "rows": rows, "filtered": bool(filters.as_detail())},
    )


CSV_HEADER = (
    "time_utc",
    "time_local",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "referral_id",
    "referral_number",
    "channel",
    "ip_address",
    "detail",
)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (a failed sign-in's username is
    typed by anyone)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_lines(filters: AuditFilters, zone):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for entry, number in audit_export_rows(filters):
        yield writer.writerow(
            (
                entry.at.astimezone(UTC).isoformat(),
                entry.at.astimezone(zone).isoformat(),
                entry.actor_id or "",
                spreadsheet_safe(entry.actor_label),
                entry.action,
                entry.object_type,
                spreadsheet_safe(entry.object_id),
                entry.patient_id or "",
                entry.referral_id or "",
                number,
                entry.channel,
                entry.ip_address or "",
                spreadsheet_safe(compact(entry.detail)),
            )
        )


@staff_view(Capability.VIEW_AUDIT)
def audit_csv(request):
    form, filters = _asked_filters(request)
    if filters is None:
        return render(request, "workspace/audit/log.html", {"form": form}, status=400)
    audit.record(
        "audit.exported",
        audit.Touch("audit_log", "csv"),
        actor=request.user,
        detail={"filters": filters.as_detail()},
    )
    zone = Organization.current().zone
    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_lines(filters, zone), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("audit/", audit_log, name="audit"),
    path("audit/export.csv", audit_csv, name="audit_csv"),
]
