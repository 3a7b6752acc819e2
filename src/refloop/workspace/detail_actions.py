"""What a user can do on a referral's detail page: the transitions allowed now, assignment,
contact attempts, rescheduling, notes and documents. Each is a small form posted to its own
URL; a stale page gets "this referral changed" instead of a silent overwrite.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from refloop.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from refloop.core.roles import Capability, can
from refloop.practice.models import Organization
from refloop.referrals import lifecycle, services, transitions
from refloop.referrals.models import Direction, Referral, State
from refloop.referrals.selectors import get_referral
from refloop.web.access import forbidden, staff_view
from refloop.workspace import detail_forms as f

S = State
WORK = Capability.WORK_REFERRALS
DECIDE = Capability.CLINICAL_DECISIONS
ANNOTATE = Capability.ANNOTATE_REFERRALS


@dataclass(frozen=True)
class Action:
    key: str  # unique on the page; also the prefix of its form's element ids
    label: str  # the button that opens it, and its dialog's name
    submit: str
    form_class: type[f.ActionForm]
    capabilities: tuple[Capability, ...]
    done: str  # the message after it worked
    intro: str = ""
    to: str = ""  # the target state, for transitions
    style: str = ""  # extra button class: secondary, outline…
    # Services that take no expected_version get the version checked here, in the same
    # transaction, so a double submit or a stale page cannot apply twice.
    guarded: bool = False
    apply: Callable = field(default=None, repr=False, compare=False)

    def url(self, referral: Referral) -> str:
        if self.to:
            return reverse("referral_transition", args=[referral.pk, self.to])
        return reverse(f"referral_{self.key}", args=[referral.pk])

    def allowed_for(self, user) -> bool:
        return all(can(user, c) for c in self.capabilities)


def _move(referral, user, form, version):
    return transitions.transition(
        referral.pk,
        to=form.action_to,
        acting_user=user,
        fields=form.values(),
        expected_version=version,
    )


def move(to, label, submit, form_class, capability, done, *, intro="", style=""):
    return Action(
        key=f"move-{to}",
        label=label,
        submit=submit,
        form_class=form_class,
        capabilities=(capability,),
        done=done,
        intro=intro,
        to=to,
        style=style,
        apply=_move,
    )


CANCEL = move(
    S.CANCELLED,
    "Cancel referral",
    "Cancel the referral",
    f.CancelForm,
    WORK,
    "The referral was cancelled.",
    intro="Withdrawn by the referrer or the patient. A booked appointment is cancelled too.",
    style="secondary outline",
)

INBOUND_MOVES = {
    S.IN_REVIEW: move(
        S.IN_REVIEW,
        "Start review",
        "Start the review",
        f.NoteForm,
        DECIDE,
        "The review has started.",
        intro="Check fit, insurance and completeness.",
    ),
    S.PENDING_INFO: move(
        S.PENDING_INFO,
        "Request information",
        "Send the request",
        f.RequestInfoForm,
        DECIDE,
        "The referral is waiting for information from the referrer.",
        style="secondary",
    ),
    S.ACCEPTED: move(
        S.ACCEPTED, "Accept", "Accept the referral", f.AcceptForm, DECIDE, "Referral accepted."
    ),
    S.DECLINED: move(
        S.DECLINED,
        "Decline",
        "Decline the referral",
        f.DeclineForm,
        DECIDE,
        "Referral declined; the reason goes back to the referrer.",
        style="secondary",
    ),
    S.CONTACTING: move(
        S.CONTACTING,
        "Start contacting",
        "Start contacting",
        f.NoteForm,
        WORK,
        "Contacting the patient to book.",
    ),
    S.SCHEDULED: move(
        S.SCHEDULED,
        "Schedule",
        "Book the appointment",
        f.AppointmentForm,
        WORK,
        "Appointment booked.",
    ),
    S.NO_SHOW: move(
        S.NO_SHOW,
        "Record no-show",
        "Record the no-show",
        f.NoteForm,
        WORK,
        "No-show recorded.",
        intro="The patient missed the appointment.",
        style="secondary",
    ),
    S.SEEN: move(S.SEEN, "Mark seen", "Mark as seen", f.SeenForm, DECIDE, "Marked as seen."),
    S.LOOP_CLOSED: move(
        S.LOOP_CLOSED,
        "Close the loop",
        "Close the loop",
        f.ReportForm,
        DECIDE,
        "Loop closed: the report went back to the referrer.",
    ),
    S.UNREACHABLE: move(
        S.UNREACHABLE,
        "Mark unreachable",
        "Mark as unreachable",
        f.UnreachableForm,
        WORK,
        "Marked as unreachable.",
        style="secondary",
    ),
    S.CANCELLED: CANCEL,
}

OUTBOUND_MOVES = {
    S.SENT: move(
        S.SENT,
        "Send",
        "Send the referral",
        f.ActionForm,
        WORK,
        "Referral sent.",
        intro="The receiving practice's network status is recorded as it is now.",
    ),
    S.ACCEPTED: move(
        S.ACCEPTED,
        "Record acceptance",
        "Record the acceptance",
        f.AcceptForm,
        WORK,
        "Acceptance recorded.",
        intro="The receiving practice accepted the referral.",
    ),
    S.DECLINED: move(
        S.DECLINED,
        "Record decline",
        "Record the decline",
        f.DeclineForm,
        WORK,
        "Decline recorded.",
        intro="The receiving practice declined the referral.",
        style="secondary",
    ),
    S.SCHEDULED: move(
        S.SCHEDULED,
        "Record appointment",
        "Record the appointment",
        f.AppointmentForm,
        WORK,
        "Appointment recorded.",
    ),
    S.COMPLETED: move(
        S.COMPLETED,
        "Record the report",
        "Record the report",
        f.ReportForm,
        WORK,
        "Report recorded: the referral is completed.",
    ),
    S.CANCELLED: CANCEL,
}


def moves_for(direction: str) -> dict[str, Action]:
    return OUTBOUND_MOVES if direction == Direction.OUTBOUND else INBOUND_MOVES


def move_action(referral: Referral, to: str) -> Action:
    action = moves_for(referral.direction).get(to)
    if action is None:
        raise NotFound("No such move.")
    if referral.direction == Direction.OUTBOUND and WORK not in action.capabilities:
        action = Action(**{**action.__dict__, "capabilities": (*action.capabilities, WORK)})
    return action


def _assign(referral, user, form, version):
    services.assign_referral(
        referral.pk,
        acting_user=user,
        assignee=form.cleaned_data["assignee"],
        expected_version=version,
    )


def _reschedule(referral, user, form, version):
    booking = transitions.AppointmentInput(**form.values()["appointment"])
    transitions.reschedule_appointment(
        referral.pk, acting_user=user, appointment=booking, expected_version=version
    )


def _contact(referral, user, form, version):
    data = form.cleaned_data
    services.record_contact_attempt(
        referral.pk,
        acting_user=user,
        channel=data["channel"],
        outcome=data["outcome"],
        note=data["note"].strip(),
    )


def _note(referral, user, form, version):
    services.add_note(referral.pk, acting_user=user, text=form.cleaned_data["text"])


def _upload(referral, user, form, version):
    upload = form.cleaned_data["file"]
    services.add_attachment(
        referral.pk,
        acting_user=user,
        upload=upload,
        filename=upload.name,
        kind=form.cleaned_data["kind"],
    )


ASSIGN = Action(
    key="assign",
    label="Assign",
    submit="Save the assignment",
    form_class=f.AssignForm,
    capabilities=(WORK,),
    done="Assignment saved.",
    style="secondary outline",
    apply=_assign,
)
RESCHEDULE = Action(
    key="reschedule",
    label="Reschedule",
    submit="Move the appointment",
    form_class=f.AppointmentForm,
    capabilities=(WORK,),
    done="Appointment moved.",
    intro="The referral stays scheduled; the old appointment is marked rescheduled.",
    style="secondary",
    apply=_reschedule,
)
CONTACT = Action(
    key="contact_attempt",
    label="Record contact attempt",
    submit="Record the attempt",
    form_class=f.ContactAttemptForm,
    capabilities=(WORK,),
    done="Contact attempt recorded.",
    style="secondary",
    guarded=True,
    apply=_contact,
)
NOTE = Action(
    key="note",
    label="Add note",
    submit="Add note",
    form_class=f.NoteAddForm,
    capabilities=(ANNOTATE,),
    done="Note added.",
    guarded=True,
    apply=_note,
)
UPLOAD = Action(
    key="attachment_upload",
    label="Upload document",
    submit="Upload",
    form_class=f.UploadForm,
    capabilities=(ANNOTATE,),
    done="Document added.",
    guarded=True,
    apply=_upload,
)
OTHER_ACTIONS = {a.key: a for a in (ASSIGN, RESCHEDULE, CONTACT, NOTE, UPLOAD)}


def dialog_actions(user, referral: Referral) -> list[Action]:
    """The actions offered as buttons now: exactly the moves the lifecycle allows from here
    that this user's role may make, then the other work on an open referral."""
    is_open = lifecycle.is_open(referral.direction, referral.state)
    actions = [
        move_action(referral, to)
        for to in lifecycle.allowed_next(referral.direction, referral.state)
    ]
    if is_open and referral.direction == Direction.INBOUND:
        actions.append(CONTACT)
    if referral.state == S.SCHEDULED:
        actions.append(RESCHEDULE)
    if is_open:
        label = "Reassign" if referral.assignee_id else "Assign"
        actions.append(Action(**{**ASSIGN.__dict__, "label": label}))
    return [a for a in actions if a.allowed_for(user)]


def inline_actions(user) -> dict[str, Action]:
    """Forms shown in place rather than in a dialog: the note and the upload."""
    return {a.key: a for a in (NOTE, UPLOAD) if a.allowed_for(user)}


def bound(action: Action, referral: Referral, org: Organization, data=None, files=None):
    form = action.form_class(data, files, referral=referral, org=org, auto_id=f"{action.key}_%s")
    form.action_to = action.to
    return {"action": action, "form": form, "url": action.url(referral)}


# ---- views --------------------------------------------------------------------


def _changed_message(referral: Referral, expected_version, error: Conflict) -> str:
    current = Referral.objects.filter(pk=referral.pk).values_list("state", "version").first()
    if current and expected_version is not None and current[1] != expected_version:
        return (
            f"This referral changed since you opened it (now: {f.words(current[0])}). "
            "Reload to see the latest."
        )
    return error.message


def _apply(action: Action, referral: Referral, user, form) -> None:
    version = form.cleaned_data["expected_version"]
    if not action.guarded:
        action.apply(referral, user, form, version)
        return
    with transaction.atomic():
        current = Referral.objects.select_for_update().filter(pk=referral.pk).first()
        services.check_version(current, version)
        action.apply(referral, user, form, version)


def _respond(request, referral: Referral, action: Action, org: Organization):
    """GET: the form on its own page (without JS). POST: apply, or show what to fix."""
    user = request.user
    if not action.allowed_for(user):
        return forbidden(request, "Your role may not do this on a referral.")
    status = 200
    conflict = ""
    if request.method == "POST":
        context = bound(action, referral, org, request.POST, request.FILES)
        form = context["form"]
        if form.is_valid():
            try:
                _apply(action, referral, user, form)
            except InvalidInput as error:
                name = form.field_for(error.field)
                form.add_error(name if name in form.fields else None, error.message)
            except (PayloadTooLarge, UnsupportedMediaType) as error:
                form.add_error("file" if "file" in form.fields else None, error.message)
            except Conflict as error:
                conflict = _changed_message(referral, form.cleaned_data["expected_version"], error)
            else:
                messages.success(request, action.done)
                target = reverse("referral_detail", args=[referral.pk])
                if request.htmx:
                    return HttpResponseClientRedirect(target)
                return redirect(target)
        status = 409 if conflict else 422
    else:
        context = bound(action, referral, org)
        if action.to and action.to not in lifecycle.allowed_next(
            referral.direction, referral.state
        ):
            # The page that offered this move is out of date.
            status = 409
            context["blocked"] = True
            conflict = (
                f"This referral is now {f.words(referral.state).lower()}; "
                f"“{action.label}” is no longer possible. Reload to see the latest."
            )
    context.update(
        referral=referral,
        conflict=conflict,
        state_words=f.words(referral.state),
        detail_url=reverse("referral_detail", args=[referral.pk]),
    )
    if not request.htmx:
        template = "workspace/detail/action_page.html"
    elif request.method == "POST":
        template = "workspace/detail/_action_form.html"  # swapped over the posted form
    else:
        template = "workspace/detail/_dialog_body.html"  # fills the page's action dialog
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.VIEW_REFERRALS)
def transition_view(request, pk: int, to: str):
    referral = get_referral(request.user, pk)
    return _respond(request, referral, move_action(referral, to), Organization.current())


def _other(key: str):
    @require_http_methods(["GET", "POST"])
    @staff_view(Capability.VIEW_REFERRALS)
    def view(request, pk: int):
        referral = get_referral(request.user, pk)
        action = OTHER_ACTIONS[key]
        if key == "assign" and referral.assignee_id:
            action = Action(**{**action.__dict__, "label": "Reassign"})
        return _respond(request, referral, action, Organization.current())

    view.__name__ = f"{key}_view"
    return view


urlpatterns = [
    path("referrals/<int:pk>/move/<str:to>", transition_view, name="referral_transition"),
    path("referrals/<int:pk>/assign", _other("assign"), name="referral_assign"),
    path("referrals/<int:pk>/reschedule", _other("reschedule"), name="referral_reschedule"),
    path(
        "referrals/<int:pk>/contact-attempts",
        _other("contact_attempt"),
        name="referral_contact_attempt",
    ),
    path("referrals/<int:pk>/notes", _other("note"), name="referral_note"),
    path(
        "referrals/<int:pk>/attachments/new",
        _other("attachment_upload"),
        name="referral_attachment_upload",
    ),
]
