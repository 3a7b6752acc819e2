"""The automation: which messages each committed timeline event queues, the periodic sweeps
(stalled referrals, monthly digests), and the checks made again just before sending.

The event handlers (`on_*`) are reactions listed in refloop.referrals.reactions; the worker
runs them on events that have committed, so a rolled-back change queues nothing.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.module_loading import import_string

from refloop.core.links import absolute_url
from refloop.core.models import User
from refloop.messaging import outbox
from refloop.messaging.models import Audience, Message
from refloop.messaging.recipients import (
    Recipient,
    patient_of,
    practice_recipient,
    referrer_of,
    staff_contact,
    staff_user,
    with_preference,
)
from refloop.messaging.rules import Rule, rule
from refloop.messaging.transports.base import PermanentFailure
from refloop.network.models import Practice
from refloop.practice.models import Organization
from refloop.referrals import lifecycle
from refloop.referrals.models import (
    Appointment,
    DeclineReason,
    Direction,
    ProgressReport,
    Referral,
    ReferralEvent,
    State,
)
from refloop.referrals.reports import close_loop_on_delivery
from refloop.referrals.selectors import answerable_staff, point_of_contact
from refloop.web.words import person

# ---------------------------------------------------------------- wording values


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A, %B} {local.day} at {local:%I:%M %p}".replace(" 0", " ")


def values_for(
    referral: Referral, recipient: Recipient | None = None, **extra: str
) -> dict[str, str]:
    org = Organization.current()
    patient = referral.patient
    values = {
        "practice.name": org.name,
        "practice.phone": org.phone or "our office",
        "department.name": referral.department.name if referral.department else "our team",
        "referral.number": referral.number,
        "patient.initials": f"{patient.first_name[:1]}. {patient.last_name[:1]}.",
        "link.portal": absolute_url("/portal/"),
    }
    referrer = referral.referring_provider
    values["referrer.name"] = (
        f"Dr. {referrer.last_name}" if referrer is not None else "your referring provider"
    )
    practice = referral.referring_practice or (referrer.practice if referrer else None)
    values["referrer.practice"] = practice.name if practice is not None else ""
    if recipient is not None and recipient.audience == Audience.PATIENT:
        values["patient.first_name"] = patient.first_name
    if recipient is not None and recipient.audience == Audience.REFERRER and recipient.name:
        values["referrer.name"] = recipient.name
    values.update(extra)
    return values


def _appointment_values(appointment: Appointment) -> dict[str, str]:
    org = Organization.current()
    where = appointment.location
    clinician = appointment.clinician
    return {
        "appointment.when": _when(appointment.starts_at, org.zone),
        "appointment.where": ", ".join(p for p in [where.name, where.address, where.city] if p)
        if where is not None
        else org.name,
        "appointment.with": person(clinician) or "our team",
    }


def add_business_days(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    while days > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local.astimezone(moment.tzinfo)


# ---------------------------------------------------------------- queueing helpers


def _queue(
    key: str, recipient: Recipient | None, event: ReferralEvent, *, due_at=None, cause=None, **extra
):
    if recipient is None:
        return None
    referral = event.referral
    return outbox.queue(
        rule=rule(key),
        recipient=recipient,
        cause=cause or f"event:{event.pk}",
        values=values_for(referral, recipient, **extra),
        due_at=due_at or event.at,
        now=event.at,
        referral=referral,
        event=event,
    )


def _queue_for_staff(
    staff_rule: Rule,
    users: Iterable[User],
    *,
    referral: Referral,
    cause: str,
    values: dict[str, str],
    due_at: datetime,
    now: datetime,
    event: ReferralEvent | None = None,
) -> int:
    """Queue `staff_rule` to each of `users` about `referral`, not from an event's own
    moment (a sweep, a failed delivery); returns how many of the messages are new."""
    queued = 0
    for user in users:
        message = outbox.queue(
            rule=staff_rule,
            recipient=staff_user(user),
            cause=cause,
            values=values,
            due_at=due_at,
            now=now,
            referral=referral,
            event=event,
        )
        queued += bool(message and message.created_at == now)
    return queued


def _first_referral_from_source(referral: Referral) -> bool:
    earlier = Referral.objects.filter(
        direction=Direction.INBOUND, received_at__lt=referral.received_at
    )
    if referral.referring_provider_id:
        return not earlier.filter(referring_provider_id=referral.referring_provider_id).exists()
    if referral.referring_practice_id:
        return not earlier.filter(referring_practice_id=referral.referring_practice_id).exists()
    return False


# ---------------------------------------------------------------- event handlers
# Listed in refloop.referrals.reactions under the event kinds they react to; the worker runs
# each once per event, and each queues a message once whatever reruns (outbox dedupe).


def on_received(event: ReferralEvent) -> None:
    referral = event.referral
    if referral.direction != Direction.INBOUND:
        return
    referrer = referrer_of(referral)
    org = Organization.current()
    by = "soon"
    if referral.first_contact_due_at is not None:
        local = referral.first_contact_due_at.astimezone(org.zone)
        by = f"by {local:%A, %B} {local.day}, {local:%I:%M %p}".replace(" 0", " ")
    _queue("referrer.acknowledgment", referrer, event, **{"first_contact.by": by})
    if referrer is not None and _first_referral_from_source(referral):
        _queue("referrer.thank_you_first", referrer, event)
        practice = referral.referring_practice or (
            referral.referring_provider.practice if referral.referring_provider else None
        )
        if practice is not None:
            for contact in practice.staff.all():
                _queue("referrer.thank_you_first", staff_contact(contact), event)


def on_accepted(event: ReferralEvent) -> None:
    _queue("referrer.accepted", referrer_of(event.referral), event)


def on_declined(event: ReferralEvent) -> None:
    referral = event.referral
    reason = referral.end_reason_detail or (
        DeclineReason(referral.end_reason).label
        if referral.end_reason in DeclineReason.values
        else ""
    )
    _queue(
        "referrer.declined",
        referrer_of(referral),
        event,
        **{
            "decline.reason": reason.rstrip(".") or "it is outside what we treat",
            "decline.alternative": referral.suggested_alternative
            or "please call us to talk it through",
        },
    )


def on_pending_info(event: ReferralEvent) -> None:
    referral = event.referral
    _queue(
        "referrer.pending_info",
        referrer_of(referral),
        event,
        **{"info.missing": referral.missing_info or "the documents we asked for"},
    )


def on_scheduled(event: ReferralEvent) -> None:
    referral = event.referral
    appointment = (
        Appointment.objects.select_related("location", "clinician")
        .filter(pk=event.data.get("appointment_id"))
        .first()
    )
    if appointment is None:
        return
    details = _appointment_values(appointment)
    patient = patient_of(referral)
    _queue("patient.scheduled", patient, event, **details)
    _queue("referrer.scheduled", referrer_of(referral), event, **details)
    for key in ("patient.reminder_early", "patient.reminder_late"):
        due = appointment.starts_at + rule(key).offset()
        if due <= event.at:
            continue  # the confirmation just sent says it all
        _queue(key, patient, event, due_at=due, cause=f"appointment:{appointment.pk}", **details)


def on_no_show(event: ReferralEvent) -> None:
    referral = event.referral
    _queue("patient.no_show", patient_of(referral), event)
    count = int(event.data.get("no_shows") or 0)
    if count >= 2:
        _queue("referrer.no_show", referrer_of(referral), event, **{"no_show.count": str(count)})


def on_seen(event: ReferralEvent) -> None:
    referral = event.referral
    _queue("referrer.seen", referrer_of(referral), event)
    _queue("patient.follow_up", patient_of(referral), event)
    due = add_business_days(
        event.at, max(1, rule("staff.report_due").offset().days or 1), Organization.current().zone
    )
    for user in answerable_staff(referral):
        _queue("staff.report_due", staff_user(user), event, due_at=due)


def _queue_progress_report(event, referral: Referral) -> None:
    report = ProgressReport.objects.filter(referral=referral).first()
    if report is None or referral.state != State.SEEN:
        return
    patient = referral.patient
    if patient.outcome_sharing_consent is not True:
        users = {report.entered_by, *answerable_staff(referral)}
        for user in users:
            _queue(
                "staff.report_needs_consent", staff_user(user), event, cause=f"report:{report.pk}"
            )
        return
    _queue(
        "referrer.progress_report",
        referrer_of(referral),
        event,
        cause=f"report:{report.pk}",
        **{
            "report.findings": report.findings,
            "report.plan": report.plan,
            "report.medications": report.medications or "No changes.",
            "report.follow_up": report.follow_up or "None beyond your usual care.",
        },
    )


def on_report_written(event: ReferralEvent) -> None:
    _queue_progress_report(event, event.referral)


def on_consent_recorded(event: ReferralEvent) -> None:
    if event.data.get("consent"):
        _queue_progress_report(event, event.referral)


def on_sla_breached(event: ReferralEvent) -> None:
    referral = event.referral
    due = referral.first_contact_due_at or event.at
    hours = str(round((event.at - due).total_seconds() / 3600))
    for user in answerable_staff(referral):
        _queue("staff.sla_breach", staff_user(user), event, **{"sla.overdue_hours": hours})
    escalate_at = event.at + rule("staff.sla_escalation").offset()
    later = str(round((escalate_at - due).total_seconds() / 3600))
    assignee = {referral.assignee_id}
    for user in point_of_contact(referral):
        if user.pk not in assignee:
            _queue(
                "staff.sla_escalation",
                staff_user(user),
                event,
                due_at=escalate_at,
                **{"sla.overdue_hours": later},
            )


# ---------------------------------------------------------------- sweeps


def _last_action(field: str):
    """The referral's latest human action (or its arrival), as a subquery of `field`."""
    human = ReferralEvent.objects.filter(referral=OuterRef("pk")).filter(
        Q(actor__isnull=False) | Q(kind="referral.received")
    )
    return Subquery(human.order_by("-at", "-pk").values(field)[:1])


def sweep_stalled(*, now: datetime) -> int:
    """Alert whoever answers for each open referral with no action for the rule's time."""
    stalled_rule = rule("staff.stalled")
    if not stalled_rule.enabled():
        return 0
    escalation = rule("staff.stalled_escalation")
    candidates = list(
        Referral.objects.filter(
            direction=Direction.INBOUND, state__in=lifecycle.open_states(Direction.INBOUND)
        )
        # A referral booked for a visit still ahead waits for that day, not for someone.
        .exclude(Exists(Appointment.objects.filter(referral=OuterRef("pk"), starts_at__gt=now)))
        .annotate(last_action_id=_last_action("pk"), last_action_at=_last_action("at"))
        .filter(last_action_at__lte=now - stalled_rule.offset())
        .select_related("assignee", "department__point_of_contact", "patient")
    )
    actions = ReferralEvent.objects.in_bulk([r.last_action_id for r in candidates])
    queued = 0
    for referral in candidates:
        event = actions[referral.last_action_id]
        days = str(max(1, (now - event.at).days))
        state = referral.get_state_display().lower()
        values = values_for(referral, None, **{"stall.days": days, "stall.state": state})
        queued += _queue_for_staff(
            stalled_rule,
            answerable_staff(referral),
            referral=referral,
            cause=f"stall:{event.pk}",
            values=values,
            due_at=now,
            now=now,
            event=event,
        )
        _queue_for_staff(
            escalation,
            [u for u in point_of_contact(referral) if u.pk != referral.assignee_id],
            referral=referral,
            cause=f"stall:{event.pk}",
            values=values,
            due_at=now + escalation.offset(),
            now=now,
            event=event,
        )
    return queued


def _month_start(local: datetime) -> datetime:
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# A worker that was down on the 1st still sends the month's digests during its first days.
DIGEST_DAYS = 7


def _monthly_values(org: Organization, practice: Practice, month: date) -> dict[str, str]:
    """The placeholders a referring practice's monthly message (digest, scorecard) fills."""
    return {
        "practice.name": org.name,
        "practice.phone": org.phone or "our office",
        "referrer.practice": practice.name,
        "link.portal": absolute_url("/portal/"),
        "digest.month": f"{month:%B %Y}",
    }


def send_monthly_digests(*, now: datetime) -> int:
    """On the first sweep of each month: each practice that referred in the last year gets
    where its referrals stand. One digest per practice per month, whatever reruns."""
    # The scorecards go out in the same first week, under their own rule, switch and timing.
    send_monthly_scorecards(now=now)
    digest_rule = rule("referrer.monthly_digest")
    if not digest_rule.enabled():
        return 0
    org = Organization.current()
    zone = org.zone
    local_now = now.astimezone(zone)
    if local_now.day > DIGEST_DAYS:
        return 0  # a digest of last month arriving mid-month would be news from long ago
    this_month = _month_start(local_now)
    last_month = _month_start(this_month - timedelta(days=1))
    due = max(now, this_month.replace(hour=9).astimezone(now.tzinfo))
    year_ago = now - timedelta(days=365)
    practice_ids = (
        Referral.objects.filter(
            direction=Direction.INBOUND, received_at__gte=year_ago, referring_practice__isnull=False
        )
        .values_list("referring_practice_id", flat=True)
        .distinct()
    )
    queued = 0
    for practice in Practice.objects.filter(pk__in=list(practice_ids)):
        referrals = (
            Referral.objects.filter(direction=Direction.INBOUND, referring_practice=practice)
            .filter(
                Q(state__in=lifecycle.open_states(Direction.INBOUND))
                | Q(received_at__gte=last_month)
            )
            .select_related("department")
            .order_by("received_at")
        )
        lines = []
        for referral in referrals:
            received = referral.received_at.astimezone(zone)
            department = referral.department.name if referral.department else ""
            lines.append(
                f"{referral.number}  received {received:%b} {received.day}  {department}  "
                f"{referral.get_state_display().lower()}"
            )
        if not lines:
            continue
        message = outbox.queue(
            rule=digest_rule,
            recipient=practice_recipient(practice),
            cause=f"digest:{practice.pk}:{last_month:%Y-%m}",
            values={
                **_monthly_values(org, practice, last_month),
                "digest.table": "\n".join(lines),
            },
            due_at=due,
            now=now,
        )
        queued += bool(message and message.created_at == now)
    return queued


SCORECARD_RULE = "referrer.monthly_scorecard"
# A scorecard's figures and PDF are the analytics app's, which sits above messaging (it queues
# scorecards here): named by dotted path, resolved when called, so messaging never imports it.
SCORECARDS = {
    "month_period": "refloop.analytics.scorecards.month_period",
    "referring_practices": "refloop.analytics.scorecards.referring_practices",
    "attachment": "refloop.analytics.pdf.scorecard_attachment",
}


def scorecard_cause(practice_id: int, month: date) -> str:
    return f"scorecard:{practice_id}:{month:%Y-%m}"


def scorecard_message(practice, month: date) -> Message | None:
    """The scorecard message of `practice` for the month starting `month`, if one was queued."""
    key = outbox.dedupe_key(
        scorecard_cause(practice.pk, month), rule(SCORECARD_RULE), practice_recipient(practice)
    )
    return Message.objects.filter(dedupe_key=key).first()


def queue_scorecard(
    practice, month: date, *, now: datetime, due_at: datetime | None = None
) -> Message | None:
    """Queue `practice`'s scorecard for the month starting `month`, once per practice and month
    whoever asks (the sweep, Send now, `refloop analytics scorecards --queue`); None if the
    rule is off. Its PDF is drawn when it leaves (`attachments_for`)."""
    org = Organization.current()
    return outbox.queue(
        rule=rule(SCORECARD_RULE),
        recipient=practice_recipient(practice),
        cause=scorecard_cause(practice.pk, month),
        values=_monthly_values(org, practice, month),
        due_at=due_at or now,
        now=now,
    )


def send_monthly_scorecards(*, now: datetime) -> int:
    """In the first week of each month: each practice that referred last month gets its
    scorecard for last month, due the rule's time after the month began."""
    month_period = import_string(SCORECARDS["month_period"])
    referring_practices = import_string(SCORECARDS["referring_practices"])

    scorecard_rule = rule(SCORECARD_RULE)
    if not scorecard_rule.enabled():
        return 0
    local_now = now.astimezone(Organization.current().zone)
    if local_now.day > DIGEST_DAYS:
        return 0
    this_month = _month_start(local_now)
    month = month_period(_month_start(this_month - timedelta(days=1)).date())
    due = max(now, (this_month + scorecard_rule.offset()).astimezone(now.tzinfo))
    practices = referring_practices(month, now=now)
    queued = 0
    for practice in Practice.objects.filter(pk__in=list(practices)).order_by("pk"):
        message = queue_scorecard(practice, month.start, now=now, due_at=due)
        queued += bool(message and message.created_at == now)
    return queued


# ---------------------------------------------------------------- at send time


def attachments_for(message: Message, *, now: datetime) -> list[tuple[str, bytes, str]]:
    """Documents drawn as a message leaves and sent with it (name, content, type): a
    scorecard's PDF, with the figures as known then. Like magic links, none is stored."""
    if message.rule != SCORECARD_RULE:
        return []
    scorecard_attachment = import_string(SCORECARDS["attachment"])

    _, practice_id, month = message.dedupe_key.split("|", 1)[0].split(":")
    practice = Practice.objects.filter(pk=int(practice_id)).first()
    if practice is None:
        raise PermanentFailure("The practice of this scorecard is no longer in the directory.")
    return [scorecard_attachment(practice, month, now=now)]


# Messages that speak of one appointment: not sent once it was moved, cancelled or is past
# (a confirmation held back by quiet hours included).
ABOUT_AN_APPOINTMENT = {
    "patient.scheduled",
    "referrer.scheduled",
    "patient.reminder_early",
    "patient.reminder_late",
}


def no_longer_applies(message: Message, *, now: datetime) -> str:
    """Why a due message should not go out after all ('' if it should)."""
    referral = message.referral
    if referral is None:
        return ""
    key = message.rule
    if key in ABOUT_AN_APPOINTMENT:
        event = message.event
        appointment_id = event.data.get("appointment_id") if event is not None else None
        appointment = (
            Appointment.objects.filter(pk=appointment_id).first() if appointment_id else None
        )
        if appointment is None or appointment.outcome:
            return "The appointment was moved, cancelled or has already happened."
        if appointment.starts_at <= now:
            return "The appointment has already started."
    if key == "staff.report_due" and ProgressReport.objects.filter(referral=referral).exists():
        return "The report has been written."
    if key == "staff.sla_escalation" and (
        referral.first_contact_at is not None
        or not lifecycle.is_open(referral.direction, referral.state)
    ):
        return "The patient has been contacted since."
    if key == "staff.stalled_escalation" and (
        ReferralEvent.objects.filter(
            referral=referral, pk__gt=message.event_id, actor__isnull=False
        ).exists()
        or not lifecycle.is_open(referral.direction, referral.state)
    ):
        return "Someone has acted on the referral since."
    if key == "referrer.progress_report" and referral.patient.outcome_sharing_consent is not True:
        return "The patient withdrew consent to share the outcome."
    if message.audience == Audience.PATIENT and not referral.patient.contact_consent:
        return "The patient has not agreed to be contacted."
    return ""


def after_sent(message: Message, *, now: datetime) -> None:
    if message.rule == "referrer.progress_report" and message.referral_id:
        close_loop_on_delivery(message.referral_id, message_id=message.pk, now=now)


def after_failed(message: Message, *, reason: str, now: datetime) -> None:
    """Tell whoever answers for the referral that a message did not get through."""
    referral = message.referral if message.audience != Audience.STAFF else None
    if referral is None:
        return
    _queue_for_staff(
        rule("staff.delivery_failed"),
        answerable_staff(referral),
        referral=referral,
        cause=f"failed:{message.pk}",
        values=values_for(referral, None, **{"failure.reason": reason}),
        due_at=now,
        now=now,
    )


def quiet_hours_for(message: Message, due: datetime) -> datetime:
    """`due` moved past the recipient's quiet hours (for retries, which skip recipient lookup)."""
    if message.audience == Audience.STAFF:
        return due
    recipient = with_preference(
        Recipient(
            key=message.recipient,
            audience=message.audience,
            label="",
            zone=Organization.current().zone,
        )
    )
    return outbox.after_quiet_hours(due, recipient, message.channel)
