"""The automation, driven through a referral's whole life with the time set explicitly:
every message that should exist does, and none that should not."""

import datetime as dt

import pytest
from django.core import mail

from refloop.core.models import Notification
from refloop.demo import factories as f
from refloop.messaging import outbox
from refloop.messaging.automation import send_monthly_digests, sweep_stalled
from refloop.messaging.models import Message, RuleSetting, Status
from refloop.messaging.recipients import e164
from refloop.referrals import reports, transitions
from refloop.referrals.models import ReferralEvent, State
from refloop.referrals.services import record_contact_attempt
from refloop.referrals.sla import sweep_sla_breaches
from refloop.referrals.transitions import AppointmentInput
from tests.messaging.helpers import messages, run_automation, settle

H = dt.timedelta(hours=1)
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)  # Monday 9:00 in Chicago
VISIT = dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)  # the next Monday, 11:00 in Chicago


@pytest.fixture(autouse=True)
def _transports(settings, tmp_path):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.SMS_OUTBOX_FILE = tmp_path / "sms.jsonl"
    settings.FAX_OUTBOX_DIR = tmp_path / "fax"
    settings.LETTER_DIR = tmp_path / "letters"


@pytest.fixture
def new_referral(cora, cliff, spine, provider_a):
    def make(now=T0, **patient):
        data = f.patient_data(first_name="Zephyrine", last_name="Quillfeather", **patient)
        data["email"] = patient.get("email", "zephyrine@example.test")
        return f.make_referral(
            acting_user=cora,
            department=spine,
            referring_provider=provider_a,
            assignee=cliff,
            patient=data,
            now=now,
        )

    return make


def scheduled(referral, cora, *, at=T0 + 3 * H, visit=VISIT):
    transitions.accept_referral(referral, acting_user=cora, now=at - H)
    return transitions.schedule_referral(
        referral, acting_user=cora, appointment=AppointmentInput(starts_at=visit), now=at
    )


def test_a_referral_through_its_life_sends_exactly_the_expected_messages(
    new_referral, cora, cliff, provider_a
):
    referral = new_referral()
    settle(T0)
    staff = list(provider_a.practice.staff.all())
    assert messages() == [
        ("referrer.acknowledgment", "provider", "sent"),
        ("referrer.thank_you_first", "provider", "sent"),
        *[("referrer.thank_you_first", "staff_contact", "sent") for _ in staff],
    ]

    scheduled(referral, cora)
    settle(T0 + 3 * H)
    assert messages(created_at__gt=T0) == [
        ("referrer.accepted", "provider", "sent"),
        ("patient.scheduled", "patient", "sent"),
        ("referrer.scheduled", "provider", "sent"),
        ("patient.reminder_early", "patient", "due"),
        ("patient.reminder_late", "patient", "due"),
    ]
    early = Message.objects.get(rule="patient.reminder_early")
    late = Message.objects.get(rule="patient.reminder_late")
    assert early.due_at == VISIT - 48 * H and late.due_at == VISIT - 2 * H

    settle(VISIT - 48 * H - dt.timedelta(minutes=1))
    early.refresh_from_db()
    assert early.status == Status.DUE  # not a minute early
    settle(VISIT - 48 * H)
    settle(VISIT - 2 * H)
    assert (
        Message.objects.filter(rule__startswith="patient.reminder", status=Status.SENT).count() == 2
    )

    seen_at = VISIT + H
    transitions.mark_seen(referral, acting_user=cliff, now=seen_at)
    settle(seen_at)
    assert messages(created_at__gte=seen_at) == [
        ("referrer.seen", "provider", "sent"),
        ("patient.follow_up", "patient", "sent"),
        ("staff.report_due", "user", "due"),
    ]

    # The report is written, but the patient has not said the outcome may be shared.
    reports.write_progress_report(
        referral,
        acting_user=cliff,
        findings="L5 radiculopathy",
        plan="Physical therapy",
        now=seen_at + H,
    )
    settle(seen_at + H)
    assert messages(created_at=seen_at + H) == [("staff.report_needs_consent", "user", "sent")]
    assert not Message.objects.filter(rule="referrer.progress_report").exists()
    referral.refresh_from_db()
    assert referral.state == State.SEEN

    reports.record_outcome_consent(referral, acting_user=cora, consent=True, now=seen_at + 2 * H)
    settle(seen_at + 2 * H)
    report = Message.objects.get(rule="referrer.progress_report")
    assert (report.channel, report.status, report.clinical) == ("fax", Status.SENT, True)
    assert "L5 radiculopathy" in report.body
    referral.refresh_from_db()
    assert referral.state == State.LOOP_CLOSED
    closed = ReferralEvent.objects.get(referral=referral, kind="referral.loop_closed")
    assert closed.actor is None and closed.data["message_id"] == report.pk

    # The one-business-day reminder to write the report is no longer needed.
    settle(seen_at + 24 * H)
    reminder = Message.objects.get(rule="staff.report_due")
    assert reminder.status == Status.CANCELLED and "written" in reminder.reason

    # Running the automation again over every event queues nothing new and sends nothing twice.
    count, sent = Message.objects.count(), Message.objects.filter(status=Status.SENT).count()
    settle(seen_at + 48 * H)
    assert Message.objects.count() == count
    assert Message.objects.filter(status=Status.SENT).count() == sent
    assert all(m.deliveries.filter(outcome="sent").count() <= 1 for m in Message.objects.all())


def test_referrers_hear_initials_and_staff_notices_name_no_patient(new_referral, cora):
    referral = new_referral()
    transitions.decline_referral(
        referral,
        acting_user=cora,
        reason="outside_scope",
        reason_detail="We do not treat pediatric scoliosis",
        suggested_alternative="Children's Spine Center, (217) 555-0100",
        now=T0 + H,
    )
    settle(T0 + H)
    declined = Message.objects.get(rule="referrer.declined")
    assert "pediatric scoliosis" in declined.body and "Children's Spine Center" in declined.body
    for message in Message.objects.all():
        assert "Quillfeather" not in message.body + message.subject
        assert "Z. Q." in message.body or message.rule == "referrer.thank_you_first"


def test_pending_info_tells_the_referrer_what_is_missing(new_referral, cora):
    referral = new_referral()
    transitions.request_info(
        referral, acting_user=cora, missing_info="The lumbar MRI report", now=T0 + H
    )
    settle(T0 + H)
    assert "The lumbar MRI report" in Message.objects.get(rule="referrer.pending_info").body


def test_nothing_goes_to_a_patient_during_quiet_hours(new_referral, cora):
    referral = new_referral()
    evening = dt.datetime(2026, 3, 3, 3, 30, tzinfo=dt.UTC)  # 21:30 in Chicago
    scheduled(referral, cora, at=evening)
    run_automation()
    confirmation = Message.objects.get(rule="patient.scheduled")
    assert confirmation.due_at == dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)  # 8:00 next day
    settle(evening)
    confirmation.refresh_from_db()
    assert confirmation.status == Status.DUE
    settle(confirmation.due_at)
    confirmation.refresh_from_db()
    assert confirmation.status == Status.SENT


def test_a_patient_who_opted_out_of_sms_gets_email_and_one_without_email_gets_nothing(
    new_referral, cora
):
    with_email = new_referral()
    outbox.record_opt_out(
        channel="sms", address=e164(with_email.patient.phone), source="sms_stop", now=T0
    )
    scheduled(with_email, cora)
    settle(T0 + 3 * H)
    assert Message.objects.get(rule="patient.scheduled", referral=with_email).channel == "email"
    assert len([m for m in mail.outbox if "Your appointment" in m.subject]) == 1

    no_email = new_referral(email="")
    no_email.patient.address = ""
    no_email.patient.save()
    outbox.record_opt_out(
        channel="sms", address=e164(no_email.patient.phone), source="sms_stop", now=T0
    )
    scheduled(no_email, cora)
    settle(T0 + 3 * H)
    refused = Message.objects.get(rule="patient.scheduled", referral=no_email)
    assert refused.status == Status.CANCELLED and "opted out of SMS" in refused.reason


def test_an_sms_stop_after_queueing_cancels_what_is_due(new_referral, cora):
    referral = new_referral()
    scheduled(referral, cora)
    settle(T0 + 3 * H)
    early = Message.objects.get(rule="patient.reminder_early")
    assert (early.channel, early.status) == ("sms", Status.DUE)
    outbox.record_opt_out(channel="sms", address=early.address, source="sms_stop", now=T0 + 4 * H)
    settle(VISIT - 48 * H)
    early.refresh_from_db()
    assert early.status == Status.CANCELLED and "opted out" in early.reason


def test_a_patient_who_did_not_agree_to_contact_gets_no_messages(new_referral, cora):
    referral = new_referral()
    referral.patient.contact_consent = False
    referral.patient.save()
    scheduled(referral, cora)
    settle(T0 + 3 * H)
    patient_messages = Message.objects.filter(audience="patient")
    assert patient_messages.exists()
    assert all(m.status == Status.CANCELLED for m in patient_messages)
    assert not mail.outbox or all("appointment" not in m.subject.lower() for m in mail.outbox)


def test_a_declined_consent_keeps_the_report_from_the_referrer(new_referral, cora, cliff):
    referral = new_referral()
    scheduled(referral, cora)
    transitions.mark_seen(referral, acting_user=cliff, now=VISIT + H)
    reports.record_outcome_consent(referral, acting_user=cora, consent=False, now=VISIT + H)
    reports.write_progress_report(
        referral, acting_user=cliff, findings="x", plan="y", now=VISIT + 2 * H
    )
    settle(VISIT + 2 * H)
    assert not Message.objects.filter(rule="referrer.progress_report").exists()
    referral.refresh_from_db()
    assert referral.state == State.SEEN


def test_a_rescheduled_visit_gets_new_reminders_and_the_old_ones_are_dropped(new_referral, cora):
    referral = new_referral()
    scheduled(referral, cora)
    later = VISIT + 24 * H
    transitions.reschedule_appointment(
        referral, acting_user=cora, appointment=AppointmentInput(starts_at=later), now=T0 + 5 * H
    )
    settle(VISIT - 48 * H)
    reminders = Message.objects.filter(rule="patient.reminder_early").order_by("pk")
    assert [(m.due_at, m.status) for m in reminders] == [
        (VISIT - 48 * H, Status.CANCELLED),
        (later - 48 * H, Status.DUE),
    ]


def test_the_referrer_hears_of_the_second_no_show_not_the_first(new_referral, cora):
    referral = new_referral()
    scheduled(referral, cora)
    transitions.record_no_show(referral, acting_user=cora, now=VISIT + H)
    settle(VISIT + H)
    assert not Message.objects.filter(rule="referrer.no_show").exists()
    assert Message.objects.filter(rule="patient.no_show").count() == 1
    second = VISIT + 72 * H
    transitions.schedule_referral(
        referral,
        acting_user=cora,
        appointment=AppointmentInput(starts_at=second),
        now=VISIT + 2 * H,
    )
    transitions.record_no_show(referral, acting_user=cora, now=second + H)
    settle(second + H)
    notice = Message.objects.get(rule="referrer.no_show")
    assert "missed 2 appointments" in notice.body


def test_a_rule_switched_off_queues_nothing(new_referral, cora, ada):
    RuleSetting.objects.create(
        key="referrer.accepted", enabled=False, updated_by=ada, updated_at=T0
    )
    referral = new_referral()
    transitions.accept_referral(referral, acting_user=cora, now=T0 + H)
    settle(T0 + H)
    assert not Message.objects.filter(rule="referrer.accepted").exists()


def test_a_retimed_reminder_is_due_at_the_new_time(new_referral, cora, ada):
    RuleSetting.objects.create(
        key="patient.reminder_early", offset_minutes=-72 * 60, updated_by=ada, updated_at=T0
    )
    scheduled(new_referral(), cora)
    run_automation()
    assert Message.objects.get(rule="patient.reminder_early").due_at == VISIT - 72 * H


def test_an_sla_breach_alerts_the_assignee_then_escalates_unless_someone_called(
    new_referral, cliff, spine, ada
):
    spine.point_of_contact = ada
    spine.save()
    waiting = new_referral()
    called = new_referral()
    breach = T0 + 49 * H
    sweep_sla_breaches(now=breach)
    settle(breach)
    assert Notification.objects.filter(user=cliff, kind="staff.sla_breach").count() == 2
    record_contact_attempt(
        called, acting_user=ada, channel="phone", outcome="reached", now=breach + H
    )
    settle(breach + 24 * H)
    escalations = {
        m.referral_id: m.status for m in Message.objects.filter(rule="staff.sla_escalation")
    }
    assert escalations == {waiting.pk: Status.SENT, called.pk: Status.CANCELLED}
    assert Notification.objects.filter(user=ada, kind="staff.sla_escalation").count() == 1


def test_a_stalled_referral_alerts_once_per_quiet_stretch(new_referral, cora):
    referral = new_referral()
    assert sweep_stalled(now=T0 + 4 * 24 * H) == 0
    assert sweep_stalled(now=T0 + 5 * 24 * H) == 1
    assert sweep_stalled(now=T0 + 6 * 24 * H) == 0  # same stretch: already alerted
    transitions.start_review(referral, acting_user=cora, now=T0 + 7 * 24 * H)
    assert sweep_stalled(now=T0 + 11 * 24 * H) == 0
    assert sweep_stalled(now=T0 + 12 * 24 * H) == 1


def test_a_referral_booked_for_a_visit_ahead_is_not_stalled(new_referral, cora):
    referral = new_referral()
    transitions.accept_referral(referral, acting_user=cora, now=T0 + H)
    visit = transitions.AppointmentInput(starts_at=T0 + 20 * 24 * H)
    transitions.schedule_referral(referral, acting_user=cora, appointment=visit, now=T0 + 2 * H)
    assert sweep_stalled(now=T0 + 10 * 24 * H) == 0  # waiting for the day, not for someone
    assert sweep_stalled(now=T0 + 21 * 24 * H) == 1  # the day passed and nobody recorded it


def test_each_referring_practice_gets_one_digest_a_month(new_referral, provider_a):
    new_referral()
    first = dt.datetime(2026, 4, 1, 15, 0, tzinfo=dt.UTC)
    assert send_monthly_digests(now=first) == 1
    assert send_monthly_digests(now=first + 3 * H) == 0
    digest = Message.objects.get(rule="referrer.monthly_digest")
    assert "March 2026" in digest.subject and "Quillfeather" not in digest.body
    assert send_monthly_digests(now=dt.datetime(2026, 5, 1, 15, 0, tzinfo=dt.UTC)) == 1
    # Installed (or restarted) mid-month: last month's digest is too old to send.
    assert send_monthly_digests(now=dt.datetime(2026, 6, 15, 15, 0, tzinfo=dt.UTC)) == 0


def test_a_message_that_keeps_failing_is_retried_with_backoff_then_failed_and_staff_told(
    new_referral, cora, cliff, provider_a, settings, refused_port
):
    closed_port = refused_port  # a loopback port nobody listens on, all test long
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 2},
        }
    }
    provider_a.email = "dr.silva@example.test"
    provider_a.preferred_channel = "email"
    provider_a.save()
    RuleSetting.objects.create(key="referrer.thank_you_first", enabled=False, updated_at=T0)
    new_referral()
    settle(T0)
    ack = Message.objects.get(rule="referrer.acknowledgment")
    moments = [T0]
    for minutes in settings.MESSAGE_RETRY_MINUTES:
        ack.refresh_from_db()
        assert ack.status == Status.DUE and ack.due_at == moments[-1] + dt.timedelta(
            minutes=minutes
        )
        moments.append(ack.due_at)
        settle(ack.due_at)
    ack.refresh_from_db()
    assert ack.status == Status.FAILED and ack.attempts == len(settings.MESSAGE_RETRY_MINUTES) + 1
    assert "could not be reached" in ack.reason
    assert list(ack.deliveries.values_list("outcome", flat=True)) == ["retry"] * 4 + ["failed"]
    notice = Notification.objects.get(kind="staff.delivery_failed")
    assert notice.user == cliff and "could not be reached" in notice.text


def test_an_unreachable_mail_server_is_tried_once_per_batch(
    org, settings, monkeypatch, refused_port
):
    import socket

    from refloop.messaging.dispatch import dispatch_due

    closed_port = refused_port
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 2},
        }
    }
    Message.objects.bulk_create(
        Message(
            rule="referrer.monthly_digest",
            audience="referrer",
            recipient=f"practice:{i}",
            recipient_label="A practice",
            channel="email",
            address=f"office{i}@example.test",
            body="Digest",
            dedupe_key=f"unreachable:{i}",
            due_at=T0,
            created_at=T0,
        )
        for i in range(5)
    )
    connects = []
    real_connect = socket.socket.connect

    def counting_connect(sock, address):
        connects.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    tally = dispatch_due(now=T0)
    monkeypatch.undo()
    assert tally.retried == 5
    assert len([a for a in connects if a[1] == closed_port]) == 1
    assert set(Message.objects.values_list("status", flat=True)) == {Status.DUE}


def test_a_confirmation_held_by_quiet_hours_is_dropped_if_the_visit_is_cancelled_meanwhile(
    new_referral, cora
):
    referral = new_referral()
    evening = dt.datetime(2026, 3, 3, 3, 30, tzinfo=dt.UTC)  # 21:30 in Chicago
    scheduled(referral, cora, at=evening)
    run_automation()
    transitions.cancel_referral(
        referral, acting_user=cora, reason="patient_request", now=evening + H
    )
    settle(dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC))
    confirmation = Message.objects.get(rule="patient.scheduled")
    assert confirmation.status == Status.CANCELLED and "cancelled" in confirmation.reason
    assert Message.objects.get(rule="referrer.scheduled").status == Status.CANCELLED
