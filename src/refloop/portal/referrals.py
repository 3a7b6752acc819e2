"""The portal's referral pages: the practice's referrals, one referral in plain words, its
documents, the answer to a request for information, and the messages with the coordinator."""

from dataclasses import replace

from django import forms
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from refloop.core.errors import Conflict, DomainError
from refloop.portal import selectors, services
from refloop.portal.access import portal_view
from refloop.portal.forms import AnswerInfoForm, MessageForm
from refloop.practice.models import Organization
from refloop.referrals import transitions
from refloop.referrals.documents import FILE_EXTENSIONS, private_file_response
from refloop.referrals.models import Attachment, Referral, State, kind_label
from refloop.referrals.selectors import get_attachment, get_referral

ANSWER = transitions.INBOUND_MOVES["answer_info"]


class SearchForm(forms.Form):
    """The home page's search: sent in a POST body, never in the address, as it may hold a
    patient's name."""

    q = forms.CharField(
        label="Referral number or patient",
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "R-AB12-CD34, or Smith, or Smith 1980-03-02"}
        ),
    )
    state = forms.ChoiceField(
        label="Status",
        required=False,
        choices=lambda: [("", "Any status"), *selectors.state_choices()],
    )
    # Sent by the pager's buttons, which belong to this form.
    page = forms.IntegerField(required=False, min_value=1)


def _page_number(value) -> int:
    try:
        return max(int(value or 1), 1)
    except (TypeError, ValueError):
        return 1


@require_http_methods(["GET", "POST"])
@portal_view
def home(request):
    """What the practice has to do first, then every referral it sent, newest first, 25 a
    page, with a search (POST: names stay out of addresses) and a status filter."""
    searching = request.method == "POST"
    form = SearchForm(request.POST if searching else None)
    if searching:
        form.is_valid()
        data = form.cleaned_data
        text, state, number = data.get("q", ""), data.get("state", ""), data.get("page") or 1
    else:
        text = ""
        state = request.GET.get("state", "")
        state = state if state in dict(selectors.state_choices()) else ""
        number = _page_number(request.GET.get("page"))
        form = SearchForm(initial={"state": state})
    narrowed = bool(text or state)
    actions, actions_total = selectors.needs_action(request.user)
    leave_out = [] if narrowed else [row.referral.pk for row in actions]
    listing, rows = selectors.practice_referrals(
        request.user, page=number, state=state, text=text, leave_out=leave_out
    )
    last_page = max((listing.total + listing.limit - 1) // listing.limit, 1)
    if number > last_page:
        number = last_page
        listing, rows = selectors.practice_referrals(
            request.user, page=number, state=state, text=text, leave_out=leave_out
        )
    flagged = {row.referral.pk: row.action for row in actions}
    context = {
        "actions": actions,
        "actions_total": actions_total,
        "rows": [replace(row, action=flagged.get(row.referral.pk)) for row in rows],
        "listing": listing,
        "form": form,
        "searching": searching,
        "narrowed": narrowed,
        "text": text,
        "state": state,
        "page_number": number,
        "previous_page": number - 1 if number > 1 else None,
        "next_page": number + 1 if number < last_page else None,
        "last_page": last_page,
        "any_sent": narrowed or listing.total or actions_total,
    }
    return render(request, "portal/home.html", context)


def document_url(referral: Referral, attachment: Attachment) -> str:
    return reverse("portal_document", args=[referral.pk, attachment.pk])


def _documents(referral: Referral, org: Organization) -> list[dict]:
    return [
        {
            "attachment": a,
            "url": document_url(referral, a),
            "kind": kind_label(a.kind),
            "uploaded": selectors.local(a.uploaded_at, org),
            "format": FILE_EXTENSIONS.get(a.content_type, "file").upper(),
        }
        for a in referral.attachments.all()
    ]


def detail_context(request, referral: Referral, *, answer_form=None, message_form=None) -> dict:
    org = Organization.current()
    # The answer form is offered exactly when the answer_info move would be accepted.
    pending = ANSWER in transitions.allowed_next(
        referral, request.user, asked=transitions.Asked.ON_PORTAL
    )
    closed = referral.state == State.LOOP_CLOSED
    documents = _documents(referral, org)
    return {
        "referral": referral,
        "patient": referral.patient,
        "org": org,
        "status": selectors.status_of(referral.state),
        "received": selectors.local(referral.received_at, org),
        "changed": selectors.local(referral.state_changed_at, org),
        "appointment": selectors.appointment_shown(referral, org),
        "declined": referral.state == State.DECLINED,
        "cancelled": referral.state == State.CANCELLED,
        "end_reason": selectors.words(referral.end_reason),
        "closed": closed,
        "reports": [d for d in documents if d["attachment"].kind == "consult_report"]
        if closed
        else [],
        "documents": documents,
        "pending": pending,
        "answer_form": (
            answer_form or AnswerInfoForm(initial={"expected_version": referral.version})
        )
        if pending
        else None,
        "thread": selectors.thread_view(referral, org),
        "message_form": message_form or MessageForm(),
        "history": selectors.status_history(referral, org),
    }


@require_GET
@portal_view
def detail(request, pk: int):
    referral = get_referral(request.user, pk)
    context = detail_context(request, referral)
    services.mark_thread_read(referral, request.user)
    return render(request, "portal/detail.html", context)


@require_GET
@portal_view
def document(request, pk: int, attachment_id: int):
    """One document of the practice's own referral: sandboxed, never cached, audited."""
    attachment = get_attachment(request.user, pk, attachment_id)
    return document_response(attachment)


def document_response(attachment: Attachment) -> FileResponse:
    return private_file_response(
        attachment.file,
        name=f"{attachment.referral.number}-{attachment.pk}",
        content_type=attachment.content_type,
    )


def _show_error(form, error: DomainError, field: str | None) -> None:
    form.add_error(field if field in form.fields else None, error.message)


def _status_for(error: DomainError) -> int:
    return 409 if isinstance(error, Conflict) else 422


@require_http_methods(["GET", "POST"])
@portal_view
def answer_info(request, pk: int):
    """Send the records a pending_info request asked for; the referral goes back to review."""
    referral = get_referral(request.user, pk)
    if request.method == "GET":
        return redirect(reverse("portal_referral", args=[referral.pk]) + "#answer")
    form = AnswerInfoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.answer_info_request(
                referral.pk,
                acting_user=request.user,
                documents=form.cleaned_data["documents"],
                document_kind=form.cleaned_data["document_kind"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except DomainError as error:
            _show_error(form, error, error.field or "documents")
            if isinstance(error, Conflict):
                form.add_error(None, "Nothing was sent. Reload the page to see the referral now.")
            context = detail_context(request, referral, answer_form=form)
            return render(request, "portal/detail.html", context, status=_status_for(error))
        messages.success(request, ANSWER.done)
        return redirect("portal_referral", pk=referral.pk)
    context = detail_context(request, referral, answer_form=form)
    return render(request, "portal/detail.html", context, status=422)


@require_http_methods(["GET", "POST"])
@portal_view
def referral_messages(request, pk: int):
    """The thread lives on the referral's page; a message is posted here."""
    referral = get_referral(request.user, pk)
    detail_url = reverse("portal_referral", args=[referral.pk])
    if request.method == "GET":
        return redirect(detail_url + "#messages")
    form = MessageForm(request.POST)
    if form.send(referral, request):
        messages.success(request, "Your message was sent.")
        return redirect(detail_url + "#messages")
    context = detail_context(request, referral, message_form=form)
    return render(request, "portal/detail.html", context, status=422)


urlpatterns = [
    path("portal/", home, name="portal_home"),
    path("portal/referrals/<int:pk>/", detail, name="portal_referral"),
    path(
        "portal/referrals/<int:pk>/documents/<int:attachment_id>",
        document,
        name="portal_document",
    ),
    path("portal/referrals/<int:pk>/answer", answer_info, name="portal_answer_info"),
    path("portal/referrals/<int:pk>/messages", referral_messages, name="portal_messages"),
]
