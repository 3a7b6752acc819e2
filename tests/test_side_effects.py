"""Side effects of committed events, run by the worker: assignment notices."""

import pytest

from refloop.core.models import Notification
from refloop.ops.worker import drain_queue
from refloop.referrals import services

pytestmark = pytest.mark.django_db(transaction=True)


def test_assigning_a_referral_notifies_the_assignee_once(referral, cora, cliff):
    services.assign_referral(referral, acting_user=cora, assignee=cliff)
    drain_queue()
    drain_queue()  # nothing left to run twice
    notice = Notification.objects.get(user=cliff)
    assert notice.kind == "referral.assigned" and referral.number in notice.text
    assert referral.patient.last_name not in notice.text


def test_taking_a_referral_yourself_sends_no_notice(referral, cora):
    services.assign_referral(referral, acting_user=cora, assignee=cora)
    drain_queue()
    assert not Notification.objects.exists()
