"""Users with their role, API tokens, the audit log, staff notifications, periodic jobs, and
the record of which reactions to an event have run."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from refloop.core.roles import Role


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    # Clinicians see the referrals of their departments.
    departments = models.ManyToManyField("practice.Department", blank=True, related_name="staff")
    # Portal users belong to one referring practice and see only what it sent.
    partner_practice = models.ForeignKey(
        "network.Practice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_users",
    )
    # The practice's compliance officer (granted by an admin): may record a gift past the
    # Stark limit under the repayment exception (refloop.core.roles.APPROVE_GIFT_OVERAGES).
    # A database default too: rows written without the field (an older schema's code, a
    # migration test) are not compliance officers.
    compliance_officer = models.BooleanField(default=False, db_default=False)

    def __str__(self) -> str:
        return self.username


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    # Recorded at most once a minute (refloop.api.LAST_USED_RESOLUTION), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="From this moment on the token is refused")
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, *, days: int | None = None) -> tuple["ApiToken", str]:
        """A new token for `user`, good for `days` (settings.API_TOKEN_DAYS by default)."""
        token = "rfl_" + secrets.token_urlsafe(32)
        lifetime = timedelta(days=settings.API_TOKEN_DAYS if days is None else days)
        row = cls.objects.create(
            user=user,
            digest=cls.digest_of(token),
            prefix=token[:8],
            expires_at=timezone.now() + lifetime,
        )
        return row, token

    def has_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} is append-only")

    def delete(self):
        raise TypeError(f"{self.model.__name__} is append-only")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never changed; database triggers enforce the same."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is append-only")


class AuditEntry(AppendOnlyModel):
    """One read or write of patient data (or of anything else worth answering for).

    Object ids are plain values, not foreign keys, so nothing can cascade into the log.
    Never put patient data in `detail`.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, help_text="username, or the system job")
    action = models.CharField(max_length=60, db_index=True)  # dotted: referral.read
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    referral_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10)
    detail = models.JSONField(default=dict, blank=True)
    # Tamper evidence (refloop.core.audit_chain): the entry's place in its chain and the
    # keyed hash of its columns and of the entry before it.
    chain = models.CharField(max_length=24, blank=True, default="")
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["actor", "at"])]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_position")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The last link of one audit chain, locked by each writer of that chain.

    `seal` is a keyed hash of the row, so rolling the head back to hide removed
    entries at the end of a chain needs the audit key.
    """

    chain = models.CharField(max_length=24, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True, default="")
    seal = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"


class Notification(models.Model):
    """An in-app notice to a staff member. Text says what happened, never who the patient is."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60)  # dotted event name
    text = models.CharField(max_length=300)
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=80, default="", blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            # One notice per event per person: a retried task does not notify twice.
            models.UniqueConstraint(
                fields=["user", "kind", "referral", "dedupe_key"], name="notification_once"
            ),
        ]


class ReactionDone(models.Model):
    """One handler has reacted to one event (refloop.core.reactions). Written in the same
    transaction as the handler's own writes, so a handler's effects happen once per event
    however often its task is run: by a retry, a second worker, or a test."""

    event_model = models.CharField(max_length=60)  # "referrals.referralevent"
    event_id = models.BigIntegerField()
    handler = models.CharField(max_length=150)  # a dotted path in the reactions table
    done_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_model", "event_id", "handler"], name="reaction_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handler} @ {self.event_model}:{self.event_id}"


class PeriodicJob(models.Model):
    """A job the worker enqueues every `interval_seconds`; claiming `next_run_at` is atomic."""

    name = models.CharField(max_length=60, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
