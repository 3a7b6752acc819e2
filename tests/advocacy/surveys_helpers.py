"""Helpers for the survey tests: a referral taken to `seen` at a chosen moment, its reactions
run as the worker would, and a review site."""

import datetime as dt

from refloop.advocacy.models import ReviewSite, Survey
from refloop.demo import factories as f
from refloop.referrals import reactions
from refloop.referrals.models import ReferralEvent, State

# A Monday afternoon in Chicago (the factories' organization, 14:00 CST): outside quiet hours.
NOW = dt.datetime(2027, 3, 1, 20, 0, tzinfo=dt.UTC)


def see(referral, *, by, now=NOW):
    """Take `referral` to seen at `now` and run the advocacy reaction to it, as the worker."""
    referral = f.advance(referral, State.SEEN, acting_user=by, now=now)
    event = ReferralEvent.objects.get(referral=referral, kind="referral.seen")
    reactions.run_now(event, within="refloop.advocacy.")
    return referral


def another_referral(referral, *, by, now):
    """A new referral for the same patient (a later problem, a later visit)."""
    return f.make_referral(
        acting_user=by,
        department=referral.department,
        referring_provider=referral.referring_provider,
        patient=referral.patient,
        now=now,
    )


def site(name="Google", *, location=None, position=0, active=True):
    return ReviewSite.objects.create(
        name=name,
        url=f"https://reviews.example/{name.lower()}",
        location=location,
        position=position,
        active=active,
    )


def survey_of(referral) -> Survey:
    return Survey.objects.get(referral=referral)
