"""refloop's built-in wording for every rule: short, warm, specific, no jargon.

`long` serves email, fax and letters; `sms` is what fits a text message; staff rules
have only `in_app`. An admin's Template row replaces any of these.
"""

DEFAULTS: dict[str, dict[str, str]] = {
    "referrer.acknowledgment": {
        "subject": "Referral {{ referral.number }} received",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "Thank you for referring {{ patient.initials }} to {{ department.name }} at "
            "{{ practice.name }}. We have it (referral {{ referral.number }}) and will call the "
            "patient {{ first_contact.by }}.\n\n"
            "We'll keep you in the loop at every step. You can follow it any time at "
            "{{ link.portal }} or call us at {{ practice.phone }}.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "{{ practice.name }}: referral {{ referral.number }} received. We'll call the patient {{ first_contact.by }}.",
    },
    "referrer.thank_you_first": {
        "subject": "Thank you for your first referral to {{ practice.name }}",
        "long": (
            "Dear {{ referrer.name }} and the team at {{ referrer.practice }},\n\n"
            "Thank you for trusting {{ practice.name }} with your patient. We know you have a "
            "choice, and we will take good care of them and keep you informed.\n\n"
            "If there is ever anything we can do to make referring easier, call us at "
            "{{ practice.phone }}.\n\n"
            "With thanks,\n{{ practice.name }}"
        ),
        "sms": "Thank you for your first referral to {{ practice.name }}. We'll keep you informed.",
    },
    "referrer.accepted": {
        "subject": "Referral {{ referral.number }} accepted",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "Good news: {{ department.name }} has accepted your referral of "
            "{{ patient.initials }} ({{ referral.number }}). We are reaching out to the patient "
            "to book the first visit and will let you know when it is scheduled.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "{{ practice.name }}: referral {{ referral.number }} accepted. We're booking the patient now.",
    },
    "referrer.declined": {
        "subject": "About referral {{ referral.number }}",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "Thank you for referring {{ patient.initials }} ({{ referral.number }}). We are not "
            "able to see this patient in {{ department.name }}: {{ decline.reason }}.\n\n"
            "We suggest: {{ decline.alternative }}\n\n"
            "If you would like to talk it through, call us at {{ practice.phone }}.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "{{ practice.name }}: we can't accept referral {{ referral.number }} ({{ decline.reason }}). Please call {{ practice.phone }}.",
    },
    "referrer.pending_info": {
        "subject": "Referral {{ referral.number }}: we need a little more",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "To move referral {{ referral.number }} ({{ patient.initials }}) forward, we need:\n\n"
            "{{ info.missing }}\n\n"
            "You can upload it at {{ link.portal }} or fax it to us. We will pick it up as soon "
            "as it arrives.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "{{ practice.name }}: referral {{ referral.number }} needs: {{ info.missing }}",
    },
    "referrer.scheduled": {
        "subject": "Referral {{ referral.number }}: patient scheduled",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "{{ patient.initials }} ({{ referral.number }}) is booked with {{ department.name }} "
            "on {{ appointment.when }}. We'll send you our report after the visit.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "{{ practice.name }}: referral {{ referral.number }} scheduled for {{ appointment.when }}.",
    },
    "patient.scheduled": {
        "subject": "Your appointment at {{ practice.name }}",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "You're booked with {{ department.name }} on {{ appointment.when }} at "
            "{{ appointment.where }}, with {{ appointment.with }}.\n\n"
            "Please bring your insurance card, a photo ID, a list of the medicines you take, and "
            "any X-rays or scans you have. Plan to arrive 15 minutes early. What to expect: "
            "{{ link.instructions }}\n\n"
            "Can't make it? Let us know here so someone else can have the time: "
            "{{ link.cancel }} or call {{ practice.phone }}.\n\n"
            "See you soon,\n{{ practice.name }}"
        ),
        "sms": (
            "Hi {{ patient.first_name }}, you're booked at {{ practice.name }} on "
            "{{ appointment.when }}. What to bring: {{ link.instructions }}"
        ),
    },
    "patient.reminder_early": {
        "subject": "Reminder: your appointment on {{ appointment.when }}",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "A reminder that you're seeing {{ appointment.with }} ({{ department.name }}) on "
            "{{ appointment.when }} at {{ appointment.where }}.\n\n"
            "Confirm: {{ link.confirm }}\nCan't come? {{ link.cancel }}\n\n"
            "{{ practice.name }}, {{ practice.phone }}"
        ),
        "sms": (
            "{{ practice.name }}: see you {{ appointment.when }}. Confirm {{ link.confirm }} "
            "or cancel {{ link.cancel }}. Reply STOP to opt out."
        ),
    },
    "patient.reminder_late": {
        "subject": "See you soon: {{ appointment.when }}",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "We're looking forward to seeing you today, {{ appointment.when }}, at "
            "{{ appointment.where }}.\n\n"
            "Running late or can't come? {{ link.cancel }} or call {{ practice.phone }}.\n\n"
            "{{ practice.name }}"
        ),
        "sms": (
            "{{ practice.name }}: see you at {{ appointment.when }}. Can't come? "
            "{{ link.cancel }}. Reply STOP to opt out."
        ),
    },
    "patient.no_show": {
        "subject": "We missed you: let's find a new time",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "We missed you at your {{ department.name }} appointment. It happens. Call us at "
            "{{ practice.phone }} and we'll find a time that works better for you.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "Hi {{ patient.first_name }}, we missed you at {{ practice.name }}. Call {{ practice.phone }} to pick a new time.",
    },
    "referrer.no_show": {
        "subject": "Referral {{ referral.number }}: missed appointments",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "{{ patient.initials }} ({{ referral.number }}) has missed {{ no_show.count }} "
            "appointments with {{ department.name }}. We keep trying to rebook; if you can "
            "encourage the patient, please do.\n\n"
            "{{ practice.name }}, {{ practice.phone }}"
        ),
        "sms": "{{ practice.name }}: referral {{ referral.number }}, patient missed {{ no_show.count }} appointments.",
    },
    "referrer.seen": {
        "subject": "Referral {{ referral.number }}: patient seen",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "{{ patient.initials }} ({{ referral.number }}) was seen in {{ department.name }}. "
            "Our report will follow.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "{{ practice.name }}: referral {{ referral.number }}, patient seen. Report to follow.",
    },
    "referrer.progress_report": {
        "subject": "Progress report for referral {{ referral.number }}",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "Thank you for referring {{ patient.initials }} ({{ referral.number }}). Here is our "
            "report from {{ department.name }}.\n\n"
            "Findings:\n{{ report.findings }}\n\n"
            "Plan:\n{{ report.plan }}\n\n"
            "Medications:\n{{ report.medications }}\n\n"
            "Follow-up for you:\n{{ report.follow_up }}\n\n"
            "We have asked the patient to follow up with you. Questions: {{ practice.phone }}.\n\n"
            "{{ practice.name }}"
        ),
    },
    "patient.follow_up": {
        "subject": "After your visit",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "Thank you for visiting {{ department.name }}. Please book a follow-up with "
            "{{ referrer.name }}, who referred you: we are sending them our report.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "Hi {{ patient.first_name }}, thanks for visiting {{ practice.name }}. Please book a follow-up with {{ referrer.name }}.",
    },
    "patient.testimonial_authorization": {
        "subject": "Your copy: permission to share your testimonial",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "Thank you for your kind words about {{ practice.name }}. Here is your copy of the "
            "authorization you signed to let us share them: {{ link.authorization }}\n\n"
            "You can take back this permission at any time on that page, or by writing to us or "
            "calling {{ practice.phone }}. Your care does not depend on it.\n\n"
            "{{ practice.name }}"
        ),
        "sms": (
            "Hi {{ patient.first_name }}, your copy of the permission to share your testimonial "
            "with {{ practice.name }} (and how to take it back): {{ link.authorization }}"
        ),
    },
    "patient.advocate_welcome": {
        "subject": "Your link to refer a friend to {{ practice.name }}",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "Thank you for offering to tell friends and family about {{ practice.name }}. "
            "Anyone you give this link to can contact us through it:\n\n{{ link.advocate }}\n\n"
            "It names no one. To stop, call us at {{ practice.phone }}.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "Hi {{ patient.first_name }}, thanks for referring friends to {{ practice.name }}. Your link: {{ link.advocate }}",
    },
    "patient.advocate_thanks": {
        "subject": "Thank you from {{ practice.name }}",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "Someone contacted us through your link. Thank you for recommending us: it means "
            "a lot to our team.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "Hi {{ patient.first_name }}, someone contacted {{ practice.name }} through your link. Thank you for recommending us!",
    },
    "patient.advocate_thanks_named": {
        "subject": "Thank you from {{ practice.name }}",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "{{ friend.first_name }} contacted us through your link and was happy for us to "
            "tell you. Thank you for recommending us: it means a lot to our team.\n\n"
            "{{ practice.name }}"
        ),
        "sms": "Hi {{ patient.first_name }}, {{ friend.first_name }} contacted {{ practice.name }} through your link. Thank you for recommending us!",
    },
    "patient.survey": {
        "subject": "How was your visit to {{ practice.name }}?",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "Thank you for visiting {{ practice.name }}. Would you tell us how it went? It takes "
            "about a minute, and every answer is read:\n\n"
            "{{ link.survey }}\n\n"
            "{{ practice.name }}, {{ practice.phone }}"
        ),
        "sms": (
            "Hi {{ patient.first_name }}, how was your visit to {{ practice.name }}? "
            "1-minute survey: {{ link.survey }} Reply STOP to opt out."
        ),
    },
    "patient.review_invitation": {
        "subject": "Would you review {{ practice.name }}?",
        "long": (
            "Hi {{ patient.first_name }},\n\n"
            "Thank you for choosing {{ practice.name }}. If you would like to share your "
            "experience, good or bad, other patients read these reviews:\n\n"
            "{{ review.links }}\n\n"
            "{{ practice.name }}, {{ practice.phone }}"
        ),
        "sms": (
            "Hi {{ patient.first_name }}, {{ practice.name }} welcomes your honest review: "
            "{{ review.links }} Reply STOP to opt out."
        ),
    },
    "staff.report_due": {
        "in_app": "Referral {{ referral.number }}: the progress report for the referrer is not written yet."
    },
    "staff.report_needs_consent": {
        "in_app": "Referral {{ referral.number }}: the report waits until the patient agrees to share outcomes."
    },
    "staff.sla_breach": {
        "in_app": "Referral {{ referral.number }} is {{ sla.overdue_hours }} h past its first-contact target."
    },
    "staff.sla_escalation": {
        "in_app": "Escalation: referral {{ referral.number }} still has no patient contact, {{ sla.overdue_hours }} h past target."
    },
    "staff.stalled": {
        "in_app": "Referral {{ referral.number }} has had no action for {{ stall.days }} days ({{ stall.state }})."
    },
    "staff.stalled_escalation": {
        "in_app": "Escalation: referral {{ referral.number }} has had no action for {{ stall.days }} days ({{ stall.state }})."
    },
    "staff.case_acknowledge_overdue": {
        "in_app": "Case {{ case.number }} ({{ case.category }}) has not been acknowledged: {{ case.late }} past its one-business-day clock."
    },
    "staff.case_resolve_overdue": {
        "in_app": "Case {{ case.number }} ({{ case.category }}) is not resolved: {{ case.late }} past its seven-day clock."
    },
    "staff.delivery_failed": {
        "in_app": "A message about referral {{ referral.number }} could not be delivered: {{ failure.reason }}"
    },
    "referrer.new_portal_message": {
        "subject": "New message about referral {{ referral.number }}",
        "long": (
            "There is a new message about referral {{ referral.number }}.\n\n"
            "Sign in to read it: {{ link.thread }}\n\n"
            "{{ practice.name }}"
        ),
    },
    "staff.new_portal_message": {
        "subject": "New message about referral {{ referral.number }}",
        "long": (
            "There is a new message about referral {{ referral.number }}.\n\n"
            "Sign in to read it: {{ link.thread }}\n\n"
            "{{ practice.name }}"
        ),
    },
    "referrer.monthly_digest": {
        "subject": "Your referrals to {{ practice.name }}: {{ digest.month }}",
        "long": (
            "Dear {{ referrer.practice }} team,\n\n"
            "Here is where the patients you sent us stand, as of today:\n\n"
            "{{ digest.table }}\n\n"
            "Details for each referral: {{ link.portal }}. Thank you for your referrals.\n\n"
            "{{ practice.name }}"
        ),
    },
    "referrer.monthly_scorecard": {
        "subject": "Your referral scorecard from {{ practice.name }}: {{ digest.month }}",
        "long": (
            "Dear {{ referrer.practice }} team,\n\n"
            "Attached is your scorecard for {{ digest.month }}: how quickly we reached, saw and "
            "reported back on the patients you sent us, next to the same figures for all the "
            "practices that refer to us. It holds numbers only, no patient names.\n\n"
            "Thank you for your referrals. Questions or ideas: call us at {{ practice.phone }}.\n\n"
            "{{ practice.name }}"
        ),
    },
    "referrer.office_survey": {
        "subject": "Three questions from {{ practice.name }}",
        "long": (
            "Dear {{ referrer.name }},\n\n"
            "You and the team at {{ referrer.practice }} send us patients, and we would like to "
            "know how that goes for you: how easy it is to refer, how quickly your patients are "
            "seen and how well we keep you informed. Three questions and a comment, about a "
            "minute:\n\n"
            "{{ link.survey }}\n\n"
            "Your answers go to our team and help us do better. Thank you.\n\n"
            "{{ practice.name }} · {{ practice.phone }}"
        ),
        "sms": "{{ practice.name }}: how is referring to us going? Three questions: {{ link.survey }}",
    },
    "staff.office_feedback_low": {
        "in_app": (
            "{{ referrer.practice }} rated us low in its survey ({{ feedback.scores }}) and the "
            "practice has no liaison. Please call the office."
        ),
    },
}


def default_wording(key: str, channel: str) -> tuple[str, str]:
    """(subject, body) refloop uses for `key` on `channel` when no admin template exists."""
    wording = DEFAULTS[key]
    if channel == "in_app" or "long" not in wording:
        return "", wording["in_app"]
    if channel == "sms" and "sms" in wording:
        return "", wording["sms"]
    return wording.get("subject", ""), wording["long"]
