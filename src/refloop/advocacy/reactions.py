"""What happens when an advocacy event commits: the one table of reactions for this domain,
as `refloop.referrals.reactions` is for the referral timeline.

Handlers are named by dotted path (those of the outreach domain, above this one, included),
run by the worker once per event (refloop.core.reactions.run_once).
"""

from refloop.core import reactions

REACTIONS: dict[str, tuple[str, ...]] = {
    "testimonial.authorized": ("refloop.advocacy.testimonials.send_authorization_copy",),
}


def handlers_for(kind: str) -> list[str]:
    return reactions.handlers_for(REACTIONS, kind)
