"""The analytics fact tables: one narrow row per referral and per appointment.

Metrics read these instead of walking timelines, so a dashboard over a million
referrals scans one table. They are derived data: `facts.rebuild` writes them from
the referral, its timeline and its appointments after every change (and a worker
job repairs any row whose referral moved on without it).
"""

from django.db import models

# Bits of ReferralFact.reached: every inbound state a referral has been in.
FUNNEL_STATES = (
    "received",
    "in_review",
    "pending_info",
    "accepted",
    "contacting",
    "scheduled",
    "no_show",
    "seen",
    "loop_closed",
    "declined",
    "unreachable",
    "cancelled",
)
REACHED_BIT = {state: 1 << i for i, state in enumerate(FUNNEL_STATES)}
# The open states whose time a referral spends in them is measured (dwell_<state>).
DWELL_STATES = FUNNEL_STATES[:8]
# The funnel: the milestones every referral passes on its way to a closed loop, in order,
# and the optional states (detours) taken between a milestone and the next, by the
# milestone they leave from. Drawn as steps, a detour made the counts go up again.
MILESTONES = ("received", "accepted", "scheduled", "seen", "loop_closed")
DETOURS = {
    "in_review": "received",
    "pending_info": "received",
    "contacting": "accepted",
    "no_show": "scheduled",
}
# A milestone is passed by every referral on record in it or in a later one (a history
# imported without an intermediate state still went through it).
PASSED_MASK = {
    milestone: sum(REACHED_BIT[later] for later in MILESTONES[i:])
    for i, milestone in enumerate(MILESTONES)
}


def _ref(model: str, **kwargs) -> models.ForeignKey:
    # Facts point at their dimensions without constraints: they are rebuilt from the
    # referral and must never block a change to the directory or the practice's set-up.
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **kwargs,
    )


def _hours() -> models.FloatField:
    return models.FloatField(null=True, blank=True)


class ReferralFact(models.Model):
    referral = models.OneToOneField(
        "referrals.Referral", primary_key=True, on_delete=models.CASCADE, related_name="fact"
    )
    version = models.PositiveIntegerField(
        help_text="The referral's version this row was built from"
    )
    direction = models.CharField(max_length=8)
    received_at = models.DateTimeField()
    received_month = models.PositiveIntegerField(help_text="yyyymm in the practice's time zone")
    state = models.CharField(max_length=20)
    state_since = models.DateTimeField()

    department = _ref("practice.Department")
    location = _ref("practice.Location", help_text="Where the first appointment was")
    source_type = models.CharField(max_length=12)
    channel = models.CharField(max_length=10)
    urgency = models.CharField(max_length=8)
    practice = _ref("network.Practice", help_text="The referring practice")
    provider = _ref("network.Provider", help_text="The referring provider")
    provider_npi = models.CharField(max_length=10, blank=True)
    assignee = _ref("core.User")

    # outbound (leakage)
    receiving_practice = _ref("network.Practice")
    receiving_in_network = models.BooleanField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    # the clock, in hours from received_at
    first_contact_hours = _hours()
    schedule_hours = _hours()
    appointment_hours = _hours()
    seen_at = models.DateTimeField(null=True, blank=True)
    loop_closed_at = models.DateTimeField(null=True, blank=True)
    report_hours = _hours()  # seen -> loop closed

    reached = models.PositiveIntegerField(
        default=0, help_text="REACHED_BIT of every state it was in"
    )
    no_shows = models.PositiveSmallIntegerField(default=0)
    lost_stage = models.CharField(max_length=20, blank=True, help_text="The state before the loss")
    lost_reason = models.CharField(max_length=40, blank=True)

    # Completed stays per open state, in hours (all visits summed); null if never left.
    dwell_received = _hours()
    dwell_in_review = _hours()
    dwell_pending_info = _hours()
    dwell_accepted = _hours()
    dwell_contacting = _hours()
    dwell_scheduled = _hours()
    dwell_no_show = _hours()
    dwell_seen = _hours()

    # lifetime value: a keyed hash of the patient's normalized name and birth date
    patient_key = models.CharField(max_length=64, blank=True)
    first_of_patient = models.BooleanField(default=False)
    patient_value = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="On the first only"
    )

    class Meta:
        indexes = [
            models.Index(fields=["direction", "received_at"]),
            models.Index(fields=["department", "received_at"]),
            models.Index(fields=["practice", "received_at"]),
            # One practice's loop closure (its scorecard, its relationship page).
            models.Index(fields=["practice", "seen_at"]),
            models.Index(fields=["seen_at"]),
            models.Index(fields=["sent_at"]),
            models.Index(fields=["patient_key"]),
        ]


class AppointmentFact(models.Model):
    appointment = models.OneToOneField(
        "referrals.Appointment", primary_key=True, on_delete=models.CASCADE, related_name="fact"
    )
    # Rebuilt with its referral's fact, which deletes both in bulk (no cascade to walk).
    referral = models.ForeignKey(
        ReferralFact,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="appointments",
    )
    starts_at = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=12, blank=True)
    visit_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    department = _ref("practice.Department")
    location = _ref("practice.Location")
    source_type = models.CharField(max_length=12)
    channel = models.CharField(max_length=10)
    urgency = models.CharField(max_length=8)
    practice = _ref("network.Practice")

    class Meta:
        # One practice's show rate (its scorecard, its relationship page).
        indexes = [models.Index(fields=["practice", "starts_at"])]
