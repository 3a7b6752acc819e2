"""Writes of the referring-practice portal: invitations, accounts, referrals sent through the
portal, answers to requests for information, and secure messages."""

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from refloop.core.links import absolute_url
from refloop.core.models import User
from refloop.core.roles import Capability, Role, can, require
from refloop.core.validation import required_text
from refloop.network.models import Practice, Provider
from refloop.portal.models import (
    PortalInvite,
    PortalMessage,
    PortalPreference,
    invite_lifetime,
    new_invite_token,
    token_digest,
)
from refloop.practice.models import Department, Organization
from refloop.referrals import services as referral_services
from refloop.referrals import transitions
from refloop.referrals.models import (
    Attachment,
    Direction,
    Referral,
    ReferralChannel,
    SourceType,
    Urgency,
)
from refloop.referrals.selectors import visible_referral
from refloop.referrals.timeline import record_event

logger = logging.getLogger(__name__)

MESSAGE_MAX_CHARS = 4000


# ---- invitations ----------------------------------------------------------------


@dataclass(frozen=True)
class InviteResult:
    invite: PortalInvite
    link: str
    emailed: bool


def invite_portal_user(
    *,
    acting_user: User,
    email: str,
    practice: Practice,
    now: datetime | None = None,
) -> InviteResult:
    """Invite someone at `practice` to the portal; the email carries a single-use link.

    The link to the confirm page starts with BASE_URL, like every link that leaves the
    server, whoever invites and from wherever. An open invite for
    the same address and practice is replaced. If the email cannot be sent the invite
    still stands and the result carries the link, for the inviter to pass on.
    """
    require(acting_user, Capability.WORK_REFERRALS)
    now = now or timezone.now()
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "Enter an email address, like name@practice.org.", field="email"
        ) from None
    if practice is None:
        raise InvalidInput("Choose the practice this person works for.", field="practice")
    if User.objects.filter(email__iexact=email, is_active=True).exists():
        raise InvalidInput("Someone with this email address already has an account.", field="email")
    token = new_invite_token()
    with transaction.atomic():
        PortalInvite.objects.filter(
            email=email, practice=practice, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invite = PortalInvite.objects.create(
            email=email,
            practice=practice,
            invited_by=acting_user,
            digest=token_digest(token),
            created_at=now,
            expires_at=now + invite_lifetime(),
        )
        _record_invite("portal.invite_sent", invite, actor=acting_user, now=now)
    link = absolute_url(reverse("portal_invite_link", args=[token]))
    return InviteResult(invite=invite, link=link, emailed=_send_invite_email(invite, link))


def _record_invite(action: str, invite: PortalInvite, *, actor: User, now: datetime) -> None:
    """The audit record of a step in an invitation's life, with the practice it is for."""
    audit.record(
        action,
        audit.Touch("portal_invite", invite.pk),
        actor=actor,
        detail={"practice_id": invite.practice_id},
        now=now,
    )


def _send_invite_email(invite: PortalInvite, link: str) -> bool:
    organization = Organization.current()
    body = render_to_string(
        "portal/email/invite.txt",
        {"invite": invite, "link": link, "organization": organization},
    )
    subject = f"Your invitation to the {organization.name} referral portal"
    try:
        send_mail(subject, body, None, [invite.email])
    except (smtplib.SMTPException, OSError) as error:
        # Only the invite's id and the error's type: never the link (it is the
        # credential) nor the address; the inviter sees the link on the page instead.
        logger.warning(
            "portal invite #%d: the email could not be sent (%s)",
            invite.pk,
            type(error).__name__,
        )
        return False
    return True


@transaction.atomic
def revoke_invite(invite_id: int, *, acting_user: User, now: datetime | None = None) -> None:
    require(acting_user, Capability.WORK_REFERRALS)
    now = now or timezone.now()
    changed = PortalInvite.objects.filter(
        pk=invite_id, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    if not changed:
        raise Conflict("This invitation was already used or withdrawn.")
    audit.record(
        "portal.invite_revoked", audit.Touch("portal_invite", invite_id), actor=acting_user, now=now
    )


def open_invite(token: str, *, now: datetime | None = None) -> PortalInvite:
    """The invite a link's token names, if it can still be used (reading does not use it)."""
    now = now or timezone.now()
    invite = (
        PortalInvite.objects.select_related("practice")
        .filter(digest=token_digest(token or ""))
        .first()
    )
    if invite is None:
        raise NotFound("This invitation link is not valid. Ask the practice for a new invitation.")
    if invite.used_at is not None:
        raise Conflict(
            "This invitation was already used. Sign in with the account made from it, "
            "or ask the practice for a new invitation."
        )
    if invite.revoked_at is not None:
        raise Conflict("This invitation was withdrawn. Ask the practice for a new invitation.")
    if invite.expires_at <= now:
        raise Conflict("This invitation has expired. Ask the practice for a new invitation.")
    return invite


def accept_invite(
    token: str,
    *,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    now: datetime | None = None,
) -> User:
    """Use the invite once: create the portal account bound to the invite's practice."""
    now = now or timezone.now()
    username = required_text(username, "username", "Choose a username.")
    with transaction.atomic():
        invite = open_invite(token, now=now)
        # The conditional update is the claim: of two concurrent accepts, one wins.
        claimed = PortalInvite.objects.filter(pk=invite.pk, used_at__isnull=True).update(
            used_at=now
        )
        if not claimed:
            raise Conflict("This invitation was already used.")
        if User.objects.filter(username__iexact=username).exists():
            raise InvalidInput("This username is taken; choose another.", field="username")
        user = User(
            username=username,
            email=invite.email,
            first_name=(first_name or "").strip()[:150],
            last_name=(last_name or "").strip()[:150],
            role=Role.PORTAL,
            partner_practice=invite.practice,
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise InvalidInput(" ".join(error.messages), field="password") from None
        user.set_password(password)
        user.save()
        PortalInvite.objects.filter(pk=invite.pk).update(user=user)
        _record_invite("portal.invite_accepted", invite, actor=user, now=now)
    return user


# ---- referrals sent through the portal ------------------------------------------


def _discard_files(attachments: Sequence[Attachment]) -> None:
    for attachment in attachments:
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)


def submit_referral(
    *,
    acting_user: User,
    patient: dict,
    referring_provider: Provider | None,
    reason: str,
    icd10_codes: Sequence[str] = (),
    urgency: str = Urgency.ROUTINE,
    department: Department | None = None,
    documents: Sequence[UploadedFile] = (),
    document_kind: str = "referral_letter",
    idempotency_key: str | None = None,
    fingerprint: str = "",
    now: datetime | None = None,
) -> tuple[Referral, bool]:
    """Send a referral from the portal user's practice, with its documents, in one go.

    A replay of the same form (same one-time key) returns the first referral and adds
    nothing. The user's provider, department and urgency are remembered for next time.
    """
    require(acting_user, Capability.SUBMIT_REFERRALS)
    now = now or timezone.now()
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            referral, created = referral_services.create_inbound_referral(
                acting_user=acting_user,
                patient=patient,
                source_type=SourceType.PROVIDER,
                channel=ReferralChannel.PORTAL,
                reason=reason,
                urgency=urgency,
                referring_provider=referring_provider,
                icd10_codes=icd10_codes,
                department=department,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                now=now,
            )
            if created:
                _attach_all(referral, acting_user, documents, document_kind, now, stored)
                remember_choices(
                    acting_user,
                    referring_provider=referring_provider,
                    department=department,
                    urgency=urgency,
                )
    except BaseException:
        # The rows rolled back; their files must not outlive them.
        _discard_files(stored)
        raise
    return referral, created


def _attach_all(
    referral: Referral,
    user: User,
    documents: Sequence[UploadedFile],
    kind: str,
    now: datetime,
    stored: list[Attachment],
) -> None:
    """Attach each upload, adding it to `stored` so a rollback can remove its file."""
    for upload in documents:
        stored.append(
            referral_services.add_attachment(
                referral,
                acting_user=user,
                upload=upload,
                filename=upload.name or "",
                kind=kind,
                now=now,
            )
        )


def remember_choices(
    user: User, *, referring_provider: Provider | None, department: Department | None, urgency: str
) -> None:
    PortalPreference.objects.update_or_create(
        user=user,
        defaults={
            "referring_provider": referring_provider,
            "department": department,
            "urgency": urgency,
        },
    )


def answer_info_request(
    referral_id: int,
    *,
    acting_user: User,
    documents: Sequence[UploadedFile],
    document_kind: str = "records",
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The referrer sends what a pending_info request asked for: the documents are attached
    and the referral goes back to review, all in one transaction."""
    now = now or timezone.now()
    if not documents:
        raise InvalidInput("Attach the records that were asked for.", field="documents")
    stored: list[Attachment] = []

    def attach(referral: Referral) -> list[Attachment]:
        _attach_all(referral, acting_user, documents, document_kind, now, stored)
        return stored

    try:
        with transaction.atomic():
            referral = transitions.answer_info_request(
                referral_id,
                acting_user=acting_user,
                attach=attach,
                note=note,
                expected_version=expected_version,
                now=now,
            )
    except BaseException:
        _discard_files(stored)
        raise
    return referral


# ---- secure messages ------------------------------------------------------------


def may_message(user: User) -> bool:
    """Portal users answer on their practice's referrals; staff who annotate referrals reply."""
    return can(user, Capability.SEND_REFERRAL_MESSAGES)


def post_message(
    referral_id: int,
    *,
    acting_user: User,
    body: str,
    now: datetime | None = None,
) -> PortalMessage:
    """Add a message to a referral's thread; the other side is told by email (no content)."""
    now = now or timezone.now()
    body = required_text(body, "body", "Write a message before sending.")
    if len(body) > MESSAGE_MAX_CHARS:
        raise InvalidInput(
            f"A message may be at most {MESSAGE_MAX_CHARS} characters; this one has {len(body)}.",
            field="body",
        )
    if not may_message(acting_user):
        raise NotAllowed("Your role may not send messages on referrals.")
    with transaction.atomic():
        referral = visible_referral(acting_user, referral_id)
        if referral.direction != Direction.INBOUND:
            raise Conflict("Messages with the referring practice are for inbound referrals.")
        message = PortalMessage.objects.create(
            referral=referral,
            author=acting_user,
            from_portal=can(acting_user, Capability.USE_PORTAL),
            body=body,
            created_at=now,
        )
        record_event(
            referral,
            "referral.message_posted",
            actor=acting_user,
            at=now,
            data={"message_id": message.pk, "from_portal": message.from_portal},
        )
    return message


def mark_thread_read(referral: Referral, user: User, *, now: datetime | None = None) -> int:
    """Mark the other side's messages on `referral` as read by `user`'s side."""
    reading_portal = can(user, Capability.USE_PORTAL)
    return PortalMessage.objects.filter(
        referral=referral, from_portal=not reading_portal, read_at__isnull=True
    ).update(read_at=now or timezone.now())
