"""The real path: a committed change → the worker's event task → the outbox → the transport.
A change that rolls back sends nothing."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction

from refloop.messaging.dispatch import dispatch_all_due
from refloop.messaging.models import Message, Status
from refloop.ops.worker import drain_queue
from refloop.referrals import transitions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


# A Tuesday morning in the practice's zone: between 20:00 and 08:00 quiet hours hold the email.
@pytest.mark.time_machine(dt.datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("America/Chicago")))
def test_a_committed_acceptance_reaches_the_referrer_by_email(referral, cora, provider_a):
    provider_a.email = "dr.silva@example.test"
    provider_a.preferred_channel = "email"
    provider_a.save()
    transitions.accept_referral(referral, acting_user=cora)
    assert not Message.objects.filter(rule="referrer.accepted").exists()  # the worker queues it
    drain_queue()
    dispatch_all_due()
    accepted = Message.objects.get(rule="referrer.accepted")
    assert accepted.status == Status.SENT
    sent = [m for m in mail.outbox if m.to == ["dr.silva@example.test"] and "accepted" in m.subject]
    assert len(sent) == 1
    assert sent[0].extra_headers["Message-ID"].startswith(f"<refloop-message-{accepted.pk}@")
    drain_queue()
    dispatch_all_due()
    assert len([m for m in mail.outbox if "accepted" in m.subject]) == 1


def test_a_rolled_back_change_queues_and_sends_nothing(referral, cora):
    drain_queue()
    dispatch_all_due()
    before = Message.objects.count()

    class Oops(Exception):
        pass

    with pytest.raises(Oops), transaction.atomic():
        transitions.accept_referral(referral, acting_user=cora)
        raise Oops
    drain_queue()
    dispatch_all_due()
    assert Message.objects.count() == before
    assert not Message.objects.filter(rule="referrer.accepted").exists()
