"""The first-contact SLA sweep: overdue referrals are flagged and someone is told, once."""

import datetime as dt

import pytest

from refloop.core.models import Notification
from refloop.demo import factories as f
from refloop.referrals import services
from refloop.referrals.models import ReferralEvent
from refloop.referrals.sla import sweep_sla_breaches
from tests.messaging.helpers import settle

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def received(cora, provider_a, spine):
    def make(urgency="routine", **fields):
        return f.make_referral(
            acting_user=cora, referring_provider=provider_a, urgency=urgency, now=T0, **fields
        )

    return make


@pytest.mark.parametrize(("urgency", "hours"), [("stat", 4), ("urgent", 24), ("routine", 48)])
def test_default_targets_by_urgency(received, urgency, hours):
    referral = received(urgency)
    assert referral.first_contact_due_at == T0 + dt.timedelta(hours=hours)
    assert sweep_sla_breaches(now=T0 + dt.timedelta(hours=hours) - dt.timedelta(seconds=1)) == 0
    assert sweep_sla_breaches(now=T0 + dt.timedelta(hours=hours)) == 1


def test_targets_are_configurable(received, org):
    org.sla_routine_hours = 8
    org.save()
    assert received().first_contact_due_at == T0 + dt.timedelta(hours=8)


def test_a_breach_is_flagged_and_notified_once(received, cora, cliff):
    referral = received(assignee=cliff)
    later = T0 + dt.timedelta(hours=50)
    assert sweep_sla_breaches(now=later) == 1
    assert sweep_sla_breaches(now=later + dt.timedelta(hours=1)) == 0
    referral.refresh_from_db()
    assert referral.sla_breached_at == later
    assert (
        ReferralEvent.objects.filter(referral=referral, kind="referral.sla_breached").count() == 1
    )
    settle(later)
    settle(later)  # the worker running twice notifies once
    notice = Notification.objects.get(kind="staff.sla_breach")
    assert notice.user == cliff and referral.number in notice.text
    assert referral.patient.last_name not in notice.text


def test_unassigned_breach_goes_to_the_departments_point_of_contact(received, spine, cora):
    spine.point_of_contact = cora
    spine.save()
    received()
    sweep_sla_breaches(now=T0 + dt.timedelta(days=3))
    settle(T0 + dt.timedelta(days=3))
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["cora"]


def test_with_nobody_answering_the_admins_hear_of_it(received, ada):
    received()
    sweep_sla_breaches(now=T0 + dt.timedelta(days=3))
    settle(T0 + dt.timedelta(days=3))
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["ada"]


def test_contacted_or_closed_referrals_are_not_flagged(received, cora):
    contacted = received()
    services.record_contact_attempt(
        contacted,
        acting_user=cora,
        channel="phone",
        outcome="no_answer",
        at=T0 + dt.timedelta(hours=1),
        now=T0 + dt.timedelta(hours=1),
    )
    declined = f.advance(received(), "declined", acting_user=cora, now=T0 + dt.timedelta(hours=2))
    assert sweep_sla_breaches(now=T0 + dt.timedelta(days=5)) == 0
    declined.refresh_from_db()
    assert declined.sla_breached_at is None
