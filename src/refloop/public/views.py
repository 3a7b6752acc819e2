"""The public pages: how to refer to us (page and PDF), the referral form anyone may send
(also embedded on the practice's own website), its confirmation, and the embed snippet."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from refloop.core.addresses import client_address
from refloop.core.errors import InvalidInput
from refloop.core.links import absolute_url
from refloop.practice.models import Department, Organization
from refloop.public import services
from refloop.public.forms import FriendReferralForm, PublicReferralForm
from refloop.public.pdf import one_pager
from refloop.public.selectors import (
    URGENCY_WORDS,
    first_contact_targets,
    hours_phrase,
    referral_guide,
)
from refloop.referrals import clocks
from refloop.referrals.models import kind_label

PORTAL_PATH = "/portal/"  # the referring practices' portal (its own app)


def frameable(view):
    """Let other sites show `view` in an iframe: only the referral form and the pages it
    leads to. Every other page keeps the global X-Frame-Options: DENY.

    EMBED_ORIGINS (env REFLOOP_EMBED_ORIGINS, e.g. "https://www.example-ortho.com") limits
    which sites may; unset, any site may embed the form. The form shows nothing it did not
    receive from the person typing, so framing it gives a hostile page little to gain.
    """

    @xframe_options_exempt
    def wrapped(request, *args, **kwargs):
        # The site-wide policy (settings.SECURE_CSP) with only its frame-ancestors widened.
        origins = getattr(settings, "EMBED_ORIGINS", None) or ["*"]
        policy = {**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF, *origins]}
        return csp_override(policy)(view)(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _links(request) -> dict:
    # Absolute, from BASE_URL: the page is printed and forwarded, read far from this request.
    return {
        "page_url": absolute_url(reverse("how_to_refer")),
        "form_url": absolute_url(reverse("public_form")),
        "pdf_url": reverse("how_to_refer_pdf"),
        "portal_url": absolute_url(PORTAL_PATH),
    }


@require_GET
def how_to_refer(request):
    return render(
        request, "public/how_to_refer.html", {"guide": referral_guide(), **_links(request)}
    )


@require_GET
def how_to_refer_pdf(request):
    links = _links(request)
    content = one_pager(
        referral_guide(),
        page_url=links["page_url"],
        form_url=links["form_url"],
        portal_url=links["portal_url"],
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="how-to-refer.pdf"'
    return response


def _form_page(request, form, *, embed: bool, status: int = 200):
    return render(
        request,
        "public/form.html",
        {
            "form": form,
            "embed": embed,
            "friend": isinstance(form, FriendReferralForm),
            # The public may ask for routine or urgent; same-day (stat) is for providers' calls.
            "first_contact": first_contact_targets(Organization.current())[:2],
        },
        status=status,
    )


def _thanks_url(token: str, embed: bool) -> str:
    query = {"ref": token, **({"embed": "1"} if embed else {})}
    return f"{reverse('public_form_thanks')}?{urlencode(query)}"


# Not CSRF-protected by Django, on purpose: embedded on the practice's website, the form
# lives in a cross-site iframe, where browsers withhold SameSite=Lax cookies (and often all
# third-party cookies), so Django's cookie-based check would refuse every embedded send.
# CSRF protects a signed-in session from forged requests; this form has no session and
# grants nothing. Instead each rendering carries a signed, expiring one-time nonce: a POST
# must bring one this server issued, and a nonce records at most one referral (double
# submits included). The per-address rate limit bounds what a script could send.
@csrf_exempt
@frameable
@never_cache
@require_http_methods(["GET", "POST"])
def referral_form(request):
    return _referral_form(request, PublicReferralForm, advocate_code="")


# The same form reached through an advocate's personal link (their card's QR code). The code
# names no one; an unknown or opted-out one gives the ordinary form, saying nothing about it.
# It sits in the path, which the access log shows as [token] (core.logging.redact_path).
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def friend_form(request, code: str):
    if services.advocate_for(code) is None:
        return _referral_form(request, PublicReferralForm, advocate_code="")
    return _referral_form(request, FriendReferralForm, advocate_code=code)


def _referral_form(request, form_class, *, advocate_code: str):
    embed = request.GET.get("embed") == "1"
    if request.method != "POST":
        initial: dict[str, object] = {"nonce": services.new_form_nonce()}
        department = Department.objects.filter(code=request.GET.get("department", "")).first()
        if department is not None:
            initial["department"] = department.pk
        return _form_page(request, form_class(initial=initial), embed=embed)

    key = services.client_key(client_address(request))
    wait = services.retry_after_seconds(key)
    if wait is not None:
        response = render(
            request,
            "public/too_many.html",
            {"embed": embed, "minutes": max(1, round(wait / 60))},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    services.record_attempt(key)

    data = request.POST.copy()
    form = form_class(data)
    if form.honeypot_filled:
        # Answer as if it worked, so the sender learns nothing; keep nothing it sent.
        services.note_honeypot(key)
        return redirect(_thanks_url(services.decoy_confirmation_token(), embed))

    valid = form.is_valid()
    try:
        nonce = services.read_form_nonce(data.get("nonce", ""))
    except services.NonceProblem as problem:
        data["nonce"] = services.new_form_nonce()
        form = form_class(data)
        form.is_valid()
        form.add_error(None, str(problem))
        return _form_page(request, form, embed=embed, status=422)
    if not valid:
        return _form_page(request, form, embed=embed, status=422)

    try:
        submission, _ = services.submit_public_referral(
            nonce=nonce,
            submitter=form.submitter(),
            patient=form.patient_data(),
            reason=form.cleaned_data["reason"],
            urgency=form.cleaned_data["urgency"],
            icd10_codes=form.cleaned_data["icd10_codes"],
            department=form.cleaned_data["department"],
            advocate_code=advocate_code,
            may_name_friend=getattr(form, "may_name_friend", False),
        )
    except InvalidInput as error:
        form.show_service_error(error)
        return _form_page(request, form, embed=embed, status=422)
    return redirect(_thanks_url(services.confirmation_token(submission.reference), embed))


@frameable
@never_cache
@require_GET
def referral_form_thanks(request):
    """What happens next, and when. Shows the referral's reference only to a fresh link."""
    org = Organization.current()
    submission = services.submission_for_token(request.GET.get("ref", ""))
    context_ = {
        "embed": request.GET.get("embed") == "1",
        "first_contact": first_contact_targets(org),
    }
    # submission_for_token finds only submissions that made a referral.
    referral = submission.referral if submission is not None else None
    if referral is not None:
        # The target stamped on this referral when it arrived, as every staff page shows it.
        found = clocks.first_contact(referral, timezone.now())
        target = found.target if found else org.first_contact_sla(referral.urgency)
        sla_hours = int(target.total_seconds()) // 3600
        context_.update(
            {
                "referral": referral,
                "urgency_label": URGENCY_WORDS.get(referral.urgency, referral.urgency),
                "within": hours_phrase(sla_hours),
                "due_at": timezone.localtime(referral.first_contact_due_at, org.zone),
                "time_zone": org.time_zone,
                "documents": [kind_label(k) for k in referral.missing_documents],
            }
        )
    return render(request, "public/thanks.html", context_)


@require_GET
def embed_snippet(request):
    form_url = absolute_url(reverse("public_form")) + "?embed=1"
    return render(
        request,
        "public/embed.html",
        {
            "form_url": form_url,
            "embed_origins": getattr(settings, "EMBED_ORIGINS", None) or [],
        },
    )
