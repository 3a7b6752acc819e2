"""The referral detail page: who, from whom, why, what happened, and what can be done now.

Reads go through the referral selectors, which audit them; the patient's identity is
shown only on request (a POST, audited as patient.read). Liaisons get the summary only.
The actions (transitions, assignment, notes, documents…) live in detail_actions.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.shortcuts import render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from refloop.core.models import User
from refloop.core.roles import Capability, can
from refloop.messaging.report_panels import after_visit_context
from refloop.messaging.staff_panels import outbox_panel_context
from refloop.portal.staff import messages_panel_context
from refloop.practice.models import Organization
from refloop.public.selectors import submission_for_staff
from refloop.referrals import clocks, lifecycle
from refloop.referrals.documents import FILE_EXTENSIONS, private_file_response
from refloop.referrals.models import Attachment, Direction, Fit, Referral, State, kind_label
from refloop.referrals.selectors import (
    appointments_of,
    get_attachment,
    get_referral,
    reveal_patient,
    sees_clinical_detail,
    timeline_for,
)
from refloop.web.access import staff_view
from refloop.web.words import person, words
from refloop.workspace import detail_actions
from refloop.workspace.duplicates import duplicate_context
from refloop.workspace.worklist_rows import FIT_TONES

TIME_FORMAT = "M j, Y, g:i A T"

EVENT_WORDS = {
    "referral.received": "Received",
    "referral.drafted": "Drafted",
    "referral.assigned": "Assigned",
    "referral.in_review": "Review started",
    "referral.pending_info": "Information requested",
    "referral.accepted": "Accepted",
    "referral.declined": "Declined",
    "referral.contacting": "Contacting the patient",
    "referral.contact_attempted": "Contact attempt",
    "referral.scheduled": "Scheduled",
    "referral.rescheduled": "Appointment rescheduled",
    "referral.no_show": "No-show",
    "referral.seen": "Seen",
    "referral.loop_closed": "Loop closed",
    "referral.unreachable": "Unreachable",
    "referral.cancelled": "Cancelled",
    "referral.sent": "Sent",
    "referral.completed": "Completed: report received",
    "referral.note_added": "Note",
    "referral.document_added": "Document added",
    "referral.sla_breached": "First-contact deadline missed",
    "referral.triaged": "Triaged",
    "referral.duplicate_flagged": "Flagged as a possible duplicate",
    "referral.merged": "Merged a duplicate into this referral",
    "referral.merged_into": "Merged into another referral",
    "referral.message_posted": "Message with the referring practice",
    "referral.report_written": "Progress report written",
    "referral.outcome_consent_recorded": "Patient's consent to share the outcome recorded",
    "referral.appointment_confirmed": "The patient confirmed the appointment",
    "referral.appointment_cancelled_by_patient": "The patient cancelled the appointment by link",
}

# Event data worth showing, in this order, with its label; ids and internals are left out.
DATA_LABELS = {
    "text": "",
    "note": "Note",
    "missing_info": "Missing",
    "reason": "Reason",
    "reason_detail": "Details",
    "suggested_alternative": "Suggested alternative",
    "starts_at": "Appointment",
    "channel": "Channel",
    "outcome": "Outcome",
    "assignee": "Assignee",
    "kind": "Kind",
    "no_shows": "No-shows so far",
    "attempts": "Unsuccessful attempts",
    "in_network": "In network",
    "source_type": "Source",
    "fit": "Fit",
    "department": "Department",
    "department_reason": "Because",
    "missing_documents": "Missing documents",
    "of": "Possible duplicate of",
    "merged": "Merged",
    "into": "Into",
}
CODED_VALUES = {"reason", "channel", "outcome", "kind", "source_type", "fit"}


OVERDUE_WORDS = {
    clocks.FIRST_CONTACT: "First contact overdue",
    clocks.REPORT: "Consult report overdue",
}

GOOD_STATES = {State.SCHEDULED, State.SEEN, State.LOOP_CLOSED, State.COMPLETED, State.ACCEPTED}
WAITING_STATES = {State.PENDING_INFO, State.NO_SHOW}


def local(moment: datetime | None, org: Organization) -> str:
    if moment is None:
        return ""
    return dateformat.format(timezone.localtime(moment, org.zone), TIME_FORMAT)


def state_tone(state: str) -> str:
    if state in GOOD_STATES:
        return "ok"
    if state in WAITING_STATES:
        return "warn"
    if state in lifecycle.LOST:
        return "late"
    return ""


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    actor: str
    words: str
    text: str
    details: list[tuple[str, str]]
    origin: str = ""  # the merged referral's number, for events that happened there


def _value(key: str, value, org: Organization, names: dict[str, str]) -> str:
    if value is None or value == "":
        return "Unassigned" if key == "assignee" else ""
    if key == "assignee":
        # Events keep the username (it does not change); pages say who that is.
        return names.get(str(value), str(value))
    if key == "starts_at":
        return local(datetime.fromisoformat(value), org)
    if key == "in_network":
        return "Yes" if value else "No"
    if key in CODED_VALUES:
        return words(str(value))
    if isinstance(value, list):
        return ", ".join(words(str(v)) for v in value)
    return str(value)


def assignee_names(events) -> dict[str, str]:
    """The names of the people the events assigned referrals to, by username."""
    usernames = {str(e.data["assignee"]) for e in events if e.data.get("assignee")}
    if not usernames:
        return {}
    return {u.username: person(u) for u in User.objects.filter(username__in=usernames)}


def timeline(events, *, clinical: bool, org: Organization) -> list[TimelineEntry]:
    """Events in words, newest first. Without clinical access: state changes only, no data."""
    shown = [event for event in events if clinical or event.to_state]
    names = assignee_names(shown) if clinical else {}
    entries = []
    for event in shown:
        data = event.data if clinical else {}
        values = {key: _value(key, data[key], org, names) for key in DATA_LABELS if key in data}
        details = [
            (label, values[key])
            for key, label in DATA_LABELS.items()
            if key != "text" and values.get(key)
        ]
        entries.append(
            TimelineEntry(
                at=local(event.at, org),
                actor=person(event.actor) or event.actor_label,
                words=EVENT_WORDS.get(event.kind, words(event.kind.split(".")[-1])),
                text=str(data.get("text", "")),
                details=details,
                origin=getattr(event, "origin", ""),
            )
        )
    entries.reverse()
    return entries


def attachment_views(
    referral: Referral, org: Organization, merged: Sequence[Referral] = ()
) -> list[dict]:
    views = []
    documents = [*referral.attachments.all()]
    numbers = {other.pk: other.number for other in merged}
    if merged:
        # The merged duplicates' documents in one query however many were merged, in the
        # order of the duplicates.
        position = {other.pk: n for n, other in enumerate(merged)}
        others = Attachment.objects.filter(referral_id__in=numbers)
        documents += sorted(others, key=lambda attachment: position[attachment.referral_id])
    for attachment in documents:
        kind = words(attachment.kind)
        shown_as = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}
        views.append(
            {
                "attachment": attachment,
                "kind": kind,
                "url": reverse("referral_attachment", args=[attachment.referral_id, attachment.pk]),
                "viewer": shown_as.get(attachment.content_type, ""),
                "format": FILE_EXTENSIONS.get(attachment.content_type, "file").upper(),
                "uploaded": local(attachment.uploaded_at, org),
                "title": f"{kind}, uploaded {local(attachment.uploaded_at, org)}",
                "origin": numbers.get(attachment.referral_id, ""),
            }
        )
    return views


def code_fit(referral: Referral) -> list[dict]:
    """Each ICD-10 code against the department's accepted conditions (its 'fit')."""
    department = referral.department
    listed = bool(department and department.accepted_conditions)
    return [
        {
            "code": code,
            "fits": department.accepts_condition(code) if department and listed else None,
        }
        for code in referral.icd10_codes
    ]


def with_merged_events(referral: Referral, user, merged: list[Referral]) -> list:
    """This referral's timeline and those of the duplicates merged into it, in time order."""
    events = list(referral.events.all())
    if merged:
        numbers = {other.pk: other.number for other in merged}
        for event in timeline_for(user).filter(referral__in=merged):
            # Not a column: the timeline template names the merged referral an event came from.
            event.origin = numbers[event.referral_id]  # type: ignore[attr-defined]
            events.append(event)
        events.sort(key=lambda e: (e.at, e.pk))
    return events


def triage_context(referral: Referral) -> dict:
    if not referral.fit:
        return {}
    return {
        "fit": {
            "words": Fit(referral.fit).label,
            "tone": FIT_TONES.get(referral.fit, ""),
            "reasons": referral.fit_reasons,
            "missing": [kind_label(kind) for kind in referral.missing_documents],
        }
    }


def after_visit_panels(request, referral: Referral, *, actions: bool) -> dict:
    """The after-visit panel in two: the progress report (with the consent to share it),
    placed first when it is the work to do now, and the patient's message preferences."""
    panel = after_visit_context(request, referral, actions=actions) or {}
    report = panel.get("report")
    return {
        "report_panel": {"report": report} if report else None,
        "report_due": bool(report and report["form"]),
        "preferences_panel": {"preferences": panel["preferences"]}
        if "preferences" in panel
        else None,
    }


def page_context(
    request, referral: Referral, org: Organization, *, patient=None, actions: bool = True
) -> dict:
    user = request.user
    clinical = sees_clinical_detail(user)
    duplicates = (
        duplicate_context(user, referral) if referral.direction == Direction.INBOUND else {}
    )
    merged = duplicates.get("merged_referrals", [])
    open_now = lifecycle.is_open(referral.direction, referral.state)
    now = timezone.now()
    running = clocks.clock(referral, now)
    overdue = running if running is not None and running.overdue else None
    context = {
        "referral": referral,
        "org": org,
        "clinical": clinical,
        "patient": patient,
        "inbound": referral.direction == Direction.INBOUND,
        "state_words": words(referral.state),
        "end_reason_words": words(referral.end_reason),
        "state_tone": state_tone(referral.state),
        "open": open_now,
        "overdue": OVERDUE_WORDS[overdue.kind] if overdue else "",
        "assignee": person(referral.assignee),
        "times": {
            "received": local(referral.received_at, org),
            "changed": local(referral.state_changed_at, org),
            "due": local(referral.first_contact_due_at, org),
            "overdue_due": local(overdue.due_at, org) if overdue else "",
            "first_contact": local(referral.first_contact_at, org),
            "sent": local(referral.sent_at, org),
            "closed": local(referral.closed_at, org),
        },
        "timeline": timeline(
            with_merged_events(referral, user, merged), clinical=clinical, org=org
        ),
        **duplicates,
        "can_merge": can(user, Capability.WORK_REFERRALS) and actions,
        # Only the buttons: each form is fetched when its dialog opens (or is its own page
        # without JS), so the page does not render forms it may never need.
        "buttons": [
            {"action": action, "url": action.url(referral)}
            for action in detail_actions.dialog_actions(user, referral)
        ]
        if actions
        else [],
    }
    if clinical:
        inline = detail_actions.inline_actions(user) if actions else {}
        context.update(triage_context(referral))
        context["submission"] = submission_for_staff(user, referral)
        if actions:
            context["portal_messages"] = messages_panel_context(referral, user)
        context["outbox_panel"] = outbox_panel_context(referral, user)
        context.update(after_visit_panels(request, referral, actions=actions))
        pending = [b for b in context["buttons"] if b["action"].to == State.PENDING_INFO]
        context["request_missing_url"] = pending[0]["url"] if pending else ""
        context.update(
            {
                "codes": code_fit(referral),
                "appointments": [
                    {
                        "appointment": a,
                        "starts": local(a.starts_at, org),
                        "clinician": person(a.clinician),
                    }
                    for a in appointments_of(referral)
                ],
                # Newest first, as in the timeline beside them.
                "attempts": [
                    {"attempt": a, "at": local(a.at, org), "outcome": words(a.outcome)}
                    for a in list(referral.contact_attempts.all())[::-1]
                ],
                "attachments": attachment_views(referral, org, merged),
                "note": detail_actions.bound(inline["note"], referral, org)
                if "note" in inline
                else None,
                "upload": detail_actions.bound(inline["attachment_upload"], referral, org)
                if "attachment_upload" in inline
                else None,
            }
        )
    return context


@require_GET
@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def page(request, pk: int):
    referral = get_referral(request.user, pk)
    context = page_context(request, referral, Organization.current())
    return render(request, "workspace/detail/page.html", context)


@require_POST
@staff_view(Capability.VIEW_REFERRALS)
def show_patient(request, pk: int):
    """The audited "show": the patient block for htmx, the whole page with it otherwise."""
    referral = get_referral(request.user, pk)
    patient = reveal_patient(request.user, referral)
    org = Organization.current()
    if request.htmx:
        context = {"referral": referral, "patient": patient, "clinical": True, "org": org}
        return render(request, "workspace/detail/_patient.html", context)
    context = page_context(request, referral, org, patient=patient)
    return render(request, "workspace/detail/page.html", context)


@xframe_options_sameorigin
@require_GET
@staff_view(Capability.VIEW_REFERRALS)
def attachment(request, pk: int, attachment_id: int):
    """A document shown inline in the page (PDF frame, image), sandboxed and never cached."""
    document = get_attachment(request.user, pk, attachment_id)
    return private_file_response(
        document.file,
        name=f"{document.referral.number}-{document.pk}",
        content_type=document.content_type,
    )


@require_GET
@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def print_summary(request, pk: int):
    """A one-page summary to print; printing the patient's identity is audited too."""
    referral = get_referral(request.user, pk)
    org = Organization.current()
    patient = None
    if sees_clinical_detail(request.user):
        patient = reveal_patient(request.user, referral, purpose="print")
    context = page_context(request, referral, org, patient=patient, actions=False)
    context["history"] = timeline(
        [e for e in referral.events.all() if e.to_state], clinical=patient is not None, org=org
    )
    context["printed_at"] = local(timezone.now(), org)
    return render(request, "workspace/detail/print.html", context)


urlpatterns = [
    path("referrals/<int:pk>/", page, name="referral_detail"),
    path("referrals/<int:pk>/patient", show_patient, name="referral_patient"),
    path(
        "referrals/<int:pk>/attachments/<int:attachment_id>",
        attachment,
        name="referral_attachment",
    ),
    path("referrals/<int:pk>/print", print_summary, name="referral_print"),
    *detail_actions.urlpatterns,
]
