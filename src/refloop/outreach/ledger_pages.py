"""The gift and meal ledger's pages: the list, recording a gift, the overage form and the
repayments (compliance officers), the yearly compliance report (page, CSV, PDF), and the
Stark limit per year under Settings."""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import DomainError
from refloop.core.roles import Capability, can
from refloop.network.models import Practice
from refloop.outreach import ledger, ledger_export
from refloop.outreach.ledger_forms import (
    GiftForm,
    LimitForm,
    OverageForm,
    RepaymentForm,
    person_from,
)
from refloop.outreach.models import GiftEntry, Overage, StarkLimit
from refloop.practice.models import Organization
from refloop.web.access import forbidden, staff_view
from refloop.web.forms import attach_domain_error

PICKER_SIZE = 20
PAGE_SIZE = 50


def ledger_reader(view):
    """Liaisons (WORK_OUTREACH) and compliance officers (APPROVE_GIFT_OVERAGES) read the
    ledger."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (can(user, Capability.WORK_OUTREACH) or can(user, Capability.APPROVE_GIFT_OVERAGES)):
            return forbidden(request, "Your role does not include this page.")
        return view(request, *args, **kwargs)

    return staff_view()(wrapped)


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return ledger.today().year


def _years() -> list[int]:
    years = set(StarkLimit.objects.values_list("year", flat=True)) | {ledger.today().year}
    return sorted(years, reverse=True)


def picked_practice(request: HttpRequest) -> tuple[Practice | None, list[Practice], str]:
    """The practice named by ?practice=, else the practices matching ?q= (for the picker)."""
    raw = request.GET.get("practice", "")
    if raw.isdigit():
        return Practice.objects.filter(pk=int(raw)).first(), [], ""
    q = request.GET.get("q", "").strip().replace("\x00", "")
    found = (
        list(Practice.objects.filter(name__icontains=q).order_by("name")[:PICKER_SIZE]) if q else []
    )
    return None, found, q


# ---- the list ------------------------------------------------------------------------------


@require_GET
@ledger_reader
def ledger_list(request):
    year = _year(request)
    entries = GiftEntry.objects.filter(given_on__year=year).select_related(
        "practice", "provider", "staff", "event"
    )
    practice = None
    raw = request.GET.get("practice", "")
    if raw.isdigit():
        practice = Practice.objects.filter(pk=int(raw)).first()
        entries = entries.filter(practice_id=int(raw))
    person = person_from(request.GET.get("person", ""))
    if person is not None:
        field = "provider" if hasattr(person, "npi") else "staff"
        entries = entries.filter(**{field: person})
    page = Paginator(entries.order_by("-given_on", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    practices = Practice.objects.filter(
        pk__in=GiftEntry.objects.filter(given_on__year=year).values("practice")
    ).order_by("name")
    people = (
        ledger.totals(Q(provider=person) if hasattr(person, "npi") else Q(staff=person), year)
        if person is not None
        else []
    )
    query = {k: v for k, v in request.GET.items() if k in ("year", "practice", "person")}
    context = {
        "year": year,
        "years": _years(),
        "page": page,
        "practice": practice,
        "practices": practices,
        "person": person,
        "person_total": people[0] if people else None,
        "query": urlencode(query),
    }
    return render(request, "outreach/ledger/list.html", context)


# ---- recording -----------------------------------------------------------------------------


def _picker_or_form(request, template: str, form_class, *, title: str, action: str):
    practice, found, q = picked_practice(request)
    status = 200
    form = None
    refusal = None
    if practice is not None:
        if request.method == "POST":
            form = form_class(request.POST, practice=practice)
            if form.is_valid():
                return form, practice, None
            status = 422
        else:
            form = form_class(practice=practice, initial={"given_on": ledger.today()})
    context = {
        "title": title,
        "action": action,
        "practice": practice,
        "found": found,
        "q": q,
        "form": form,
        "refusal": refusal,
        "may_approve": can(request.user, Capability.APPROVE_GIFT_OVERAGES),
    }
    return None, practice, render(request, template, context, status=status)


def _shown_with_error(request, template, form, practice, error, *, title, action, refusal=None):
    attach_domain_error(form, error)
    context = {
        "title": title,
        "action": action,
        "practice": practice,
        "found": [],
        "q": "",
        "form": form,
        "refusal": refusal,
        "may_approve": can(request.user, Capability.APPROVE_GIFT_OVERAGES),
    }
    return render(request, template, context, status=409 if refusal else 422)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.WORK_OUTREACH)
def record(request):
    title, action = "Record a gift or meal", "ledger_record"
    form, practice, response = _picker_or_form(
        request, "outreach/ledger/record.html", GiftForm, title=title, action=action
    )
    if form is None:
        return response
    data = form.cleaned_data
    try:
        recorded = ledger.record_gift(
            acting_user=request.user,
            recipient=data["recipient"],
            given_on=data["given_on"],
            kind=data["kind"],
            description=data["description"],
            value=data["value"],
        )
    except ledger.OverLimit as error:
        return _shown_with_error(
            request,
            "outreach/ledger/record.html",
            form,
            practice,
            error,
            title=title,
            action=action,
            refusal=error,
        )
    except DomainError as error:
        return _shown_with_error(
            request,
            "outreach/ledger/record.html",
            form,
            practice,
            error,
            title=title,
            action=action,
        )
    said = f"{ledger.money(recorded.entry.value)} to {data['recipient']} recorded."
    if recorded.warning:
        messages.warning(request, f"{said} Warning: {recorded.warning}")
    else:
        messages.success(request, said)
    return redirect(f"{reverse('ledger')}?{urlencode({'year': data['given_on'].year})}")


@require_http_methods(["GET", "POST"])
@staff_view(Capability.APPROVE_GIFT_OVERAGES)
def overage_new(request):
    title, action = "Record a gift past the limit (repayment exception)", "ledger_overage_new"
    form, practice, response = _picker_or_form(
        request, "outreach/ledger/record.html", OverageForm, title=title, action=action
    )
    if form is None:
        return response
    data = form.cleaned_data
    try:
        _, overage = ledger.record_overage(
            acting_user=request.user,
            recipient=data["recipient"],
            given_on=data["given_on"],
            kind=data["kind"],
            description=data["description"],
            value=data["value"],
            note=data["note"],
        )
    except DomainError as error:
        return _shown_with_error(
            request,
            "outreach/ledger/record.html",
            form,
            practice,
            error,
            title=title,
            action=action,
        )
    messages.success(
        request,
        f"Recorded under the repayment exception: {data['recipient']} repays "
        f"{ledger.money(overage.excess)} by {overage.repay_by:%b %-d, %Y}.",
    )
    return redirect("ledger_overage", overage_id=overage.pk)


# ---- overages and repayments -----------------------------------------------------------------


@require_GET
@ledger_reader
def overages(request):
    on = ledger.today()
    rows = [
        (o, ledger.overage_state(o, on))
        for o in Overage.objects.select_related("gift", "provider").order_by("-gift__given_on")
    ]
    return render(request, "outreach/ledger/overages.html", {"rows": rows})


def _overage_page(request, overage: Overage, form: RepaymentForm, *, status: int = 200):
    context = {
        "overage": overage,
        "state": ledger.overage_state(overage, ledger.today()),
        "owed": overage.excess - overage.repaid_amount,
        "form": form,
        "may_approve": can(request.user, Capability.APPROVE_GIFT_OVERAGES),
    }
    return render(request, "outreach/ledger/overage.html", context, status=status)


def _overage(overage_id: int) -> Overage:
    return get_object_or_404(
        Overage.objects.select_related("gift", "gift__practice", "provider"), pk=overage_id
    )


@require_GET
@ledger_reader
def overage(request, overage_id: int):
    found = _overage(overage_id)
    return _overage_page(request, found, RepaymentForm(initial={"repaid_on": ledger.today()}))


@require_POST
@staff_view(Capability.APPROVE_GIFT_OVERAGES)
def overage_repay(request, overage_id: int):
    found = _overage(overage_id)
    form = RepaymentForm(request.POST)
    if form.is_valid():
        try:
            ledger.record_repayment(
                acting_user=request.user,
                overage=found,
                repaid_on=form.cleaned_data["repaid_on"],
                amount=form.cleaned_data["amount"],
            )
        except DomainError as error:
            attach_domain_error(form, error)
        else:
            messages.success(request, "The repayment was recorded.")
            return redirect("ledger_overage", overage_id=found.pk)
    return _overage_page(request, found, form, status=422)


# ---- the compliance report -------------------------------------------------------------------


@require_GET
@ledger_reader
def report(request):
    year = _year(request)
    context = {
        "report": ledger.compliance_report(year),
        "year": year,
        "years": _years(),
        "rule": ledger_export.RULE,
    }
    return render(request, "outreach/ledger/report.html", context)


def _download(data, content_type: str, file_name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@ledger_reader
def report_csv(request):
    year = _year(request)
    data = ledger_export.report_csv(ledger.compliance_report(year))
    return _download(data, "text/csv; charset=utf-8", f"gift-ledger-{year}.csv")


@require_GET
@ledger_reader
def report_pdf(request):
    year = _year(request)
    data = ledger_export.report_pdf(ledger.compliance_report(year), Organization.current().name)
    return _download(data, "application/pdf", f"gift-ledger-{year}.pdf")


# ---- the Stark limit per year (Settings) -----------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SETTINGS)
def limits(request):
    status = 200
    if request.method == "POST":
        form = LimitForm(request.POST)
        if form.is_valid():
            try:
                changed = ledger.set_limit(
                    acting_user=request.user,
                    year=form.cleaned_data["year"],
                    amount=form.cleaned_data["amount"],
                )
            except DomainError as error:
                attach_domain_error(form, error)
            else:
                year = form.cleaned_data["year"]
                if changed:
                    messages.success(request, f"The limit for {year} was saved.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("settings_stark_limits")
        status = 422
    else:
        form = LimitForm(initial={"year": ledger.today().year + 1})
    context = {"form": form, "limits": StarkLimit.objects.order_by("-year")}
    return render(request, "outreach/ledger/limits.html", context, status=status)


urlpatterns = [
    path("outreach/ledger/", ledger_list, name="ledger"),
    path("outreach/ledger/new/", record, name="ledger_record"),
    path("outreach/ledger/exception/", overage_new, name="ledger_overage_new"),
    path("outreach/ledger/overages/", overages, name="ledger_overages"),
    path("outreach/ledger/overages/<int:overage_id>/", overage, name="ledger_overage"),
    path(
        "outreach/ledger/overages/<int:overage_id>/repay",
        overage_repay,
        name="ledger_overage_repay",
    ),
    path("outreach/ledger/report/", report, name="ledger_report"),
    path("outreach/ledger/report.csv", report_csv, name="ledger_report_csv"),
    path("outreach/ledger/report.pdf", report_pdf, name="ledger_report_pdf"),
    path("settings/stark-limits/", limits, name="settings_stark_limits"),
]
