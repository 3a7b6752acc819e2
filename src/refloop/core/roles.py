"""The roles of docs/design.md and the capabilities each one has.

Every service and selector asks here; pages and endpoints ask the same
functions, so a new edge cannot forget a rule.
"""

from collections.abc import Collection
from enum import StrEnum

from refloop.core.errors import NotAllowed


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"
    LIAISON = "liaison"
    ANALYST = "analyst"
    PORTAL = "portal"


class Capability(StrEnum):
    VIEW_REFERRALS = "view_referrals"  # patient identity and clinical detail
    VIEW_REFERRAL_SUMMARIES = "view_referral_summaries"  # no patient, no clinical detail
    # The practice's own work on a referral: contact attempts, notes, the timeline with who
    # did what, assignment, every appointment, the outbox. Without it, a role that sees
    # referrals sees what the referring practice may know (referrals/referrer.py).
    VIEW_INTERNAL_WORK = "view_internal_work"
    CREATE_REFERRALS = "create_referrals"
    SUBMIT_REFERRALS = "submit_referrals"  # portal: send referrals from one's own practice
    ANSWER_INFO_REQUESTS = "answer_info_requests"  # portal: upload what pending_info asked for
    WORK_REFERRALS = "work_referrals"  # every transition, contact, scheduling, assignment
    CLINICAL_DECISIONS = "clinical_decisions"  # review, accept/decline, seen, close the loop
    ANNOTATE_REFERRALS = "annotate_referrals"  # notes and documents
    VIEW_DIRECTORY = "view_directory"
    EDIT_DIRECTORY = "edit_directory"
    VIEW_AUDIT = "view_audit"
    MANAGE_SETTINGS = "manage_settings"
    VIEW_ANALYTICS = "view_analytics"  # aggregates; drill-downs follow the referral capabilities
    # Analytics figures resting on 1 to 10 patients, referrals or appointments, as they are.
    # Without it, every figure shown is small-cell suppressed (analytics.privacy).
    VIEW_SMALL_COUNTS = "view_small_counts"
    USE_WORKSPACE = "use_workspace"  # the practice's own staff pages
    # The referring practice's side: the portal, and that side of a referral's message thread.
    USE_PORTAL = "use_portal"
    HOLD_REFERRALS = "hold_referrals"  # be a referral's assignee
    SEND_REFERRAL_MESSAGES = "send_referral_messages"  # the thread with the referring practice
    # Every outbox message, in-app notices addressed to other staff included.
    VIEW_ALL_MESSAGES = "view_all_messages"
    # The liaison's work: activities, tasks, events, gifts, territories (outreach). No
    # patient identity comes with it.
    WORK_OUTREACH = "work_outreach"
    # The patient's voice (advocacy): send a survey by hand, work service-recovery cases, enrol
    # advocates and give their thank-yous, take in testimonials. Comes with patient identity.
    HANDLE_FEEDBACK = "handle_feedback"
    # Approve a testimonial for the practice's marketing, or take it down.
    PUBLISH_TESTIMONIALS = "publish_testimonials"
    # Compliance: record a gift past the Stark limit under the repayment exception, and its
    # repayment. No role holds it; an admin grants it to a person (User.compliance_officer).
    APPROVE_GIFT_OVERAGES = "approve_gift_overages"


# What coordinators and clinicians, the practice's care team, may both do.
_CARE_TEAM = frozenset(
    {
        Capability.USE_WORKSPACE,
        Capability.HOLD_REFERRALS,
        Capability.SEND_REFERRAL_MESSAGES,
        Capability.VIEW_SMALL_COUNTS,
        Capability.VIEW_REFERRALS,
        Capability.VIEW_REFERRAL_SUMMARIES,
        Capability.VIEW_INTERNAL_WORK,
        Capability.CLINICAL_DECISIONS,
        Capability.ANNOTATE_REFERRALS,
        Capability.VIEW_DIRECTORY,
        Capability.VIEW_ANALYTICS,
        Capability.HANDLE_FEEDBACK,
    }
)

_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability) - {Capability.USE_PORTAL, Capability.APPROVE_GIFT_OVERAGES},
    Role.COORDINATOR: _CARE_TEAM
    | {Capability.CREATE_REFERRALS, Capability.WORK_REFERRALS, Capability.EDIT_DIRECTORY},
    Role.CLINICIAN: _CARE_TEAM,
    Role.LIAISON: frozenset(
        {
            Capability.USE_WORKSPACE,
            Capability.VIEW_SMALL_COUNTS,
            Capability.VIEW_REFERRAL_SUMMARIES,
            Capability.VIEW_DIRECTORY,
            Capability.EDIT_DIRECTORY,
            Capability.VIEW_ANALYTICS,
            Capability.WORK_OUTREACH,
        }
    ),
    # Analysts see de-identified aggregates only: no VIEW_SMALL_COUNTS.
    Role.ANALYST: frozenset(
        {Capability.USE_WORKSPACE, Capability.VIEW_DIRECTORY, Capability.VIEW_ANALYTICS}
    ),
    # Portal users see, send and answer for their own practice's referrals only
    # (selectors.visible_referrals and create_inbound_referral hold them to it), and of
    # each only what the referring practice may know: no VIEW_INTERNAL_WORK.
    Role.PORTAL: frozenset(
        {
            Capability.USE_PORTAL,
            Capability.SEND_REFERRAL_MESSAGES,
            Capability.VIEW_REFERRALS,
            Capability.SUBMIT_REFERRALS,
            Capability.ANSWER_INFO_REQUESTS,
        }
    ),
}


def roles_with(*capabilities: Capability) -> tuple[Role, ...]:
    """The roles holding every capability named, for queries of users (`role__in=`)."""
    return tuple(r for r in Role if _CAPABILITIES[r].issuperset(capabilities))


# Who may hold (be assigned) a referral.
ASSIGNABLE_ROLES = roles_with(Capability.HOLD_REFERRALS)


class ReferralScope(StrEnum):
    """Which referrals a role that sees referrals sees."""

    ALL = "all"
    DEPARTMENTS = "departments"  # those of the user's own departments
    PRACTICE = "practice"  # those the user's referring practice sent
    NONE = "none"


_REFERRAL_SCOPES: dict[Role, ReferralScope] = {
    Role.ADMIN: ReferralScope.ALL,
    Role.COORDINATOR: ReferralScope.ALL,
    Role.CLINICIAN: ReferralScope.DEPARTMENTS,
    Role.LIAISON: ReferralScope.ALL,
    Role.ANALYST: ReferralScope.NONE,
    Role.PORTAL: ReferralScope.PRACTICE,
}

_WORDS = {
    Capability.VIEW_REFERRALS: "see referral details",
    Capability.VIEW_REFERRAL_SUMMARIES: "see referrals",
    Capability.VIEW_INTERNAL_WORK: (
        "see the practice's internal work on a referral (contact attempts, notes, timeline, "
        "assignment, appointments, messages)"
    ),
    Capability.CREATE_REFERRALS: "create referrals",
    Capability.SUBMIT_REFERRALS: "send referrals",
    Capability.ANSWER_INFO_REQUESTS: "answer requests for information",
    Capability.WORK_REFERRALS: "work referrals",
    Capability.CLINICAL_DECISIONS: "make this decision on a referral",
    Capability.ANNOTATE_REFERRALS: "add notes or documents",
    Capability.VIEW_DIRECTORY: "see the referral partner directory",
    Capability.EDIT_DIRECTORY: "edit the referral partner directory",
    Capability.VIEW_AUDIT: "read the audit log",
    Capability.MANAGE_SETTINGS: "change settings",
    Capability.VIEW_ANALYTICS: "see the referral analytics",
    Capability.VIEW_SMALL_COUNTS: "see analytics figures resting on fewer than 11 people",
    Capability.USE_WORKSPACE: "use the practice's workspace",
    Capability.USE_PORTAL: "use the referral portal",
    Capability.HOLD_REFERRALS: "be assigned referrals",
    Capability.SEND_REFERRAL_MESSAGES: "send messages on referrals",
    Capability.VIEW_ALL_MESSAGES: "see every message in the outbox",
    Capability.WORK_OUTREACH: "do outreach work (visits, tasks, events, gifts)",
    Capability.HANDLE_FEEDBACK: "handle patient feedback (surveys, cases, advocates, testimonials)",
    Capability.PUBLISH_TESTIMONIALS: "approve testimonials for publication",
    Capability.APPROVE_GIFT_OVERAGES: "record a gift past the yearly limit (compliance)",
}


def _role_of(user) -> Role | None:
    """The role of a signed-in, active user; None for anyone else or an unknown role."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        return Role(user.role)
    except ValueError:
        return None


# Granted to a person, not a role: the practice's compliance officer, whatever staff role.
_PERSONAL = {Capability.APPROVE_GIFT_OVERAGES: "compliance_officer"}


def can(user, capability: Capability) -> bool:
    role = _role_of(user)
    if role is None:
        return False
    if capability in _PERSONAL:
        return role is not Role.PORTAL and bool(getattr(user, _PERSONAL[capability], False))
    return capability in _CAPABILITIES[role]


def referral_scope(user) -> ReferralScope:
    """Which referrals `user` sees, if their capabilities let them see referrals at all."""
    role = _role_of(user)
    return ReferralScope.NONE if role is None else _REFERRAL_SCOPES[role]


def role_among(user, roles: Collection[str]) -> bool:
    """Whether `user`'s role is one of `roles`: for sets of roles kept as data (an
    organization's settings), never for a rule the code itself makes."""
    return _role_of(user) in roles


def require(user, capability: Capability) -> None:
    if not can(user, capability):
        raise NotAllowed(f"Your role may not {_WORDS[capability]}.")
