"""Refer a friend, the pages: staff's list of advocates with the referrals they brought and
their ledger, an advocate's page (card, opt-out, a gift), enrolling a patient from a referral
number; and the patient's own page under the survey link (/s/advocate/)."""

from django import forms
from django.contrib import messages
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.advocacy import advocates as services
from refloop.advocacy import rewards
from refloop.advocacy.models import (
    REWARD_YEAR_LIMIT_CENTS,
    AdvocacySettings,
    Advocate,
    Audience,
    FriendReferral,
    RewardItem,
)
from refloop.advocacy.survey_link import survey_from
from refloop.core import audit
from refloop.core.errors import DomainError
from refloop.core.roles import Capability
from refloop.practice.models import Organization
from refloop.referrals.models import Referral
from refloop.web.access import staff_view

feedback_view = staff_view(Capability.HANDLE_FEEDBACK)


class EnrolForm(forms.Form):
    number = forms.CharField(
        label="Referral number",
        max_length=20,
        help_text="The patient's referral, e.g. R-2611-0042.",
        error_messages={"required": "Give the patient's referral number."},
    )
    agreed = forms.BooleanField(
        label="The patient agreed to refer friends and to get their personal link",
        error_messages={"required": "Enrol a patient only once they have agreed."},
    )


def _list_context(form: EnrolForm) -> dict:
    year = timezone.localdate().year
    found = list(
        Advocate.objects.select_related("patient")
        .annotate(brought=Count("referrals", distinct=True))
        .order_by("-opted_in_at", "pk")
    )
    given = dict(
        Advocate.objects.filter(rewards__year=year)
        .annotate(total=Sum("rewards__value_cents"))
        .values_list("pk", "total")
    )
    rows = [
        {"advocate": a, "brought": a.brought, "given": rewards.dollars(given.get(a.pk, 0) or 0)}
        for a in found
    ]
    return {"rows": rows, "form": form, "year": year}


def _audit_reads(request, found) -> None:
    if found:
        audit.record_many(
            "advocate.viewed", [services.advocate_touch(a) for a in found], actor=request.user
        )


@require_GET
@feedback_view
def advocate_list(request):
    context = _list_context(EnrolForm())
    _audit_reads(request, [row["advocate"] for row in context["rows"]])
    return render(request, "advocacy/advocates/list.html", context)


@require_POST
@feedback_view
def advocate_enrol(request):
    """Enrol the patient of a referral (by its number, in the body: no PHI in the address)."""
    form = EnrolForm(request.POST)
    if form.is_valid():
        referral = (
            Referral.objects.select_related("patient")
            .filter(number=form.cleaned_data["number"].strip().upper())
            .first()
        )
        if referral is None:
            form.add_error("number", "No referral has this number; check it and try again.")
        else:
            advocate = services.enrol(
                patient=referral.patient,
                acting_user=request.user,
                via=services.BY_STAFF,
                now=timezone.now(),
            )
            messages.success(request, "The patient is an advocate; their link is on its way.")
            return redirect("advocate_detail", advocate_id=advocate.pk)
    context = _list_context(form)
    _audit_reads(request, [row["advocate"] for row in context["rows"]])
    return render(request, "advocacy/advocates/list.html", context, status=422)


def _gift_choices(advocate: Advocate):
    return RewardItem.objects.filter(active=True).order_by("value_cents", "name")


@require_GET
@feedback_view
def advocate_detail(request, advocate_id: int):
    advocate = get_object_or_404(Advocate.objects.select_related("patient"), pk=advocate_id)
    audit.record("advocate.viewed", services.advocate_touch(advocate), actor=request.user)
    settings_ = AdvocacySettings.current()
    year = timezone.localdate().year
    friends = list(
        FriendReferral.objects.filter(advocate=advocate)
        .select_related("referral")
        .order_by("-referral__received_at", "pk")
    )
    ledger = list(advocate.rewards.select_related("item", "given_by").order_by("-created_at"))
    context = {
        "advocate": advocate,
        "link": services.personal_link(advocate) if advocate.active else "",
        "friends": friends,
        "ledger": [{"reward": r, "value": rewards.dollars(r.value_cents)} for r in ledger],
        "given_this_year": rewards.dollars(rewards.given_in(advocate, year)),
        "year": year,
        "year_limit": rewards.dollars(REWARD_YEAR_LIMIT_CENTS),
        "rewards_on": settings_.rewards_enabled,
        "barred_state": rewards.barred_state(advocate) if settings_.rewards_enabled else None,
        "items": [
            {"item": i, "value": rewards.dollars(i.value_cents)} for i in _gift_choices(advocate)
        ],
    }
    return render(request, "advocacy/advocates/detail.html", context)


@require_GET
@feedback_view
def advocate_card(request, advocate_id: int):
    """The printable card: the practice's name and phone, the link and its QR code; no
    patient data, so it can be handed over or left on a desk."""
    advocate = get_object_or_404(Advocate, pk=advocate_id, opted_out_at__isnull=True)
    link = services.personal_link(advocate)
    audit.record("advocate.card_printed", services.advocate_touch(advocate), actor=request.user)
    org = Organization.current()
    context = {
        "link": link,
        "qr": services.card_svg(link),
        "practice": org,
        "advocate_id": advocate.pk,
    }
    return render(request, "advocacy/advocates/card.html", context)


@require_POST
@feedback_view
def advocate_opt_out(request, advocate_id: int):
    advocate = get_object_or_404(Advocate, pk=advocate_id)
    try:
        services.opt_out(advocate=advocate, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "The patient no longer refers friends; their link now leads to the ordinary form.",
        )
    return redirect("advocate_detail", advocate_id=advocate.pk)


def _posted_pk(request, name: str) -> int | None:
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


@require_POST
@feedback_view
def advocate_reward(request, advocate_id: int):
    advocate = get_object_or_404(Advocate, pk=advocate_id)
    item_pk, friend_pk = _posted_pk(request, "item"), _posted_pk(request, "friend_referral")
    item = RewardItem.objects.filter(pk=item_pk).first() if item_pk else None
    friend = (
        FriendReferral.objects.filter(pk=friend_pk, advocate=advocate).first()
        if friend_pk
        else None
    )
    if item is None:
        messages.error(request, "Choose an item from the list.")
        return redirect("advocate_detail", advocate_id=advocate.pk)
    try:
        rewards.give_reward(
            advocate=advocate,
            item=item,
            friend_referral=friend,
            acting_user=request.user,
            now=timezone.now(),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{item.name} was written in the ledger.")
    return redirect("advocate_detail", advocate_id=advocate.pk)


# ---------------------------------------------------------------- the patient's own page


def _patient_page(request, template: str, *, status: int = 200, **extra):
    org = Organization.current()
    context = {"organization": org, "phone": org.phone, **extra}
    return render(request, template, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def survey_advocate(request):
    """Become an advocate, from the survey link: GET explains and changes nothing (a mail
    scanner may open it); only the button (POST) opts in."""
    survey = survey_from(request)
    now = timezone.now()
    if survey is None or survey.audience != Audience.PATIENT or survey.patient is None:
        return _patient_page(
            request,
            "messaging/patient_problem.html",
            status=404,
            message="This link is not valid any more. Please use the link in your latest message.",
        )
    if survey.expires_at <= now:
        return _patient_page(
            request,
            "messaging/patient_problem.html",
            status=410,
            message="This link has expired.",
        )
    patient = survey.patient
    advocate = Advocate.objects.filter(patient=patient, opted_out_at__isnull=True).first()
    if request.method == "POST" and advocate is None:
        advocate = services.enrol(
            patient=patient, acting_user=None, via=services.BY_PATIENT, now=now
        )
        return _patient_page(
            request,
            "advocacy/advocates/patient_advocate.html",
            first_name=patient.first_name,
            link=services.personal_link(advocate),
            joined=True,
        )
    return _patient_page(
        request,
        "advocacy/advocates/patient_advocate.html",
        first_name=patient.first_name,
        link=services.personal_link(advocate) if advocate is not None else "",
        joined=advocate is not None,
    )


urlpatterns = [
    path("s/advocate/", survey_advocate, name="advocacy_survey_advocate"),
    path("feedback/advocates/", advocate_list, name="advocates"),
    path("feedback/advocates/enrol/", advocate_enrol, name="advocate_enrol"),
    path("feedback/advocates/<int:advocate_id>/", advocate_detail, name="advocate_detail"),
    path("feedback/advocates/<int:advocate_id>/card/", advocate_card, name="advocate_card"),
    path(
        "feedback/advocates/<int:advocate_id>/opt-out/", advocate_opt_out, name="advocate_opt_out"
    ),
    path("feedback/advocates/<int:advocate_id>/reward/", advocate_reward, name="advocate_reward"),
]
