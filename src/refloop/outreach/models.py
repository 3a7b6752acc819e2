"""The liaison's domain: territories, tiers and visit cadence, activities with the people met,
tasks, events, and the gift and meal ledger kept against the Stark non-monetary compensation
limit.

Nothing here holds patient data: a liaison sees referral counts and numbers only.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from refloop.core import context
from refloop.network.models import Practice, Provider, StaffContact


class Tier(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    PROSPECT = "prospect", "Prospect"


class OutreachSettings(models.Model):
    """The practice's outreach settings (a singleton, pk=1): visit cadence per tier, in days."""

    cadence_a = models.PositiveSmallIntegerField(default=30)
    cadence_b = models.PositiveSmallIntegerField(default=60)
    cadence_c = models.PositiveSmallIntegerField(default=90)
    cadence_prospect = models.PositiveSmallIntegerField(default=90)

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        context.forget("outreach_settings")

    @classmethod
    def current(cls) -> "OutreachSettings":
        return context.remembered("outreach_settings", cls._load)

    @classmethod
    def _load(cls) -> "OutreachSettings":
        found, _ = cls.objects.get_or_create(pk=1)
        return found

    def cadence(self, tier: str) -> int:
        return {
            Tier.A: self.cadence_a,
            Tier.B: self.cadence_b,
            Tier.C: self.cadence_c,
            Tier.PROSPECT: self.cadence_prospect,
        }[Tier(tier)]


class Territory(models.Model):
    """A set of referring practices one liaison owns. Practices join one by one, or by the
    cities and ZIP codes listed (outreach.territories assigns them)."""

    name = models.CharField(max_length=120, unique=True)
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="territories",
    )
    cities = models.JSONField(default=list, blank=True)  # ["Springfield", ...]
    postal_codes = models.JSONField(default=list, blank=True)  # ["62701", "627", ...] prefixes

    def __str__(self) -> str:
        return self.name


class Relationship(models.Model):
    """What outreach keeps about one referring practice: its territory and tier."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="relationship")
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="relationships"
    )
    # The tier computed from referral volume and potential (outreach.tiers), kept so a
    # due list over thousands of practices is one query; a hand-set tier wins.
    computed_tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.C)
    tier_reason = models.CharField(max_length=200, blank=True)
    tier_override = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    last_visit_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.practice} ({self.tier})"

    @property
    def tier(self) -> str:
        return self.tier_override or self.computed_tier


class ProviderProfile(models.Model):
    """What a liaison learns about a referring provider beyond the directory."""

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="profile")
    influence = models.PositiveSmallIntegerField(
        default=0, help_text="0 unknown, 1 low, 2 some, 3 decides where referrals go"
    )
    office_days = models.JSONField(default=list, blank=True)  # ["mon", "wed"]


class StaffProfile(models.Model):
    staff = models.OneToOneField(StaffContact, on_delete=models.CASCADE, related_name="profile")
    influence = models.PositiveSmallIntegerField(default=0)


class Topic(models.Model):
    """What a visit was about: a short list the practice edits."""

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ActivityKind(models.TextChoices):
    VISIT = "visit", "Visit"
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    DROP_OFF = "drop_off", "Drop-off of materials"
    LUNCH_AND_LEARN = "lunch_and_learn", "Lunch-and-learn"
    EVENT = "event", "Other event"
    THANK_YOU_NOTE = "thank_you_note", "Thank-you note"
    GIFT = "gift", "Gift"


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Activity(models.Model):
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    status = models.CharField(
        max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.DONE
    )
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="activities")
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    occurred_on = models.DateField(db_index=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="A planned visit's time")
    providers = models.ManyToManyField(Provider, blank=True, related_name="activities")
    staff = models.ManyToManyField(StaffContact, blank=True, related_name="activities")
    topics = models.ManyToManyField(Topic, blank=True, related_name="activities")
    notes = models.TextField(blank=True)
    follow_up = models.CharField(max_length=300, blank=True)
    follow_up_on = models.DateField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    event = models.ForeignKey(
        "Event", null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    # The phone's own id for an entry made offline: sending it twice records it once.
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # What the first send with that key said (a hash), so a key reused for another entry
    # is refused rather than taken for a replay.
    client_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["practice", "-occurred_on"]),
            # The liaison's own numbers (visits per week) and planned visits, read on every
            # start page: without these a liaison's years of activities are scanned.
            models.Index(fields=["liaison", "occurred_on"], name="outreach_activity_mine"),
            models.Index(
                fields=["liaison", "starts_at"],
                condition=models.Q(status="planned"),
                name="outreach_activity_planned",
            ),
        ]
        ordering = ["-occurred_on", "-pk"]


class CalendarFeed(models.Model):
    """A liaison's secret calendar address (outreach.calendar): only the token's SHA-256 is
    kept, so the address is shown once when made; making a new one retires the old."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class TaskKind(models.TextChoices):
    MANUAL = "manual", "By hand"
    DECLINING = "declining", "Declining referrals"
    FIRST_REFERRAL = "first_referral", "First referral"
    NOT_A_FIT = "not_a_fit", "Declined as not a fit"
    SERVICE_PROBLEM = "service_problem", "Service problem at our end"
    OVERDUE_VISIT = "overdue_visit", "Overdue visit"
    FOLLOW_UP = "follow_up", "Follow-up of an activity"
    OFFICE_FEEDBACK = "office_feedback", "Low rating from a referring office"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Task(models.Model):
    kind = models.CharField(max_length=20, choices=TaskKind.choices, default=TaskKind.MANUAL)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outreach_tasks",
    )
    due_on = models.DateField(null=True, blank=True)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.CASCADE, related_name="outreach_tasks"
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="outreach_tasks"
    )
    staff = models.ForeignKey(
        StaffContact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outreach_tasks",
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # What raised it, once per occurrence ("declining:practice:12:2026-05"): a signal seen
    # again on the next sweep finds its task already there.
    signal_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "status", "due_on"])]


class EventKind(models.TextChoices):
    LUNCH_AND_LEARN = "lunch_and_learn", "Lunch-and-learn"
    CME = "cme", "CME evening"
    OPEN_HOUSE = "open_house", "Open house"
    OTHER = "other", "Other"


class Event(models.Model):
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    place = models.CharField(max_length=200, blank=True)
    host_practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="hosted_events"
    )
    total_cost = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organized_events"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class Attendee(models.Model):
    """An invitee of an event; `attended` once they came. The cost is shared among those who
    came, and each share goes on the ledger (outreach.ledger)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendees")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT)
    staff = models.ForeignKey(StaffContact, null=True, blank=True, on_delete=models.PROTECT)
    attended = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__isnull=False, staff__isnull=True)
                | Q(provider__isnull=True, staff__isnull=False),
                name="attendee_is_one_person",
            ),
            models.UniqueConstraint(fields=["event", "provider"], name="attendee_provider_once"),
            models.UniqueConstraint(fields=["event", "staff"], name="attendee_staff_once"),
        ]


class StarkLimit(models.Model):
    """The Stark law's non-monetary compensation limit for a calendar year (42 CFR
    411.357(k)); CMS publishes the new figure each January, and an admin enters it."""

    year = models.PositiveSmallIntegerField(unique=True)
    amount = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        ordering = ["-year"]


class GiftKind(models.TextChoices):
    MEAL = "meal", "Meal"
    GIFT = "gift", "Gift"
    EVENT = "event", "Event attendance"
    OTHER = "other", "Other item of value"


class GiftEntry(models.Model):
    """One item of value given to one person at a referring practice."""

    given_on = models.DateField(db_index=True)
    kind = models.CharField(max_length=10, choices=GiftKind.choices)
    description = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=10, decimal_places=2)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="gifts")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="gifts"
    )
    staff = models.ForeignKey(
        StaffContact, null=True, blank=True, on_delete=models.PROTECT, related_name="gifts"
    )
    # A physician is judged by the credentials at the time (outreach.ledger.is_physician).
    physician = models.BooleanField(default=False)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="gifts"
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="gifts"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__isnull=False, staff__isnull=True)
                | Q(provider__isnull=True, staff__isnull=False),
                name="gift_has_one_recipient",
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="gift_has_a_value"),
        ]
        indexes = [models.Index(fields=["provider", "given_on"])]


class Overage(models.Model):
    """A gift past the year's limit, recorded by a compliance user under the exception of
    42 CFR 411.357(k)(3): the physician repays the excess within 180 days or by the end of
    the year, whichever is earlier; at most 50% of the limit; once every three years."""

    gift = models.OneToOneField(GiftEntry, on_delete=models.PROTECT, related_name="overage")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="overages")
    excess = models.DecimalField(max_digits=10, decimal_places=2)
    repay_by = models.DateField()
    repaid_on = models.DateField(null=True, blank=True)
    repaid_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
