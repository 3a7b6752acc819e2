"""Referrer scorecard pages: the index of practices, one practice's scorecard as a page and a
one-page PDF, *Send now*, and the download of the monthly management report.

Aggregates only, so every role with VIEW_ANALYTICS (the analyst included) may read them;
each view and download is audited with the practice or month, never a patient.
"""

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from refloop.analytics import charts, metrics, pdf, privacy, report, scorecards
from refloop.analytics.metrics import Period
from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.messaging import automation
from refloop.messaging.models import Channel, Message, Status
from refloop.messaging.recipients import practice_recipient, route
from refloop.network.models import Practice
from refloop.practice.models import Organization
from refloop.web.access import staff_view

REPORT_MONTHS_OFFERED = 3


def _period(request: HttpRequest, practice: Practice, now: datetime) -> Period:
    """The period asked for (start and end, the practice fixed), else the last full month."""
    start, end = request.GET.get("start", ""), request.GET.get("end", "")
    if not start and not end:
        return scorecards.last_full_month(now)
    params = {"start": start, "end": end, "practice": str(practice.pk)}
    return metrics.parse_scope(params, now=now).period


def _query(period: Period, default: Period) -> str:
    if period == default:
        return ""
    return "?" + urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})


def _pdf_response(data: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _audit(request: HttpRequest, action: str, touch: audit.Touch, **detail) -> None:
    audit.record(action, touch, actor=request.user, detail=detail)


def _practice_touch(practice: Practice) -> audit.Touch:
    return audit.Touch("practice", practice.pk)


def _period_detail(period: Period) -> dict:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


# ---- the index ---------------------------------------------------------------------------


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def scorecard_index(request: HttpRequest):
    now = timezone.now()
    month = scorecards.last_full_month(now)
    practices = scorecards.index(month, now=now)
    report_months = [month]
    while len(report_months) < REPORT_MONTHS_OFFERED:
        report_months.append(report.previous_month(report_months[-1]))
    _audit(
        request,
        "analytics.scorecards_listed",
        audit.Touch("scorecard_index", f"{month.start:%Y-%m}"),
        **_period_detail(month),
    )
    context = {
        "month_label": scorecards.describe(month),
        "practices": practices,
        "reports": [
            {
                "label": scorecards.describe(m),
                "url": reverse("analytics_report_pdf", args=[f"{m.start:%Y-%m}"]),
            }
            for m in report_months
        ],
        "suppressed": privacy.applies_to(request.user),
    }
    return render(request, "analytics/scorecard_index.html", context)


# ---- one practice ------------------------------------------------------------------------


def _charts(card: scorecards.Scorecard) -> list[dict]:
    if card.suppressed:
        # The analyst reads the table, where small cells are hidden; a chart would draw them.
        return []
    trend = charts.bar(
        "Referrals per month",
        card.trend_labels,
        {card.practice: [n for _, n in card.trend]},
        y_name="Referrals",
        x_name="Month",
        partial=card.trend_partial,
    )
    measures = ["Seen by us", "Show rate", "Loop closed within 7 days"]
    compare = charts.bar(
        f"{card.period_label}: you and all referrers",
        measures,
        {
            card.practice: [
                scorecards.percent(card.mine.conversion),
                scorecards.percent(card.mine.show_rate),
                scorecards.percent(card.mine.loop_closure),
            ],
            "All referrers": [
                scorecards.percent(card.everyone.conversion),
                scorecards.percent(card.everyone.show_rate),
                scorecards.percent(card.everyone.loop_closure),
            ],
        },
        y_name="Share",
        x_name="Measure",
        percent=True,
    )
    return [trend, compare]


def _delivery(practice: Practice, month: Period) -> dict:
    """How last month's scorecard went (or would go) to the practice, in words."""
    message = automation.scorecard_message(practice, month.start)
    if message is None:
        path = route(practice_recipient(practice), clinical=False)
        if path.channel is None:
            return {"text": f"Not sent yet. {path.reason}", "download": True}
        return {
            "text": f"Not sent yet. It would go by {Channel(path.channel).label.lower()} "
            f"to {path.address}.",
            "download": False,
        }
    return {"text": _message_state(message), "download": message.status == Status.CANCELLED}


def _message_state(message: Message) -> str:
    channel = Channel(message.channel).label.lower()
    if message.status == Status.SENT:
        return f"Sent by {channel} to {message.address} on {_when(message.sent_at)}."
    if message.status == Status.CANCELLED:
        return f"Not sent: {message.reason}"
    if message.status == Status.FAILED:
        return f"Could not be sent by {channel}: {message.reason}"
    return f"Queued on {_when(message.created_at)} to go by {channel} to {message.address}."


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown date"
    local = timezone.localtime(moment, Organization.current().zone)
    return f"{local:%B} {local.day}, {local.year}"


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def scorecard(request: HttpRequest, practice_id: int):
    practice = get_object_or_404(Practice, pk=practice_id)
    now = timezone.now()
    last_month = scorecards.last_full_month(now)
    context = {
        "practice": practice,
        "last_month_label": scorecards.describe(last_month),
        "can_send": can(request.user, Capability.MANAGE_SETTINGS),
    }
    try:
        period = _period(request, practice, now)
    except InvalidInput as error:
        context |= {
            "error": error.message,
            "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""),
        }
        return render(request, "analytics/scorecard.html", context, status=422)
    card = scorecards.build(practice, period, now=now, suppressed=privacy.applies_to(request.user))
    _audit(
        request, "analytics.scorecard_viewed", _practice_touch(practice), **_period_detail(period)
    )
    context |= {
        "card": card,
        "charts": _charts(card),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "pdf_url": reverse("analytics_scorecard_pdf", args=[practice.pk])
        + _query(period, last_month),
        "last_month_pdf_url": reverse("analytics_scorecard_pdf", args=[practice.pk]),
        "delivery": _delivery(practice, last_month),
    }
    return render(request, "analytics/scorecard.html", context)


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def scorecard_pdf(request: HttpRequest, practice_id: int):
    practice = get_object_or_404(Practice, pk=practice_id)
    now = timezone.now()
    period = _period(request, practice, now)  # a bad date is the error page's sentence
    card = scorecards.build(practice, period, now=now, suppressed=privacy.applies_to(request.user))
    data = pdf.scorecard_pdf(card)
    _audit(
        request,
        "analytics.scorecard_downloaded",
        _practice_touch(practice),
        **_period_detail(period),
    )
    name = slugify(practice.name)[:60] or "practice"
    return _pdf_response(data, f"scorecard-{name}-{period.start:%Y-%m}.pdf")


@require_POST
@staff_view(Capability.MANAGE_SETTINGS)
def scorecard_send(request: HttpRequest, practice_id: int):
    """Queue last month's scorecard now: once per practice and month, like the monthly send."""
    practice = get_object_or_404(Practice, pk=practice_id)
    now = timezone.now()
    month = scorecards.last_full_month(now)
    label = scorecards.describe(month)
    existing = automation.scorecard_message(practice, month.start)
    message = existing or automation.queue_scorecard(practice, month.start, now=now)
    if message is None:
        messages.error(
            request,
            "The monthly scorecard is switched off under Message settings: switch it on to "
            "send it, or download the PDF.",
        )
        return redirect("analytics_scorecard", practice_id=practice.pk)
    if existing is not None:
        messages.info(
            request,
            f"The {label} scorecard for {practice.name} was already queued: "
            f"{_message_state(message)}",
        )
    elif message.status == Status.CANCELLED:
        messages.warning(
            request,
            f"The {label} scorecard could not be queued. {message.reason} "
            "Download the PDF and send it yourself.",
        )
    else:
        messages.success(
            request,
            f"The {label} scorecard for {practice.name} was queued to go by "
            f"{Channel(message.channel).label.lower()} to {message.address}.",
        )
    _audit(
        request,
        "analytics.scorecard_queued",
        _practice_touch(practice),
        month=f"{month.start:%Y-%m}",
        message_id=message.pk,
        status=message.status,
        already_queued=existing is not None,
    )
    return redirect("analytics_scorecard", practice_id=practice.pk)


# ---- the management report ---------------------------------------------------------------


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def report_pdf(request: HttpRequest, month: str):
    period = scorecards.parse_month(month)  # a bad month is the error page's sentence
    # As the exports: always suppressed for the analyst, on request (?suppress=1) for others.
    suppressed = privacy.suppressed_for(request.user, request.GET.get("suppress"))
    document = report.build(period, now=timezone.now(), suppressed=suppressed)
    data = pdf.report_pdf(document)
    _audit(
        request,
        "analytics.report_downloaded",
        audit.Touch("analytics_report", f"{period.start:%Y-%m}"),
        month=f"{period.start:%Y-%m}",
        suppressed=suppressed,
    )
    return _pdf_response(data, document.file_name)
