"""What happens when an advocacy event commits: the one table of reactions for this domain,
as `refloop.referrals.reactions` is for the referral timeline.

Handlers are named by dotted path (those of the outreach domain, above this one, included),
run by the worker once per event (refloop.core.reactions.run_once).
"""

from refloop.core import reactions

REACTIONS: dict[str, tuple[str, ...]] = {
    "advocate.enrolled": ("refloop.advocacy.advocates.send_welcome",),
    "advocate.friend_referred": ("refloop.advocacy.advocates.thank_advocate",),
}


def handlers_for(kind: str) -> list[str]:
    return reactions.handlers_for(REACTIONS, kind)
