"""The roles of DESIGN.md and the capabilities each one has.

Every service and selector asks here; pages and endpoints ask the same
functions, so a new edge cannot forget a rule.
"""

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


_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.COORDINATOR: frozenset(
        {
            Capability.VIEW_REFERRALS,
            Capability.VIEW_REFERRAL_SUMMARIES,
            Capability.VIEW_INTERNAL_WORK,
            Capability.CREATE_REFERRALS,
            Capability.WORK_REFERRALS,
            Capability.CLINICAL_DECISIONS,
            Capability.ANNOTATE_REFERRALS,
            Capability.VIEW_DIRECTORY,
            Capability.EDIT_DIRECTORY,
            Capability.VIEW_ANALYTICS,
        }
    ),
    Role.CLINICIAN: frozenset(
        {
            Capability.VIEW_REFERRALS,
            Capability.VIEW_REFERRAL_SUMMARIES,
            Capability.VIEW_INTERNAL_WORK,
            Capability.CLINICAL_DECISIONS,
            Capability.ANNOTATE_REFERRALS,
            Capability.VIEW_DIRECTORY,
            Capability.VIEW_ANALYTICS,
        }
    ),
    Role.LIAISON: frozenset(
        {
            Capability.VIEW_REFERRAL_SUMMARIES,
            Capability.VIEW_DIRECTORY,
            Capability.EDIT_DIRECTORY,
            Capability.VIEW_ANALYTICS,
        }
    ),
    Role.ANALYST: frozenset({Capability.VIEW_DIRECTORY, Capability.VIEW_ANALYTICS}),
    # Portal users see, send and answer for their own practice's referrals only
    # (selectors.visible_referrals and create_inbound_referral hold them to it), and of
    # each only what the referring practice may know: no VIEW_INTERNAL_WORK.
    Role.PORTAL: frozenset(
        {
            Capability.VIEW_REFERRALS,
            Capability.SUBMIT_REFERRALS,
            Capability.ANSWER_INFO_REQUESTS,
        }
    ),
}

# Who may hold (be assigned) a referral.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)

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
}


def can(user, capability: Capability) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    try:
        role = Role(user.role)
    except ValueError:
        return False
    return capability in _CAPABILITIES[role]


def require(user, capability: Capability) -> None:
    if not can(user, capability):
        raise NotAllowed(f"Your role may not {_WORDS[capability]}.")
