"""Staff notices (the bell) about referral events: handlers in refloop.referrals.reactions.

Each names the referral number, never the patient, and is sent once per event and person.
"""

from refloop.core.notifications import notify
from refloop.referrals.models import ReferralEvent
from refloop.referrals.selectors import answerable_staff


def assigned_to_you(event: ReferralEvent) -> None:
    """Tell the new assignee, unless they took the referral themselves or it has moved on."""
    referral = event.referral
    assignee = referral.assignee
    if assignee is None or assignee.get_username() != event.data.get("assignee"):
        return
    if assignee == event.actor:
        return
    notify(
        assignee,
        kind=event.kind,
        referral=referral,
        dedupe_key=str(event.pk),
        text=f"Referral {referral.number} was assigned to you.",
        now=event.at,
    )


def appointment_cancelled_by_patient(event: ReferralEvent) -> None:
    """The referral's state is for staff to change; this notice tells them."""
    referral = event.referral
    for user in answerable_staff(referral):
        notify(
            user,
            kind="appointment_cancelled_by_patient",
            referral=referral,
            text=(
                f"The patient cancelled the appointment for referral {referral.number} "
                "using their link."
            ),
            dedupe_key=f"event:{event.pk}",
            now=event.at,
        )
