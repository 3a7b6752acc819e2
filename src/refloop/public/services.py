"""Writes of the public referral form: the one-time form nonce, the per-address rate limit,
and the submission itself (a referral through the referrals service, plus who sent it)."""

import logging
import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from refloop.core import audit, context
from refloop.network.models import Provider
from refloop.practice.models import Department
from refloop.public.models import (
    HeardAbout,
    PublicSubmission,
    SubmissionAttempt,
    touch,
)
from refloop.referrals.models import ReferralChannel, SourceType
from refloop.referrals.services import create_inbound_referral

log = logging.getLogger(__name__)

NONCE_SALT = "refloop.public.form-nonce"
CONFIRMATION_SALT = "refloop.public.confirmation"
# A form left open longer than this asks to be sent again (everything typed is kept).
NONCE_MAX_AGE = timedelta(hours=24)
# How long the confirmation link shows the referral's reference and first-contact time.
CONFIRMATION_MAX_AGE = timedelta(hours=12)

# Defaults; a deployment may set PUBLIC_FORM_RATE_LIMIT / PUBLIC_FORM_RATE_WINDOW_MINUTES.
RATE_LIMIT = 10
RATE_WINDOW_MINUTES = 60


# The form's nonce ------------------------------------------------------------------------


def new_form_nonce() -> str:
    """A signed, timestamped random value for one rendering of the form."""
    return signing.TimestampSigner(salt=NONCE_SALT).sign(uuid.uuid4().hex)


class NonceProblem(Exception):
    """The form's nonce is missing, altered or too old; the message says what to do."""


def read_form_nonce(signed: str) -> str:
    """The random part of a nonce this server issued within NONCE_MAX_AGE."""
    try:
        return signing.TimestampSigner(salt=NONCE_SALT).unsign(signed or "", max_age=NONCE_MAX_AGE)
    except signing.SignatureExpired:
        raise NonceProblem(
            "This form was open for a long time, so it was not sent. Everything you typed is "
            "kept below: please check it and send it again."
        ) from None
    except signing.BadSignature:
        raise NonceProblem(
            "This form could not be sent (it was incomplete or altered). Everything you typed "
            "is kept below: please send it again."
        ) from None


# The confirmation link ---------------------------------------------------------------------


def confirmation_token(reference: uuid.UUID) -> str:
    """A signed value for the confirmation page's URL: a random reference, nothing personal."""
    return signing.dumps(reference.hex, salt=CONFIRMATION_SALT, compress=False)


def decoy_confirmation_token() -> str:
    """A valid-looking token that names no submission (the honeypot's answer)."""
    return confirmation_token(uuid.uuid4())


def submission_for_token(token: str) -> PublicSubmission | None:
    try:
        reference = signing.loads(token or "", salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
        reference = uuid.UUID(hex=reference)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return (
        PublicSubmission.objects.select_related("referral")
        .filter(reference=reference, referral__isnull=False)
        .first()
    )


# The rate limit ----------------------------------------------------------------------------


def _limit() -> tuple[int, timedelta]:
    limit = getattr(settings, "PUBLIC_FORM_RATE_LIMIT", RATE_LIMIT)
    minutes = getattr(settings, "PUBLIC_FORM_RATE_WINDOW_MINUTES", RATE_WINDOW_MINUTES)
    return limit, timedelta(minutes=minutes)


def client_key(address: str | None) -> str:
    """A keyed hash of the client's address: counts per address without storing it."""
    return salted_hmac(
        "refloop.public.client", address or "unknown", algorithm="sha256"
    ).hexdigest()


def retry_after_seconds(key: str, *, now: datetime | None = None) -> int | None:
    """Seconds until `key` may send the form again; None while it is under the limit."""
    now = now or timezone.now()
    limit, window = _limit()
    recent = SubmissionAttempt.objects.filter(client_key=key, at__gt=now - window)
    if recent.count() < limit:
        return None
    # The window reopens when enough of the oldest attempts have aged out.
    times = list(recent.order_by("-at").values_list("at", flat=True)[:limit])
    opens_at = times[-1] + window
    return max(1, math.ceil((opens_at - now).total_seconds()))


def record_attempt(key: str, *, now: datetime | None = None) -> None:
    """Count one POST from `key`, and forget attempts older than the window (every address's)."""
    now = now or timezone.now()
    _, window = _limit()
    SubmissionAttempt.objects.filter(at__lte=now - window).delete()
    SubmissionAttempt.objects.create(client_key=key, at=now)


def note_honeypot(key: str) -> None:
    """A bot filled the hidden field: say so in the log with a count, never the content."""
    _, window = _limit()
    count = SubmissionAttempt.objects.filter(client_key=key, at__gt=timezone.now() - window).count()
    log.info(
        "Public referral form: honeypot filled, nothing recorded (%d attempts from this "
        "address in the window).",
        count,
    )


# A friend's referral through an advocate's link ---------------------------------------------
# advocacy sits above this app: it is reached by dotted path, never imported.
ADVOCATE_BY_CODE = "refloop.advocacy.advocates.active_by_code"
RECORD_FRIEND_REFERRAL = "refloop.advocacy.advocates.record_friend_referral"


def advocate_for(code: str):
    """The active advocate whose personal link carries `code`, else None (unknown or opted
    out: the form is then an ordinary one)."""
    return import_string(ADVOCATE_BY_CODE)(code) if code else None


# The submission ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitter:
    """Who filled in the form, and how they heard about us."""

    role: str
    heard_about: str
    heard_other: str = ""
    campaign: str = ""
    name: str = ""
    phone: str = ""
    fax: str = ""
    practice_name: str = ""
    npi: str = ""
    referring_doctor: str = ""


def directory_provider(npi: str) -> Provider | None:
    if not npi:
        return None
    return Provider.objects.select_related("practice").filter(npi=npi).first()


def _source(submitter: Submitter, provider: Provider | None) -> tuple[str, str, str]:
    """(source_type, source_other, campaign) for the answer to "How did you hear about us"."""
    heard = submitter.heard_about
    if heard == HeardAbout.OTHER:
        return SourceType.OTHER, submitter.heard_other.strip(), ""
    if heard == HeardAbout.MARKETING:
        return SourceType.MARKETING, "", submitter.campaign.strip()[:120]
    if heard == HeardAbout.PROVIDER:
        # A provider not in the directory is still a provider referral; who they are
        # is kept on the submission, where staff see it and can add them to the directory.
        return SourceType.PROVIDER, "", ""
    return heard, "", ""


def submit_public_referral(
    *,
    nonce: str,
    submitter: Submitter,
    patient: dict,
    reason: str,
    urgency: str,
    icd10_codes: list[str],
    department: Department | None,
    advocate_code: str = "",
    may_name_friend: bool = False,
    now: datetime | None = None,
) -> tuple[PublicSubmission, bool]:
    """Record a referral from the public form; returns (submission, created).

    The nonce is claimed in the same transaction as the referral, so the same form sent
    twice (a double click, a reload of the POST, two tabs) records one referral and the
    second answer names the first. A refused referral (InvalidInput) rolls the claim
    back, so the corrected form can be sent with the same nonce.

    Sent from an active advocate's link (`advocate_code`), the referral's source is that
    patient, and the friend's answer to "may we thank them?" is kept with it.
    """
    now = now or timezone.now()
    provider = directory_provider(submitter.npi)
    source_type, source_other, campaign = _source(submitter, provider)
    advocate = advocate_for(advocate_code)
    if advocate is not None:
        source_type, source_other, campaign = SourceType.PATIENT, "", ""
    # Entries written for this request read "system:web_form" in the audit log.
    web_form = replace(context.current(), channel=ReferralChannel.WEB_FORM.value)
    with context.using(web_form), transaction.atomic():
        try:
            with transaction.atomic():
                submission = PublicSubmission.objects.create(
                    nonce=nonce,
                    submitted_at=now,
                    submitter_role=submitter.role,
                    submitter_name=submitter.name,
                    submitter_phone=submitter.phone,
                    submitter_fax=submitter.fax,
                    practice_name=submitter.practice_name,
                    npi=submitter.npi,
                    matched_provider=provider,
                    referring_doctor=submitter.referring_doctor,
                    heard_about=submitter.heard_about,
                    heard_other=submitter.heard_other.strip()
                    if submitter.heard_about == HeardAbout.OTHER
                    else "",
                )
        except IntegrityError:
            earlier = PublicSubmission.objects.select_related("referral").get(nonce=nonce)
            return earlier, False
        referral, _ = create_inbound_referral(
            acting_user=None,
            channel=ReferralChannel.WEB_FORM,
            patient=patient,
            source_type=source_type,
            source_other=source_other,
            campaign=campaign,
            referring_provider=provider,
            advocate_patient=advocate.patient if advocate is not None else None,
            reason=reason,
            icd10_codes=icd10_codes,
            urgency=urgency,
            department=department,
            now=now,
        )
        submission.referral = referral
        submission.save(update_fields=["referral"])
        if advocate is not None:
            import_string(RECORD_FRIEND_REFERRAL)(
                referral=referral, advocate=advocate, may_name_friend=may_name_friend, now=now
            )
        audit.record(
            "public_submission.created",
            touch(submission, referral),
            actor=None,
            detail={
                "submitter_role": submitter.role,
                "heard_about": submitter.heard_about,
                "directory_provider": provider is not None,
            },
            now=now,
        )
    return submission, True
