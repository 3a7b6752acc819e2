"""Referrals over the API: list, create, detail, transitions, and the work on a referral.

Every endpoint hands the calling user to a service or selector, which decides
what the user may see or change and audits it; here we only translate.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import HttpResponse
from ninja import File, Form, Header, Query, Router
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.responses import Status

from refloop.core import audit
from refloop.core.errors import InvalidInput, PayloadTooLarge
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.schemas import ApiRequest, PathId, errors, replayed
from refloop.network.models import Practice, Provider
from refloop.patients.models import Patient
from refloop.practice.models import Department
from refloop.referrals import referrer, selectors, services, transitions
from refloop.referrals.documents import FILE_EXTENSIONS, private_file_response
from refloop.referrals.models import AttachmentKind, Direction, Referral, State
from refloop.referrals.schemas import (
    AppointmentBookedOut,
    AppointmentBookingIn,
    AppointmentOut,
    AssignmentIn,
    AttachmentOut,
    ContactAttemptIn,
    ContactAttemptOut,
    NoteIn,
    NoteOut,
    OutboundReferralIn,
    ReferralCreatedOut,
    ReferralDetailOut,
    ReferralFilterIn,
    ReferralIn,
    ReferralOut,
    ReferralPageOut,
    ReferralRowOut,
    ReferralStateOut,
    ReferralSummaryOut,
    ReferrerReferralOut,
    ReferrerRowOut,
    TransitionIn,
)
from refloop.referrals.timeline import touch

router = Router(tags=["referrals"])

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_ALLOWANCE = 64 * 1024


def _lookup(source: type[models.Model] | models.QuerySet, pk: int | None, field: str):
    """The row `pk` names, or None when no id was given; a wrong id is the caller's to fix."""
    if pk is None:
        return None
    rows = source if isinstance(source, models.QuerySet) else source._default_manager.all()
    try:
        # get(), not first(): a primary key needs no ORDER BY, and compiling one was a third
        # of the lookup's time.
        return rows.get(pk=pk)
    except ObjectDoesNotExist:
        raise InvalidInput(
            f"{field} names no {rows.model._meta.verbose_name}.", field=field
        ) from None


def _patient(user: User, payload) -> Patient | dict:
    """The new patient's fields, or a patient already on a referral the user may see."""
    if (payload.patient is None) == (payload.patient_id is None):
        raise InvalidInput(
            "Give exactly one of patient (a new patient's details) and patient_id (a patient "
            "already on record).",
            field="patient",
        )
    if payload.patient is not None:
        return payload.patient.model_dump(exclude_unset=True)
    patient = selectors.visible_patient(user, payload.patient_id)
    if patient is None:
        raise InvalidInput(
            "patient_id names no patient on a referral visible to you.", field="patient_id"
        )
    return patient


def _staff_referral(user: User, referral_id: int) -> Referral:
    """A referral with the practice's internal work on it (audited by get_referral); a
    referring practice's portal users read theirs through GET /referrals/{id} instead."""
    require(user, Capability.VIEW_REFERRALS)
    require(user, Capability.VIEW_INTERNAL_WORK)
    return selectors.get_referral(user, referral_id)


ROWS = {
    selectors.FULL: ReferralRowOut,
    selectors.REFERRER: ReferrerRowOut,
    selectors.SUMMARY: ReferralSummaryOut,
}
DETAILS = {
    selectors.FULL: ReferralDetailOut,
    selectors.REFERRER: ReferrerReferralOut,
    selectors.SUMMARY: ReferralSummaryOut,
}


def _detail(request: ApiRequest, referral_id: int) -> ReferralDetailOut:
    referral = selectors.get_referral(request.auth, referral_id)
    return ReferralDetailOut.from_orm(referral, context={"request": request})


# ---- referrals -------------------------------------------------------------------


@router.get("/referrals", response={200: ReferralPageOut})
def list_referrals(request: ApiRequest, filters: Query[ReferralFilterIn]):
    """Referrals visible to you, newest first.

    The practice's staff with clinical access get rows with the patient (`access: full`);
    a referring practice's portal users what their portal's list shows (`access:
    referrer`); liaisons summaries without patient or clinical data (`access: summary`).
    """
    user = request.auth
    page = selectors.list_referrals(
        user,
        selectors.ReferralFilters(
            direction=filters.direction,
            states=tuple(filters.state),
            urgency=filters.urgency,
            department_id=filters.department,
            source_type=filters.source_type,
            referring_practice_id=filters.referring_practice,
            channel=filters.channel,
            assignee_id=filters.assignee,
            fit=filters.fit,
            received_from=filters.received_from,
            received_to=filters.received_to,
        ),
        limit=filters.limit,
        offset=filters.offset,
    )
    access = selectors.referral_access(user)
    items = referrer.with_appointments(page.items) if access == selectors.REFERRER else page.items
    return {
        "items": [ROWS[access].from_orm(referral) for referral in items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


REPLAYED = replayed("the referral created first")


@router.post(
    "/referrals",
    response={201: ReferralCreatedOut, 200: ReferralCreatedOut, **errors(409)},
    openapi_extra={"responses": {200: REPLAYED, 201: {"description": "Created"}}},
)
def create_referral(
    request: ApiRequest,
    payload: ReferralIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Send the same key when retrying; the first referral comes back (200)",
    ),
):
    """Record an inbound referral (201), or replay an earlier one by its Idempotency-Key (200)."""
    user = request.auth
    require(user, Capability.CREATE_REFERRALS)
    referral, created = services.create_inbound_referral(
        acting_user=user,
        patient=_patient(user, payload),
        source_type=payload.source_type,
        source_other=payload.source_other,
        referring_provider=_lookup(
            Provider.objects.select_related("practice"),
            payload.referring_provider_id,
            "referring_provider_id",
        ),
        referring_practice=_lookup(
            Practice, payload.referring_practice_id, "referring_practice_id"
        ),
        channel=payload.channel,
        urgency=payload.urgency,
        reason=payload.reason,
        icd10_codes=payload.icd10_codes,
        department=_lookup(Department, payload.department_id, "department_id"),
        assignee=_lookup(User, payload.assignee_id, "assignee_id"),
        received_at=payload.received_at,
        idempotency_key=idempotency_key,
        fingerprint=hashlib.sha256(request.body).hexdigest() if idempotency_key else "",
    )
    response["Location"] = f"/api/v1/referrals/{referral.pk}"
    # Answered from the objects in hand: the detail query would cost more than the intake.
    if not created:
        # A replay hands back stored data, so it is a read like any other.
        audit.record("referral.read", touch(referral), actor=user)
        response["Idempotent-Replayed"] = "true"
        return Status(200, ReferralCreatedOut.from_orm(referral, context={"request": request}))
    return Status(201, ReferralCreatedOut.from_orm(referral, context={"request": request}))


@router.post("/outbound-referrals", response={201: ReferralDetailOut})
def create_outbound_referral(
    request: ApiRequest, payload: OutboundReferralIn, response: HttpResponse
):
    """Draft a referral of one of our patients to an outside practice."""
    user = request.auth
    require(user, Capability.CREATE_REFERRALS)
    referral = services.create_outbound_referral(
        acting_user=user,
        patient=_patient(user, payload),
        receiving_practice=_lookup(
            Practice, payload.receiving_practice_id, "receiving_practice_id"
        ),
        receiving_provider=_lookup(
            Provider, payload.receiving_provider_id, "receiving_provider_id"
        ),
        reason=payload.reason,
        urgency=payload.urgency,
        icd10_codes=payload.icd10_codes,
        department=_lookup(Department, payload.department_id, "department_id"),
    )
    response["Location"] = f"/api/v1/referrals/{referral.pk}"
    return Status(201, _detail(request, referral.pk))


@router.get("/referrals/{referral_id}", response={200: ReferralOut})
def get_referral(request: ApiRequest, referral_id: PathId):
    """One referral: full detail (`access: full`); for a referring practice's portal users
    what their portal shows (`access: referrer`); for liaisons a summary (`access: summary`)."""
    user = request.auth
    referral = selectors.get_referral(user, referral_id)
    return DETAILS[selectors.referral_access(user)].from_orm(referral, context={"request": request})


def _moves_description() -> str:
    """Each direction's moves by target state and the fields each one reads, from the one
    table of moves (referrals.transitions), so the document cannot drift from it."""
    lines = []
    for direction in (Direction.INBOUND, Direction.OUTBOUND):
        moves = [
            move
            for move in transitions.moves_for(direction).values()
            if move.asked == transitions.Asked.BY_STATE
        ]
        listed = "; ".join(
            f"`{move.to}` ({', '.join(move.fields) or 'no fields'})" for move in moves
        )
        lines.append(f"- {direction}: {listed}")
    return "\n".join(lines)


@router.post(
    "/referrals/{referral_id}/transitions",
    response={200: ReferralStateOut, **errors(409)},
    description=(
        "Move the referral to state `to`, with the fields that move needs.\n\n"
        "403 when your role may not make the move; 409 when it is not allowed from the "
        "current state (the answer says why) or when `expected_version` is stale; only then "
        "422 for a field the move needs and did not get (`reason` other needs "
        "`reason_detail`). `allowed_next` on a referral lists the states you may move it to "
        "now. The moves, by direction, and the fields each reads:\n\n" + _moves_description()
    ),
)
def transition_referral(request: ApiRequest, referral_id: PathId, payload: TransitionIn):
    """Move the referral to state `to`, with the fields that move needs."""
    fields = payload.model_dump(exclude={"to", "expected_version"}, exclude_none=True)
    return transitions.transition(
        referral_id,
        to=payload.to,
        acting_user=request.auth,
        fields=fields,
        expected_version=payload.expected_version,
    )


@router.post(
    "/referrals/{referral_id}/assignment",
    response={200: ReferralStateOut, **errors(409)},
)
def assign_referral(request: ApiRequest, referral_id: PathId, payload: AssignmentIn):
    """Assign the referral to a staff member, or unassign it with null."""
    user = request.auth
    require(user, Capability.WORK_REFERRALS)
    return services.assign_referral(
        referral_id,
        acting_user=user,
        assignee=_lookup(User, payload.assignee_id, "assignee_id"),
        expected_version=payload.expected_version,
    )


# ---- contact attempts, notes, appointments ---------------------------------------------


@router.get(
    "/referrals/{referral_id}/contact-attempts",
    response={200: list[ContactAttemptOut]},
)
def list_contact_attempts(request: ApiRequest, referral_id: PathId):
    return list(_staff_referral(request.auth, referral_id).contact_attempts.all())


@router.post(
    "/referrals/{referral_id}/contact-attempts",
    response={201: ContactAttemptOut, **errors(409)},
)
def record_contact_attempt(request: ApiRequest, referral_id: PathId, payload: ContactAttemptIn):
    """Record an attempt to reach the patient (may move a referral to unreachable)."""
    attempt = services.record_contact_attempt(
        referral_id,
        acting_user=request.auth,
        channel=payload.channel,
        outcome=payload.outcome,
        note=payload.note,
        at=payload.at,
        expected_version=payload.expected_version,
    )
    return Status(201, attempt)


@router.get("/referrals/{referral_id}/notes", response={200: list[NoteOut]})
def list_notes(request: ApiRequest, referral_id: PathId):
    referral = _staff_referral(request.auth, referral_id)
    return [event for event in referral.events.all() if event.kind == "referral.note_added"]


@router.post(
    "/referrals/{referral_id}/notes",
    response={201: NoteOut, **errors(409)},
)
def add_note(request: ApiRequest, referral_id: PathId, payload: NoteIn):
    note = services.add_note(
        referral_id,
        acting_user=request.auth,
        text=payload.text,
        expected_version=payload.expected_version,
    )
    return Status(201, note)


@router.get(
    "/referrals/{referral_id}/appointments",
    response={200: list[AppointmentOut]},
)
def list_appointments(request: ApiRequest, referral_id: PathId):
    return list(_staff_referral(request.auth, referral_id).appointments.all())


@router.post(
    "/referrals/{referral_id}/appointments",
    response={201: AppointmentBookedOut, **errors(409)},
)
def book_appointment(request: ApiRequest, referral_id: PathId, payload: AppointmentBookingIn):
    """Book the appointment: schedules the referral, or reschedules it if already scheduled."""
    user = request.auth
    booking = transitions.AppointmentInput(**payload.model_dump(exclude={"expected_version"}))
    # Only picks which move to ask for: the service re-checks the state under its row lock.
    current = (
        selectors.visible_referrals(user).filter(pk=referral_id).values_list("state", flat=True)
    ).first()
    book = (
        transitions.reschedule_appointment
        if current == State.SCHEDULED
        else transitions.schedule_referral
    )
    referral = book(
        referral_id,
        acting_user=user,
        appointment=booking,
        expected_version=payload.expected_version,
    )
    appointment = referral.appointments.order_by("-created_at", "-pk").first()
    return Status(201, {"referral": referral, "appointment": appointment})


# ---- documents ---------------------------------------------------------------------


def refuse_oversize_uploads(run):
    """Answer 413 from Content-Length alone, before the body is read or spooled to disk."""

    @wraps(run)
    def guarded(request: ApiRequest, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.ATTACHMENT_MAX_BYTES
        if length > limit + MULTIPART_ALLOWANCE:
            refused = PayloadTooLarge(
                f"The upload is {length / 1_048_576:.1f} MB; attachments may be at most "
                f"{limit / 1_048_576:.1f} MB."
            )
            return run.__self__.api.on_exception(request, refused)
        return run(request, *args, **kwargs)

    return guarded


@router.get(
    "/referrals/{referral_id}/attachments",
    response={200: list[AttachmentOut]},
)
def list_attachments(request: ApiRequest, referral_id: PathId):
    """The documents' metadata; fetch each one's content from its content_url."""
    return list(_staff_referral(request.auth, referral_id).attachments.all())


@router.post(
    "/referrals/{referral_id}/attachments",
    response={201: AttachmentOut, **errors(415, 503)},
)
@decorate_view(refuse_oversize_uploads)
def upload_attachment(
    request: ApiRequest,
    referral_id: PathId,
    file: File[UploadedFile],
    kind: Form[AttachmentKind] = AttachmentKind.OTHER,
):
    """Attach a PDF, TIFF, PNG or JPEG within the size limit.

    The file is opened with its real decoder: 415 when it is not one of those or does not
    decode; 422 (`field` "file") when it carries web page code, data after its end, more
    pixels or pages than accepted, or what the virus scanner flags; 503 while a configured
    scanner does not answer (nothing is stored; send it again later).
    """
    attachment = services.add_attachment(
        referral_id, acting_user=request.auth, upload=file, filename=file.name or "", kind=kind
    )
    return Status(201, attachment)


@router.get(
    "/referrals/{referral_id}/attachments/{attachment_id}/content",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "The document, as a download with a neutral file name",
                "content": {
                    content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in FILE_EXTENSIONS
                },
            }
        }
    },
)
def attachment_content(request: ApiRequest, referral_id: PathId, attachment_id: PathId):
    """Download a document; audited as attachment.read."""
    attachment = selectors.get_attachment(request.auth, referral_id, attachment_id)
    # The uploaded name often holds the patient's; the download is named after the referral.
    return private_file_response(
        attachment.file,
        name=f"{attachment.referral.number}-{attachment.pk}",
        content_type=attachment.content_type,
        as_attachment=True,
    )
