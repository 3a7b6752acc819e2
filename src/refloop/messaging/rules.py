"""The automation rules: which message each lifecycle moment sends, to whom, and when.

Every rule is on by default; an admin can switch one off or retime it (RuleSetting).
The handlers that apply them live in `automation.py`.
"""

from dataclasses import dataclass
from datetime import timedelta

from refloop.messaging.models import Audience, RuleSetting

_COMMON = {"practice.name", "practice.phone", "department.name", "referral.number"}
_REFERRER = _COMMON | {"referrer.name", "referrer.practice", "patient.initials", "link.portal"}
_PATIENT = _COMMON | {"patient.first_name"}
_APPOINTMENT = {"appointment.when", "appointment.where", "appointment.with"}
_STAFF = _COMMON


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    audience: str
    when: str  # in words, for the admin page
    placeholders: frozenset[str]
    # A rule with a timing: minutes relative to its anchor (negative: before it).
    offset_minutes: int | None = None
    offset_meaning: str = ""
    clinical: bool = False
    # Channels it is ever sent on, when not the audience's usual ones (messaging.template_forms).
    channels: tuple[str, ...] = ()

    def setting(self) -> RuleSetting | None:
        return RuleSetting.objects.filter(key=self.key).first()

    def enabled(self) -> bool:
        setting = self.setting()
        return setting is None or setting.enabled

    def offset(self) -> timedelta:
        setting = self.setting()
        minutes = self.offset_minutes
        if setting is not None and setting.offset_minutes is not None:
            minutes = setting.offset_minutes
        return timedelta(minutes=minutes or 0)


def _rule(key, title, audience, when, placeholders=(), **timing) -> Rule:
    base = {Audience.REFERRER: _REFERRER, Audience.PATIENT: _PATIENT, Audience.STAFF: _STAFF}
    return Rule(key, title, audience, when, frozenset(base[audience] | set(placeholders)), **timing)


RULES: dict[str, Rule] = {
    rule.key: rule
    for rule in [
        _rule(
            "referrer.acknowledgment",
            "Referral received",
            Audience.REFERRER,
            "when a referral arrives",
            {"first_contact.by"},
        ),
        _rule(
            "referrer.thank_you_first",
            "Thank you for a first referral",
            Audience.REFERRER,
            "after the first referral from a new provider or practice (to the provider and their staff)",
        ),
        _rule(
            "referrer.accepted",
            "Referral accepted",
            Audience.REFERRER,
            "when a referral is accepted",
        ),
        _rule(
            "referrer.declined",
            "Referral declined",
            Audience.REFERRER,
            "when a referral is declined",
            {"decline.reason", "decline.alternative"},
        ),
        _rule(
            "referrer.pending_info",
            "More information needed",
            Audience.REFERRER,
            "when a referral waits for records or authorization",
            {"info.missing"},
        ),
        _rule(
            "referrer.scheduled",
            "Patient scheduled",
            Audience.REFERRER,
            "when the appointment is booked or moved",
            {"appointment.when"},
        ),
        _rule(
            "patient.scheduled",
            "Appointment confirmation",
            Audience.PATIENT,
            "when the appointment is booked or moved",
            _APPOINTMENT | {"link.instructions", "link.cancel"},
        ),
        _rule(
            "patient.reminder_early",
            "First appointment reminder",
            Audience.PATIENT,
            "before the appointment",
            _APPOINTMENT | {"link.confirm", "link.cancel"},
            offset_minutes=-48 * 60,
            offset_meaning="minutes before the appointment",
        ),
        _rule(
            "patient.reminder_late",
            "Second appointment reminder",
            Audience.PATIENT,
            "shortly before the appointment",
            _APPOINTMENT | {"link.confirm", "link.cancel"},
            offset_minutes=-2 * 60,
            offset_meaning="minutes before the appointment",
        ),
        _rule(
            "patient.no_show",
            "Missed appointment: let's rebook",
            Audience.PATIENT,
            "when the patient misses an appointment",
        ),
        _rule(
            "referrer.no_show",
            "Patient missed appointments",
            Audience.REFERRER,
            "after the patient's second missed appointment",
            {"no_show.count"},
        ),
        _rule(
            "referrer.seen",
            "Patient seen",
            Audience.REFERRER,
            "when the patient has been seen (no clinical detail; the report follows)",
        ),
        _rule(
            "referrer.progress_report",
            "Progress report",
            Audience.REFERRER,
            "when the clinician has written the report and the patient agreed to share it; sending it closes the loop",
            {"report.findings", "report.plan", "report.medications", "report.follow_up"},
            clinical=True,
        ),
        _rule(
            "patient.follow_up",
            "Follow up with your referring provider",
            Audience.PATIENT,
            "after the visit",
            {"referrer.name"},
        ),
        # Advocacy (refloop.advocacy.sending): carry no PHI beyond the first name; the
        # survey's own link and the counting review links are filled in when queued.
        _rule(
            "patient.survey",
            "How was your visit? (survey)",
            Audience.PATIENT,
            "after a visit, at most once per patient in the survey interval (advocacy settings)",
            {"link.survey"},
            offset_minutes=3 * 60,
            offset_meaning="minutes after the visit",
        ),
        _rule(
            "patient.review_invitation",
            "Invitation to review us",
            Audience.PATIENT,
            "when staff invite a patient whose survey went unanswered to leave a public review",
            {"review.links"},
        ),
        _rule(
            "patient.testimonial_authorization",
            "Your copy of a testimonial authorization",
            Audience.PATIENT,
            "when a patient signs the authorization to use their testimonial: their copy "
            "(45 CFR 164.508(c)(4)) and how to revoke it",
            {"link.authorization"},
        ),
        _rule(
            "staff.report_due",
            "Progress report not written yet",
            Audience.STAFF,
            "if no report is written one business day after the visit (to the assignee)",
            offset_minutes=24 * 60,
            offset_meaning="minutes after the visit, counted in business days",
        ),
        _rule(
            "staff.report_needs_consent",
            "Report waiting for consent",
            Audience.STAFF,
            "when a report is written but the patient has not agreed to share outcomes",
        ),
        _rule(
            "staff.sla_breach",
            "First-contact target missed",
            Audience.STAFF,
            "when a referral passes its first-contact target (to the assignee)",
            {"sla.overdue_hours"},
        ),
        _rule(
            "staff.sla_escalation",
            "First-contact target missed: escalation",
            Audience.STAFF,
            "if still nobody has contacted the patient (to the department's point of contact)",
            {"sla.overdue_hours"},
            offset_minutes=24 * 60,
            offset_meaning="minutes after the breach",
        ),
        _rule(
            "staff.stalled",
            "Referral stalled",
            Audience.STAFF,
            "when an open referral has had no action (to the assignee)",
            {"stall.days", "stall.state"},
            offset_minutes=5 * 24 * 60,
            offset_meaning="minutes without any action",
        ),
        _rule(
            "staff.stalled_escalation",
            "Referral stalled: escalation",
            Audience.STAFF,
            "if a stalled referral still sees no action (to the department's point of contact)",
            {"stall.days", "stall.state"},
            offset_minutes=24 * 60,
            offset_meaning="minutes after the stall alert",
        ),
        _rule(
            "staff.case_acknowledge_overdue",
            "Feedback case not acknowledged in time",
            Audience.STAFF,
            "when a case is not acknowledged within one business day (to its owner and the "
            "department's point of contact)",
            {"case.number", "case.category", "case.late"},
        ),
        _rule(
            "staff.case_resolve_overdue",
            "Feedback case not resolved in time",
            Audience.STAFF,
            "when a case is not resolved within seven days (to its owner and the department's "
            "point of contact)",
            {"case.number", "case.category", "case.late"},
        ),
        _rule(
            "staff.delivery_failed",
            "A message could not be delivered",
            Audience.STAFF,
            "when a message finally fails (to the assignee)",
            {"failure.reason"},
        ),
        _rule(
            "referrer.new_portal_message",
            "New secure message (portal users)",
            Audience.REFERRER,
            "when our staff write on a referral's secure thread (to the practice's portal users)",
            {"link.thread"},
            channels=("email",),
        ),
        _rule(
            "staff.new_portal_message",
            "New secure message (staff email)",
            Audience.STAFF,
            "when the referring practice writes on a referral's thread (to whoever answers for it)",
            {"link.thread"},
            channels=("email",),
        ),
        _rule(
            "referrer.monthly_digest",
            "Monthly referral digest",
            Audience.REFERRER,
            "on the first of each month, to each practice that referred in the last year",
            {"digest.month", "digest.table"},
        ),
        # Practice-level, like the digest, but offering only what a practice-level message
        # can fill: no referral, provider or patient placeholders.
        Rule(
            "referrer.monthly_scorecard",
            "Monthly referrer scorecard (PDF)",
            Audience.REFERRER,
            "in the first week of each month, to each practice that referred the month before: "
            "its scorecard for that month as a PDF attachment (numbers only, no patients)",
            frozenset(
                {
                    "practice.name",
                    "practice.phone",
                    "referrer.practice",
                    "link.portal",
                    "digest.month",
                }
            ),
            offset_minutes=9 * 60,
            offset_meaning="minutes after the month begins (midnight on the 1st)",
            channels=("email", "fax", "letter"),
        ),
        # A referring office's survey (advocacy.office): about the office's own experience of
        # referring, never about a patient, so it offers no referral, patient or department
        # placeholder at all (not even initials).
        Rule(
            "referrer.office_survey",
            "Referring-office survey",
            Audience.REFERRER,
            "after a sample of closed loops, and in the first week of each quarter, to the "
            "referring provider and the practice's staff contacts (at most once a quarter each): "
            "three questions on referring to us, and a comment",
            frozenset(
                {
                    "practice.name",
                    "practice.phone",
                    "referrer.name",
                    "referrer.practice",
                    "link.survey",
                }
            ),
            channels=("email", "fax", "letter"),
        ),
        _rule(
            "staff.office_feedback_low",
            "A referring office rated us low",
            Audience.STAFF,
            "when a referring office answers its survey with a low score and the practice has no "
            "liaison (to the department's point of contact, else the admins)",
            {"referrer.practice", "feedback.scores"},
        ),
        # Refer a friend (advocacy.advocates): about no referral, so only these placeholders.
        Rule(
            "patient.advocate_welcome",
            "Your link to refer a friend",
            Audience.PATIENT,
            "when a patient agrees to refer friends: their personal link",
            frozenset({"practice.name", "practice.phone", "patient.first_name", "link.advocate"}),
        ),
        # Without the friend's yes the thank-you has nothing that could name the friend.
        Rule(
            "patient.advocate_thanks",
            "Thank you for referring a friend",
            Audience.PATIENT,
            "when someone contacts us through an advocate's link and did not agree to be named",
            frozenset({"practice.name", "practice.phone", "patient.first_name"}),
        ),
        Rule(
            "patient.advocate_thanks_named",
            "Thank you for referring a friend (named)",
            Audience.PATIENT,
            "when someone contacts us through an advocate's link and agreed to be named",
            frozenset(
                {"practice.name", "practice.phone", "patient.first_name", "friend.first_name"}
            ),
        ),
    ]
}


def rule(key: str) -> Rule:
    return RULES[key]
