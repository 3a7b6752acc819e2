"""After the visit: the clinician's progress report, the patient's consent to share it,
and closing the loop once the report has reached the referring provider."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict
from refloop.core.roles import Capability
from refloop.referrals import transitions
from refloop.referrals.models import ProgressReport, Referral, State
from refloop.referrals.timeline import record_event, touch
from refloop.referrals.writing import check_version, lock, required


@transaction.atomic
def write_progress_report(
    referral: Referral | int,
    *,
    acting_user,
    findings: str,
    plan: str,
    medications: str = "",
    follow_up: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ProgressReport:
    """Record the clinician's report for a seen referral. Sending it (automation) closes the loop."""
    now = now or timezone.now()
    locked = lock(referral, acting_user=acting_user, capability=Capability.CLINICAL_DECISIONS)
    check_version(locked, expected_version)
    if locked.state != State.SEEN:
        raise Conflict(
            f"This referral is {locked.state}; a progress report is written once the patient is seen."
        )
    if ProgressReport.objects.filter(referral=locked).exists():
        raise Conflict("This referral already has a progress report.")
    report = ProgressReport.objects.create(
        referral=locked,
        findings=required(findings, "findings", "say what the examination found."),
        plan=required(plan, "plan", "say what happens next for the patient."),
        medications=(medications or "").strip(),
        follow_up=(follow_up or "").strip(),
        entered_by=acting_user,
        entered_at=now,
    )
    record_event(locked, "referral.report_written", actor=acting_user, at=now)
    return report


@transaction.atomic
def record_outcome_consent(
    referral: Referral | int,
    *,
    acting_user,
    consent: bool,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The patient said whether the outcome of their visit may be shared with their referrer."""
    now = now or timezone.now()
    locked = lock(referral, acting_user=acting_user, capability=Capability.WORK_REFERRALS)
    check_version(locked, expected_version)
    patient = locked.patient
    patient.outcome_sharing_consent = consent
    patient.outcome_consent_recorded_at = now
    patient.save(update_fields=["outcome_sharing_consent", "outcome_consent_recorded_at"])
    audit.record(
        "patient.consent_recorded",
        touch(locked),
        actor=acting_user,
        detail={"outcome_sharing": consent},
        now=now,
    )
    record_event(
        locked,
        "referral.outcome_consent_recorded",
        actor=acting_user,
        at=now,
        data={"consent": consent},
    )
    return locked


def summary_of(report: ProgressReport) -> str:
    """The report in the few lines kept on the referral once the loop is closed."""
    return f"Findings: {report.findings}\nPlan: {report.plan}"


@transaction.atomic
def close_loop_on_delivery(referral_id: int, *, message_id: int, now: datetime) -> bool:
    """The progress report reached the referrer: close the loop. False if it was already closed."""
    report = ProgressReport.objects.filter(referral_id=referral_id).first()
    summary = summary_of(report) if report is not None else None
    return transitions.close_loop_on_delivery(
        referral_id, report_summary=summary, message_id=message_id, now=now
    )
