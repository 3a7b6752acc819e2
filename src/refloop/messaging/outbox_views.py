"""The staff outbox: every message due, sent, failed or cancelled, one message's detail,
and what staff may do to it (cancel what is due, send again what failed).

URLs carry ids, statuses, channels, rules and dates only: a recipient key can name a
patient, so the recipient is never a query parameter here.
"""

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from refloop.core import audit
from refloop.core.errors import Conflict
from refloop.core.roles import Capability, can
from refloop.messaging import outbox, selectors
from refloop.messaging.models import Channel, Status
from refloop.messaging.rules import RULES
from refloop.messaging.staff_panels import local, message_row
from refloop.practice.models import Organization
from refloop.referrals.documents import private_file_response
from refloop.web.access import staff_view

PAGE_SIZE = 50
# Failures first: they are what someone has to act on.
TABS = (
    (Status.FAILED, "Failed"),
    (Status.DUE, "Due"),
    (Status.SENDING, "Sending"),
    (Status.SENT, "Sent"),
    (Status.CANCELLED, "Cancelled"),
    ("all", "All"),
)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _filters(request, zone) -> tuple[dict, dict]:
    """The selector's filters and the form's values, from the query string (bad values ignored)."""
    query = request.GET
    channel = query.get("channel") if query.get("channel") in Channel.values else ""
    rule = query.get("rule") if query.get("rule") in RULES else ""
    due_from, due_to = _day(query.get("due_from")), _day(query.get("due_to"))
    filters = {
        "channel": channel or None,
        "rule": rule or None,
        "due_after": datetime.combine(due_from, time.min, tzinfo=zone) if due_from else None,
        "due_before": datetime.combine(due_to + timedelta(days=1), time.min, tzinfo=zone)
        if due_to
        else None,
    }
    form = {
        "channel": channel,
        "rule": rule,
        "due_from": due_from.isoformat() if due_from else "",
        "due_to": due_to.isoformat() if due_to else "",
    }
    return filters, form


@require_GET
@staff_view(Capability.VIEW_REFERRALS)
def outbox_page(request):
    """The outbox, latest due first; opens on the failed messages when there are any."""
    user = request.user
    zone = Organization.current().zone
    filters, form = _filters(request, zone)
    counts = selectors.status_counts(user, **filters)
    counts["all"] = sum(counts.values())
    tab = request.GET.get("status")
    if tab not in dict(TABS):
        tab = Status.FAILED if counts[Status.FAILED] else "all"
    number = _page_number(request.GET.get("page"))
    page = selectors.list_messages(
        user,
        status=None if tab == "all" else tab,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        **filters,
    )
    kept = {k: v for k, v in form.items() if v}
    biggest = max((counts[key] for key, _ in TABS if key != "all"), default=0) or 1
    context = {
        "tabs": [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "current": key == tab,
                "query": urlencode({**kept, "status": key}),
                "percent": round(100 * counts[key] / biggest) if key != "all" else None,
            }
            for key, label in TABS
        ],
        "tab": tab,
        "tab_label": dict(TABS)[tab],
        "rows": [message_row(m, zone) for m in page.items],
        "form": form,
        "channels": Channel.choices,
        "rules": sorted(((key, rule.title) for key, rule in RULES.items()), key=lambda r: r[1]),
        "page_number": number,
        "previous_query": urlencode({**kept, "status": tab, "page": number - 1})
        if number > 1
        else "",
        "next_query": urlencode({**kept, "status": tab, "page": number + 1})
        if page.offset + len(page.items) < page.total
        else "",
        "total": page.total,
    }
    return render(request, "messaging/outbox.html", context)


def _letter_path(message):
    """The printed letter's file, when the letter transport is installed and made one."""
    if message.channel != Channel.LETTER or message.status != Status.SENT:
        return None
    try:
        from refloop.messaging.transports.letter import letter_path
    except ImportError:
        return None
    found = letter_path(message.pk)
    return found if found is not None and found.exists() else None


def _message_context(user, message) -> dict:
    zone = Organization.current().zone
    may_act = can(user, Capability.WORK_REFERRALS)
    return {
        "row": message_row(message, zone),
        "m": message,
        "address": selectors.address_words(message),
        "subject": selectors.staff_text(message.subject),
        "body": selectors.staff_text(message.body),
        "due": local(message.due_at, zone),
        "sent": local(message.sent_at, zone),
        "finished": local(message.finished_at, zone),
        "deliveries": [{"delivery": d, "at": local(d.at, zone)} for d in message.deliveries.all()],
        "can_cancel": may_act and message.status == Status.DUE,
        "can_retry": may_act and message.status == Status.FAILED,
        "has_letter": _letter_path(message) is not None,
    }


@require_GET
@staff_view(Capability.VIEW_REFERRALS)
def message_page(request, message_pk: int):
    """One message: its text (links as placeholders), its delivery attempts, its actions."""
    message = selectors.get_message(request.user, message_pk)
    return render(request, "messaging/message.html", _message_context(request.user, message))


def _act(request, message_pk: int, action, done: str):
    user = request.user
    selectors.get_message(user, message_pk)  # visible to them, or 404
    try:
        action(message_pk, acting_user=user)
    except Conflict as error:
        message = selectors.get_message(user, message_pk)
        context = {**_message_context(user, message), "error": error.message}
        return render(request, "messaging/message.html", context, status=409)
    messages.success(request, done)
    return redirect("outbox_message", message_pk=message_pk)


@require_POST
@staff_view(Capability.VIEW_REFERRALS, Capability.WORK_REFERRALS)
def cancel_message(request, message_pk: int):
    return _act(request, message_pk, outbox.cancel, "The message was cancelled.")


@require_POST
@staff_view(Capability.VIEW_REFERRALS, Capability.WORK_REFERRALS)
def retry_message(request, message_pk: int):
    return _act(request, message_pk, outbox.retry, "The message will be sent again now.")


@require_GET
@staff_view(Capability.VIEW_REFERRALS)
def letter_download(request, message_pk: int):
    """The letter as printed and posted (patient data: audited, never cached)."""
    message = selectors.get_message(request.user, message_pk)
    found = _letter_path(message)
    if found is None:
        raise Http404("No printed letter for this message.")
    audit.record("message.letter_read", message.audit_touch(), actor=request.user)
    name = f"letter-{message.referral.number if message.referral else message.pk}"
    return private_file_response(
        found, name=name, content_type="application/pdf", as_attachment=True
    )


urlpatterns = [
    path("messages/", outbox_page, name="outbox"),
    path("messages/<int:message_pk>/", message_page, name="outbox_message"),
    path("messages/<int:message_pk>/cancel/", cancel_message, name="outbox_cancel"),
    path("messages/<int:message_pk>/retry/", retry_message, name="outbox_retry"),
    path("messages/<int:message_pk>/letter/", letter_download, name="outbox_letter"),
]
