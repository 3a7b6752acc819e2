"""What a user can do on a referral's detail page: the transitions allowed now, assignment,
contact attempts, rescheduling, notes and documents. Each is a small form posted to its own
URL; a stale page gets "this referral changed" instead of a silent overwrite.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
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
from refloop.core.models import User
from refloop.core.roles import Capability, can
from refloop.practice.models import Organization
from refloop.referrals import lifecycle, services, transitions
from refloop.referrals.models import Direction, Referral, State
from refloop.referrals.selectors import get_referral
from refloop.web.access import forbidden, staff_view
from refloop.workspace import detail_forms as f

S = State
WORK = Capability.WORK_REFERRALS
ANNOTATE = Capability.ANNOTATE_REFERRALS


@dataclass(frozen=True)
class Action:
    key: str  # unique on the page; also the prefix of its form's element ids
    label: str  # the button that opens it, and its dialog's name
    submit: str
    form_class: type[f.ActionForm]
    capabilities: tuple[Capability, ...]
    done: str  # the message after it worked
    apply: Callable[[Referral, User, Any, int], object] = field(repr=False, compare=False)
    intro: str = ""
    to: str = ""  # the target state, for transitions
    style: str = ""  # extra button class: secondary, outline…

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


# The page's side of each move, by the move's name in referrals/transitions.py, whose table
# holds what the move needs, who may make it and its words.
MOVE_FORMS: dict[str, type[f.ActionForm]] = {
    "start_review": f.NoteForm,
    "request_info": f.RequestInfoForm,
    "accept": f.AcceptForm,
    "decline": f.DeclineForm,
    "start_contacting": f.NoteForm,
    "schedule": f.AppointmentForm,
    "record_no_show": f.NoteForm,
    "mark_seen": f.SeenForm,
    "close_loop": f.ReportForm,
    "mark_unreachable": f.UnreachableForm,
    "cancel": f.CancelForm,
    "send": f.ActionForm,
    "complete": f.ReportForm,
}
MOVE_STYLES = {
    "request_info": "secondary",
    "decline": "secondary",
    "record_no_show": "secondary",
    "mark_unreachable": "secondary",
    "cancel": "secondary outline",
}


def _move_action(move: transitions.Move) -> Action:
    if move.capability is None or move.name not in MOVE_FORMS:
        raise NotFound("No such move.")
    return Action(
        key=f"move-{move.to}",
        label=move.label,
        submit=move.submit,
        form_class=MOVE_FORMS[move.name],
        capabilities=(move.capability,),
        done=move.done,
        intro=move.intro,
        to=move.to,
        style=MOVE_STYLES.get(move.name, ""),
        apply=_move,
    )


def move_action(referral: Referral, to: str) -> Action:
    move = transitions.move_to(referral.direction, to) if to in S.values else None
    if move is None:
        raise NotFound("No such move.")
    return _move_action(move)


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
        expected_version=version,
    )


def _note(referral, user, form, version):
    services.add_note(
        referral.pk, acting_user=user, text=form.cleaned_data["text"], expected_version=version
    )


def _upload(referral, user, form, version):
    upload = form.cleaned_data["file"]
    services.add_attachment(
        referral.pk,
        acting_user=user,
        upload=upload,
        filename=upload.name,
        kind=form.cleaned_data["kind"],
        expected_version=version,
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
    apply=_contact,
)
NOTE = Action(
    key="note",
    label="Add note",
    submit="Add note",
    form_class=f.NoteAddForm,
    capabilities=(ANNOTATE,),
    done="Note added.",
    apply=_note,
)
UPLOAD = Action(
    key="attachment_upload",
    label="Upload document",
    submit="Upload",
    form_class=f.UploadForm,
    capabilities=(ANNOTATE,),
    done="Document added.",
    apply=_upload,
)
OTHER_ACTIONS = {a.key: a for a in (ASSIGN, RESCHEDULE, CONTACT, NOTE, UPLOAD)}


def dialog_actions(user, referral: Referral) -> list[Action]:
    """The actions offered as buttons now: exactly the moves this user may make from here
    (transitions.allowed_next), then the other work on an open referral."""
    is_open = lifecycle.is_open(referral.direction, referral.state)
    actions = [
        _move_action(move)
        for move in transitions.allowed_next(referral, user, asked=transitions.Asked.BY_STATE)
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
    # Every service checks the version the form carried, under its own row lock.
    action.apply(referral, user, form, form.cleaned_data["expected_version"])


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
        offered = transitions.allowed_next(referral, user, asked=transitions.Asked.BY_STATE)
        if action.to and all(move.to != action.to for move in offered):
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
