"""Hand-built referral histories for the analytics tests: every step at a time the
test names, through the real services, then the facts rebuilt."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from refloop.analytics import facts
from refloop.demo import factories as f
from refloop.referrals import transitions
from refloop.referrals.reports import write_progress_report
from refloop.referrals.services import record_contact_attempt

ZONE = ZoneInfo("America/Chicago")  # OrganizationFactory's time zone


def local(text: str) -> datetime:
    """'2026-03-01 09:00' in the practice's time zone."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


class History:
    def __init__(self, user, department):
        self.user = user
        self.department = department

    def referral(
        self,
        received: str,
        *steps,
        department=None,
        provider=None,
        source="provider",
        channel="fax",
        urgency="routine",
        patient=None,
    ):
        """A referral received at `received`, then each step: ("contact", hours) records
        a contact attempt that many hours after receipt; (state, hours, fields) moves it."""
        at = local(received).astimezone(UTC)  # hours are elapsed hours, across DST too
        fields = {}
        if source == "provider":
            fields["referring_provider"] = provider or f.ProviderFactory()
        referral = f.make_referral(
            acting_user=self.user,
            now=at,
            received_at=at,
            department=department or self.department,
            source_type=source,
            source_other="a billboard" if source == "other" else "",
            channel=channel,
            urgency=urgency,
            patient=patient or f.patient_data(),
            **fields,
        )
        for step in steps:
            kind, hours, *rest = step
            when = at + timedelta(hours=hours)
            if kind == "contact":
                outcome = rest[0] if rest else "reached"
                record_contact_attempt(
                    referral.pk,
                    acting_user=self.user,
                    channel="phone",
                    outcome=outcome,
                    at=when,
                    now=when,
                )
                continue
            data = dict(rest[0]) if rest else f.fields_for(kind, at=when)
            if kind == "scheduled" and rest and "appointment_hours" in rest[0]:
                data = {
                    "appointment": {"starts_at": at + timedelta(hours=data["appointment_hours"])}
                }
            if kind == "loop_closed":  # the loop closes with the clinician's report
                write_progress_report(
                    referral.pk, acting_user=self.user, findings="Seen.", plan="Home.", now=when
                )
            transitions.transition(
                referral.pk, to=kind, acting_user=self.user, fields=data, now=when
            )
        return referral

    def rebuild(self):
        facts.rebuild_all()
