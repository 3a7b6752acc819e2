from refloop.demo import factories as f
from refloop.referrals.models import State


def test_referral_reaches_loop_closed_through_the_services(referral, cora):
    closed = f.advance(referral, State.LOOP_CLOSED, acting_user=cora)
    assert closed.state == State.LOOP_CLOSED
    kinds = list(closed.events.values_list("kind", flat=True))
    assert kinds == [
        "referral.received",
        "referral.triaged",
        "referral.accepted",
        "referral.scheduled",
        "referral.seen",
        "referral.report_written",
        "referral.loop_closed",
    ]
