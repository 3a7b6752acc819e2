"""Review invitations: the same offer of the practice's public review sites to every patient
respondent, whatever their score, and the counting redirect their links go through.

Nothing here reads a score, a comment or a case: 16 CFR 465.7 (the FTC's rule on consumer
reviews, in force since October 2024) and Google's review policy forbid asking only the
happy patients ("review gating"). `offer` takes nothing but the survey's location.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from refloop.advocacy.models import (
    Audience,
    ReviewClick,
    ReviewInvitation,
    ReviewSite,
    Survey,
    new_code,
)
from refloop.core import audit
from refloop.core.errors import Conflict
from refloop.core.links import absolute_url

# The one wording of the offer, shown to every respondent alike.
OFFER_HEADING = "Would you share your experience?"
OFFER_TEXT = (
    "Other patients read public reviews when they choose where to go. If you would like to "
    "write one, good or bad, these are the places. It is entirely up to you."
)


@dataclass(frozen=True)
class Offer:
    """What the thank-you page (or a message) offers: the sites, in order, and the words."""

    heading: str
    text: str
    sites: tuple[tuple[int, str, str], ...]  # (site id, name, url), in the order offered


def sites_for(location_id: int | None) -> list[ReviewSite]:
    """The active review sites for `location_id` and those for every location, in order."""
    at = Q(location__isnull=True)
    if location_id is not None:
        at |= Q(location_id=location_id)
    return list(ReviewSite.objects.filter(at, active=True).order_by("position", "pk"))


def offer(location_id: int | None) -> Offer:
    sites = tuple((s.pk, s.name, s.url) for s in sites_for(location_id))
    return Offer(OFFER_HEADING, OFFER_TEXT, sites)


def click_url(invitation: ReviewInvitation, site_id: int) -> str:
    return reverse("advocacy_review_click", args=[invitation.code, site_id])


def _invitation(*, via: str, survey: Survey, dedupe_key: str, now: datetime) -> ReviewInvitation:
    if survey.patient_id is None:
        raise Conflict("Only a patient's survey can lead to a review invitation.")
    existing = ReviewInvitation.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    invitation = ReviewInvitation(
        code=new_code("r"),
        via=via,
        patient_id=survey.patient_id,
        survey=survey,
        location_id=survey.location_id,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:  # the same page opened twice at once
        return ReviewInvitation.objects.get(dedupe_key=dedupe_key)
    return invitation


def offer_on_thank_you(survey: Survey, *, now: datetime) -> tuple[ReviewInvitation, Offer] | None:
    """The invitation recorded for this respondent's thank-you page, and what it offers; None
    for a survey no patient answered (an office's)."""
    if survey.audience != Audience.PATIENT or survey.patient_id is None:
        return None
    invitation = _invitation(
        via=ReviewInvitation.Via.SURVEY_PAGE,
        survey=survey,
        dedupe_key=f"survey:{survey.pk}",
        now=now,
    )
    return invitation, offer(invitation.location_id)


def message_invitation(survey: Survey, *, now: datetime) -> ReviewInvitation:
    """The invitation a message to the patient of `survey` carries (made once per survey)."""
    return _invitation(
        via=ReviewInvitation.Via.MESSAGE, survey=survey, dedupe_key=f"message:{survey.pk}", now=now
    )


def links_text(invitation: ReviewInvitation) -> str:
    """The offer's links for a message: one line per site, each through the counting redirect."""
    return "\n".join(
        f"{name}: {absolute_url(click_url(invitation, site_id))}"
        for site_id, name, _ in offer(invitation.location_id).sites
    )


def record_click(code: str, site_id: int, *, now: datetime) -> str | None:
    """Count one click and return where it goes: only a site that invitation offers (never an
    address taken from the request); None for an unknown invitation or site."""
    if not code or len(code) > 40:
        return None
    invitation = ReviewInvitation.objects.filter(code=code).first()
    if invitation is None:
        return None
    site = next((s for s in sites_for(invitation.location_id) if s.pk == site_id), None)
    if site is None:
        return None
    ReviewClick.objects.create(invitation=invitation, site=site, at=now)
    audit.record(
        "review.clicked",
        audit.Touch("reviewinvitation", invitation.pk, patient_id=invitation.patient_id),
        actor=None,
        detail={"site": site.name},
        now=now,
    )
    return site.url
