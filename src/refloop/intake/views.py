"""Document intake pages: the queue (upload, progress, quarantine, duplicates), a document's
pages, and the review of one candidate into a referral.

Page images, extracted fields and received file names are PHI: every page that shows
them reads through the selectors, which audit it; URLs carry ids and page numbers only.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core.errors import Conflict, DomainError, InvalidInput
from refloop.core.roles import Capability
from refloop.core.sessions import passive
from refloop.intake import review, selectors
from refloop.intake.forms import ReviewForm, UploadForm
from refloop.intake.models import FIELD_NAMES, CandidateStatus, DocumentSource, DocumentStatus
from refloop.network.models import Practice, Provider
from refloop.practice.models import Organization
from refloop.referrals.documents import private_file_response
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error
from refloop.web.referral_forms import source_results

POLL_SECONDS = 2
# The review form's sections.
PATIENT_FIELDS = (
    "patient_first_name",
    "patient_last_name",
    "patient_date_of_birth",
    "patient_phone",
    "insurance",
)
REFERRAL_FIELDS = ("reason", "icd10_codes", "urgency")
PROVIDER_FIELDS = ("provider_name", "provider_npi", "provider_phone", "provider_fax")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def progress_rows(documents) -> list[dict]:
    rows = []
    for document in documents:
        total, done = document.page_count, min(document.pages_done, document.page_count)
        if document.status == DocumentStatus.QUEUED or not total:
            words = "Waiting to be read"
        else:
            words = f"Page {done} of {total}"
        rows.append({"document": document, "total": total, "done": done, "words": words})
    return rows


def progress_context(user) -> dict:
    rows = progress_rows(selectors.in_progress(user))
    return {"progress": rows, "polling": bool(rows), "poll_seconds": POLL_SECONDS}


def queue_context(request, tab_key: str) -> dict:
    user = request.user
    zone = Organization.current().zone
    tab = selectors.TAB_BY_KEY.get(tab_key, selectors.TABS[0])
    counts = selectors.queue_counts(user)
    context = {
        "tabs": [
            {"key": t.key, "label": t.label, "count": counts[t.key], "current": t.key == tab.key}
            for t in selectors.TABS
        ],
        "tab": tab,
        "zone": zone,
        "upload_form": UploadForm(),
    }
    if tab.key == "review":
        context["candidates"] = [
            {"candidate": c, "name": _patient_name(c)} for c in selectors.pending_candidates(user)
        ]
    elif tab.key == "processing":
        context.update(progress_context(user))
    else:
        context["documents"] = selectors.documents_in(user, tab)
    return context


def _patient_name(candidate) -> str:
    values = review.extracted_values(candidate)
    name = f"{values['patient_first_name']} {values['patient_last_name']}".strip()
    return name or "Name not read"


def _ingest_one(upload, user) -> dict:
    from refloop.intake.services import ingest  # the pipeline's half, imported when used

    try:
        document = ingest(
            content=upload.read(),
            filename=upload.name or "document",
            source=DocumentSource.UPLOAD,
            uploaded_by=user,
        )
    except DomainError as error:
        return {"name": upload.name, "refused": error.message}
    return {"name": upload.name, "document": document}


@require_http_methods(["GET", "POST"])
@staff_view(Capability.CREATE_REFERRALS)
def queue(request):
    """The queue's tabs, and the upload form (POST) with what became of each file."""
    if request.method != "POST":
        return render(request, "intake/queue.html", queue_context(request, request.GET.get("tab")))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        context = queue_context(request, "processing")
        context["upload_form"] = form
        return render(request, "intake/queue.html", context, status=422)
    results = [_ingest_one(upload, request.user) for upload in form.cleaned_data["files"]]
    context = queue_context(request, "processing")
    context["results"] = results
    return render(request, "intake/queue.html", context)


@passive  # polled: a page left open on it must still sign its user out
@require_GET
@staff_view(Capability.CREATE_REFERRALS)
def progress(request):
    """The documents being read, with their progress (htmx polls this while any remain)."""
    return render(request, "intake/_progress.html", progress_context(request.user))


@require_GET
@staff_view(Capability.CREATE_REFERRALS)
def document_page(request, pk: int):
    document = selectors.get_document(request.user, pk)
    candidates = [{"candidate": c, "name": _patient_name(c)} for c in document.candidates.all()]
    return render(
        request,
        "intake/document.html",
        {
            "document": document,
            "pages": document.pages.all(),
            "candidates": candidates,
            "zone": Organization.current().zone,
        },
    )


@require_GET
@staff_view(Capability.CREATE_REFERRALS, Capability.VIEW_REFERRALS)
def page_image(request, pk: int, number: int):
    """One page as a PNG, never cached, audited."""
    page = selectors.get_page(request.user, pk, number)
    # Page images are PNGs refloop rendered itself.
    return private_file_response(
        page.image, name=f"intake-document-{pk}-page-{number}", content_type="image/png"
    )


@xframe_options_sameorigin
@require_GET
@staff_view(Capability.CREATE_REFERRALS, Capability.VIEW_REFERRALS)
def document_file(request, pk: int):
    """The file as received (to check a quarantined one by eye), sandboxed and audited: as
    its verified type, or as a download when the upload check refused it. An infected
    file was never kept."""
    document = selectors.get_document_file(request.user, pk)
    return private_file_response(
        document.file, name=f"intake-document-{pk}", content_type=document.content_type
    )


# ---- review ------------------------------------------------------------------------


def review_context(request, candidate, form, *, extra=None) -> dict:
    pages = list(selectors.candidate_pages(candidate))
    shown = _int(request.GET.get("page")) or candidate.first_page
    if pages and shown not in {p.number for p in pages}:
        shown = pages[0].number
    data = form.data if form.is_bound else {}
    chosen: Provider | Practice | None = None
    chosen_id = _int(data.get("referring_provider")) if form.is_bound else None
    if not form.is_bound:
        chosen_id = candidate.matched_provider_id
    if chosen_id:
        chosen = Provider.objects.select_related("practice").filter(pk=chosen_id).first()
    elif form.is_bound and (practice_id := _int(data.get("referring_practice"))):
        chosen = Practice.objects.filter(pk=practice_id).first()
    fields = form.extracted_fields()
    context = {
        "candidate": candidate,
        "document": candidate.document,
        "form": form,
        "patient_fields": [f for f in fields if f["name"] in PATIENT_FIELDS],
        "referral_fields": [f for f in fields if f["name"] in REFERRAL_FIELDS],
        "provider_fields": [f for f in fields if f["name"] in PROVIDER_FIELDS],
        "pages": pages,
        "shown_page": shown,
        "source": chosen,
        "proposal": candidate.proposed_provider or {},
        "pending": candidate.status == CandidateStatus.PENDING,
    }
    context.update(extra or {})
    return context


def render_review(request, candidate, form, *, status=200, extra=None):
    context = review_context(request, candidate, form, extra=extra)
    return render(request, "intake/review.html", context, status=status)


def _form_error(form, error: DomainError) -> None:
    field = "referring_search" if error.field == "provider" else error.field
    attach_domain_error(form, type(error)(error.message, field=field))


def _after_review(request, candidate):
    """Where a coordinator working the pile goes next: the next candidate, else the queue."""
    following = selectors.next_pending_candidate(request.user, after=candidate)
    if following is not None:
        return redirect("intake_candidate", pk=following.pk)
    return redirect(reverse("intake_documents") + "?tab=review")


def _shown_as_typed(form):
    """The bound form as typed, without complaining yet about what is still missing."""
    form.full_clean()
    form._errors = {}
    return form


@require_http_methods(["GET", "POST"])
@staff_view(Capability.CREATE_REFERRALS, Capability.VIEW_REFERRALS)
def candidate_page(request, pk: int):
    """The review: the candidate's pages beside what was read, and one button to create."""
    candidate = selectors.get_candidate(request.user, pk)
    if request.method != "POST":
        return render_review(request, candidate, ReviewForm(candidate=candidate))

    data = request.POST.copy()
    action = data.get("action", "create")
    if "choose_source" in data:  # without JavaScript: a search result or "Choose another"
        kind, _, chosen = data["choose_source"].partition(":")
        data["referring_provider"] = chosen if kind == "provider" else ""
        data["referring_practice"] = chosen if kind == "practice" else ""
        form = _shown_as_typed(ReviewForm(data, candidate=candidate))
        return render_review(request, candidate, form)
    if action == "find_source":
        form = _shown_as_typed(ReviewForm(data, candidate=candidate))
        results = source_results(request.user, data.get("referring_search", ""))
        return render_review(request, candidate, form, extra={"source_results": results})
    if action == "discard":
        return _discard(request, candidate)
    if action == "add_provider":
        return _add_provider(request, candidate, data)
    return _create(request, candidate, data)


def _create(request, candidate, data):
    form = ReviewForm(data, candidate=candidate)
    if candidate.status == CandidateStatus.CREATED:
        # A second click, or a tab left open: the referral the first one made.
        messages.info(request, f"Referral {candidate.referral.number} was already created.")
        return redirect("referral_detail", pk=candidate.referral_id)
    if form.is_valid():
        provider = form.cleaned_data["referring_provider"]
        practice = None if provider else form.cleaned_data["referring_practice"]
        try:
            referral = review.create_referral_from_candidate(
                candidate,
                acting_user=request.user,
                values=form.values(),
                provider=provider,
                practice=practice,
                propose_provider=form.cleaned_data["add_provider"] and not (provider or practice),
                practice_name=form.cleaned_data["practice_name"],
                practice_city=form.cleaned_data["practice_city"],
            )
        except Conflict as error:
            _form_error(form, error)
            return render_review(request, candidate, form, status=409)
        except InvalidInput as error:
            _form_error(form, error)
        else:
            link = reverse("referral_detail", kwargs={"pk": referral.pk})
            messages.success(
                request,
                format_html(
                    'Referral <a href="{}">{}</a> was created from document #{}.',
                    link,
                    referral.number,
                    candidate.document_id,
                ),
            )
            return _after_review(request, candidate)
    return render_review(request, candidate, form, status=422)


def _discard(request, candidate):
    try:
        review.discard_candidate(candidate, acting_user=request.user)
    except Conflict as error:
        form = _shown_as_typed(ReviewForm(request.POST, candidate=candidate))
        _form_error(form, error)
        return render_review(request, candidate, form, status=409)
    messages.info(
        request,
        f"Pages {candidate.first_page}–{candidate.last_page} of document "
        f"#{candidate.document_id} were set aside.",
    )
    return _after_review(request, candidate)


def _add_provider(request, candidate, data):
    form = _shown_as_typed(ReviewForm(data, candidate=candidate))
    values = {name: data.get(name, "") for name in FIELD_NAMES}
    try:
        provider = review.add_proposed_provider_to_directory(
            candidate,
            acting_user=request.user,
            values=values,
            practice_name=data.get("practice_name", ""),
            practice_city=data.get("practice_city", ""),
        )
    except DomainError as error:
        _form_error(form, error)
        return render_review(request, candidate, form, status=error.status)
    data["referring_provider"] = str(provider.pk)
    data["add_provider"] = ""
    messages.success(request, f"{provider} was added to the directory.")
    candidate.refresh_from_db()
    form = _shown_as_typed(ReviewForm(data, candidate=candidate))
    return render_review(request, candidate, form)


@require_POST
@staff_view(Capability.CREATE_REFERRALS)
def next_candidate(request):
    """ "Start reviewing": the oldest candidate waiting."""
    following = selectors.next_pending_candidate(request.user)
    if following is None:
        messages.info(request, "Nothing is waiting for review.")
        return redirect(reverse("intake_documents") + "?tab=review")
    return redirect("intake_candidate", pk=following.pk)


urlpatterns = [
    path("intake/documents/", queue, name="intake_documents"),
    path("intake/documents/progress", progress, name="intake_progress"),
    path("intake/documents/next", next_candidate, name="intake_next_candidate"),
    path("intake/documents/<int:pk>/", document_page, name="intake_document"),
    path("intake/documents/<int:pk>/file", document_file, name="intake_document_file"),
    path("intake/documents/<int:pk>/pages/<int:number>", page_image, name="intake_page_image"),
    path("intake/documents/candidates/<int:pk>/", candidate_page, name="intake_candidate"),
]
