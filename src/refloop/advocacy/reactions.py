"""What happens when an advocacy event commits: the one table of reactions for this domain,
as `refloop.referrals.reactions` is for the referral timeline.

Handlers are named by dotted path (those of the outreach domain, above this one, included),
run by the worker once per event (refloop.core.reactions.run_once).
"""

from refloop.core import reactions

REACTIONS: dict[str, tuple[str, ...]] = {
    "survey.answered": (
        # A patient's low score or complaint: a service-recovery case.
        "refloop.advocacy.case_reactions.case_for_answer",
        # A referring office's low answer: a task for the practice's liaison (outreach).
        "refloop.outreach.signals.on_office_survey_answered",
    ),
    "case.acknowledge_overdue": ("refloop.advocacy.case_reactions.notify_overdue",),
    "case.resolve_overdue": ("refloop.advocacy.case_reactions.notify_overdue",),
    "testimonial.authorized": ("refloop.advocacy.testimonials.send_authorization_copy",),
    "advocate.enrolled": ("refloop.advocacy.advocates.send_welcome",),
    "advocate.friend_referred": ("refloop.advocacy.advocates.thank_advocate",),
}


def handlers_for(kind: str) -> list[str]:
    return reactions.handlers_for(REACTIONS, kind)
