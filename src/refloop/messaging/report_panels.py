"""The after-visit panel on an inbound referral's detail page: the progress report, the
patient's consent to share it, where it goes, and the patient's message preferences."""

from django.urls import reverse
from django.utils import dateformat, timezone

from refloop.core.roles import Capability, can
from refloop.messaging import services
from refloop.messaging.models import Channel, Preference
from refloop.messaging.recipients import referrer_of, route
from refloop.messaging.template_forms import PreferenceForm, ProgressReportForm
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, ProgressReport, Referral, State

REPORT_STATES = {State.SEEN, State.LOOP_CLOSED}
CONSENT_WORDS = {None: "Not asked yet", True: "Agreed", False: "Declined"}
# Bound forms that came back with errors are handed to the panel through the request.
BOUND_FORMS = "_after_visit_forms"


def patient_key(referral: Referral) -> str:
    return services.patient_key(referral.patient_id)


def preference_initial(referral: Referral) -> dict:
    preference = Preference.objects.filter(recipient=patient_key(referral)).first()
    if preference is None:
        return {}
    return {
        "preferred_channel": preference.preferred_channel,
        "opted_out": list(preference.opted_out),
        "quiet_start": preference.quiet_start,
        "quiet_end": preference.quiet_end,
        "language": preference.language,
    }


def report_status(referral: Referral, report: ProgressReport | None) -> str:
    """Where the report stands, in one plain sentence."""
    if referral.state == State.LOOP_CLOSED:
        zone = Organization.current().zone
        closed = timezone.localtime(referral.closed_at or referral.state_changed_at, zone)
        return f"Sent; the loop closed on {dateformat.format(closed, 'M j, Y')}."
    consent = referral.patient.outcome_sharing_consent
    if consent is False:
        return "The patient declined to share the outcome, so the report is not sent."
    referrer = referrer_of(referral)
    if referrer is None:
        return "There is no referring provider to send the report to."
    way = route(referrer, clinical=True)
    if way.channel is None:
        return f"The report cannot go to {referrer.name}: {way.reason}"
    destination = f"{referrer.name} by {Channel(way.channel).label.lower()}"
    if report is not None and consent is None:
        return f"Waiting for the patient's consent; then the report goes to {destination}."
    if report is not None:
        return f"The report is on its way to {destination}; the loop closes once it is delivered."
    return f"The report goes to {destination} as soon as it is written and the patient agrees."


def after_visit_context(request, referral: Referral, *, actions: bool) -> dict | None:
    """What messaging/_after_visit.html needs, or None when there is nothing to show."""
    if referral.direction != Direction.INBOUND:
        return None
    user = request.user
    bound = getattr(request, BOUND_FORMS, {})
    panel: dict = {"referral": referral}
    shows_report = referral.state in REPORT_STATES and can(user, Capability.CLINICAL_DECISIONS)
    if shows_report:
        report = ProgressReport.objects.filter(referral=referral).first()
        consent = referral.patient.outcome_sharing_consent
        panel["report"] = {
            "written": report,
            "form": (bound.get("report") or ProgressReportForm(auto_id="report_%s"))
            if report is None and referral.state == State.SEEN and actions
            else None,
            "url": reverse("referral_progress_report", args=[referral.pk]),
            "consent": consent,
            "consent_words": CONSENT_WORDS[consent],
            "consent_url": reverse("referral_outcome_consent", args=[referral.pk]),
            "can_record_consent": actions
            and referral.state == State.SEEN
            and can(user, Capability.WORK_REFERRALS),
            "status": report_status(referral, report),
        }
    if can(user, Capability.WORK_REFERRALS):
        form = bound.get("preferences") or PreferenceForm(
            initial=preference_initial(referral), patient=referral.patient, auto_id="prefs_%s"
        )
        panel["preferences"] = {
            "form": form,
            "editable": actions,
            "url": reverse("referral_message_preferences", args=[referral.pk]),
            "open": bool(form.errors),
        }
    if "report" not in panel and "preferences" not in panel:
        return None
    return panel
