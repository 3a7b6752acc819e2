"""The outbox and what shapes it: messages with their delivery attempts, editable templates,
automation rule settings, recipient preferences and opt-outs, and patients' magic links."""

from datetime import time

from django.db import models
from django.db.models import Q

from refloop.core.encryption import EncryptedCharField, EncryptedTextField


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    FAX = "fax", "Fax"
    LETTER = "letter", "Letter"
    IN_APP = "in_app", "In-app"


class Status(models.TextChoices):
    DUE = "due", "Due"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Audience(models.TextChoices):
    REFERRER = "referrer", "Referring provider"
    PATIENT = "patient", "Patient"
    STAFF = "staff", "Our staff"


class Message(models.Model):
    """One email, SMS, fax, letter or in-app notice, due or done.

    `dedupe_key` (cause, rule, recipient, channel) is unique: whatever runs twice, a
    message is queued once. The body is rendered when queued, except magic links,
    which are minted at send time so no usable token is ever stored.
    """

    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    event = models.ForeignKey(
        "referrals.ReferralEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The timeline event that caused it",
    )
    rule = models.CharField(max_length=60, db_index=True)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    recipient = models.CharField(max_length=60, db_index=True, help_text="e.g. patient:12")
    recipient_label = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, default="en")
    subject = EncryptedCharField(max_length=200, blank=True)
    body = EncryptedTextField()
    clinical = models.BooleanField(
        default=False, help_text="Carries clinical detail: only to treating parties, with consent"
    )
    dedupe_key = models.CharField(max_length=200, unique=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True)
    claim = models.CharField(max_length=32, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it failed or was cancelled")
    external_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The dispatcher's claim: due rows in due order, read straight off the index.
            models.Index(fields=["status", "due_at", "id"], name="message_due_order"),
            models.Index(fields=["referral", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk} ({self.rule}, {self.channel})"

    def audit_touch(self):
        """The audit log's handle on this message: it, and the patient it is about, if any."""
        from refloop.core.audit import touch_on_referral

        return touch_on_referral("message", self)


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted (worker stopped mid-send)"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    at = models.DateTimeField()
    worker = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    detail = models.CharField(max_length=300, blank=True)


class Template(models.Model):
    """An admin's wording for one rule on one channel; the built-in default applies otherwise."""

    key = models.CharField(max_length=60)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    language = models.CharField(max_length=10, default="en")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    updated_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "channel", "language"], name="one_template_per_key_channel_language"
            )
        ]


class RuleSetting(models.Model):
    """An admin's change to one automation rule: switched off, or retimed."""

    key = models.CharField(max_length=60, unique=True)
    enabled = models.BooleanField(default=True)
    offset_minutes = models.IntegerField(
        null=True, blank=True, help_text="Overrides the rule's default timing"
    )
    updated_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField()


DEFAULT_QUIET_START = time(20, 0)
DEFAULT_QUIET_END = time(8, 0)


class Preference(models.Model):
    """How one recipient wants to hear from us (keyed like Message.recipient)."""

    recipient = models.CharField(max_length=60, unique=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    opted_out = models.JSONField(default=list, blank=True, help_text="Channels never to use")
    language = models.CharField(max_length=10, blank=True)
    quiet_start = models.TimeField(default=DEFAULT_QUIET_START)
    quiet_end = models.TimeField(default=DEFAULT_QUIET_END)
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the practice's")
    updated_at = models.DateTimeField()


class OptOut(models.Model):
    """An address that asked not to be messaged on a channel (an SMS STOP, an unsubscribe)."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254)
    source = models.CharField(max_length=40, help_text="e.g. sms_stop, staff")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="one_opt_out_per_address")
        ]


class MagicLink(models.Model):
    """A signed, expiring, single-purpose link for a patient. Only the digest is stored."""

    class Purpose(models.TextChoices):
        CONFIRM_APPOINTMENT = "confirm_appointment", "Confirm the appointment"
        CANCEL_APPOINTMENT = "cancel_appointment", "Cancel the appointment"
        VIEW_INSTRUCTIONS = "view_instructions", "See what to bring and expect"
        VIEW_DOCUMENT = "view_document", "See a document sent to you"

    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.CASCADE, related_name="magic_links"
    )
    appointment = models.ForeignKey(
        "referrals.Appointment", null=True, blank=True, on_delete=models.CASCADE
    )
    attachment = models.ForeignKey(
        "referrals.Attachment", null=True, blank=True, on_delete=models.CASCADE
    )
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=["view_document"], attachment__isnull=False)
                | ~Q(purpose__in=["view_document"]),
                name="document_link_names_its_document",
            )
        ]
