"""Writes of the liaison's tasks: create by hand, mark done or cancelled, reassign.

Tasks raised by the referral side come from outreach.signals; these are the people's moves.
Every write is audited (`outreach_task.*`); no task holds patient data.
"""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput, NotAllowed
from refloop.core.models import User
from refloop.core.roles import Capability, can
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach.models import Task, TaskKind, TaskStatus

ENDINGS = (TaskStatus.DONE, TaskStatus.CANCELLED)


def _check_actor(user: User) -> None:
    if not can(user, Capability.WORK_OUTREACH):
        raise NotAllowed("Only liaisons and admins work outreach tasks.")


def check_owner(owner: User | None) -> None:
    """A task's owner is an active liaison or admin (anyone working outreach), or nobody."""
    if owner is not None and (not owner.is_active or not can(owner, Capability.WORK_OUTREACH)):
        raise InvalidInput(
            "Choose a liaison or an admin as the owner: they are the ones who work outreach.",
            field="owner",
        )


def _audit(action: str, task: Task, user: User, detail: dict | None = None) -> None:
    audit.record(
        f"outreach_task.{action}", audit.Touch("outreach_task", task.pk), actor=user, detail=detail
    )


@transaction.atomic
def create_task(
    *,
    acting_user: User,
    title: str,
    owner: User | None,
    due_on: date | None = None,
    practice: Practice | None = None,
    provider: Provider | None = None,
    staff: StaffContact | None = None,
    detail: str = "",
) -> Task:
    """A task by hand, linked to a practice or one of its people (the practice follows from
    the person)."""
    _check_actor(acting_user)
    title = (title or "").strip()
    if not title:
        raise InvalidInput("Say what is to be done: the title is empty.", field="title")
    check_owner(owner)
    for person, field in ((provider, "provider"), (staff, "staff")):
        if person is None:
            continue
        if practice is None:
            practice = person.practice
        elif person.practice_id != practice.pk:
            raise InvalidInput(
                f"That {'provider' if field == 'provider' else 'staff contact'} is not at "
                f"{practice.name}: choose someone there, or another practice.",
                field=field,
            )
    task = Task.objects.create(
        kind=TaskKind.MANUAL,
        title=title[:200],
        detail=(detail or "").strip(),
        owner=owner,
        due_on=due_on,
        practice=practice,
        provider=provider,
        staff=staff,
        created_by=acting_user,
    )
    _audit("created", task, acting_user)
    return task


def _locked(task: Task | int) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk if isinstance(task, Task) else task)


@transaction.atomic
def close_task(
    task: Task | int, *, acting_user: User, status: str, now: datetime | None = None
) -> Task:
    """Mark an open task done or cancelled."""
    _check_actor(acting_user)
    if status not in ENDINGS:
        raise InvalidInput("A task ends done or cancelled.", field="status")
    task = _locked(task)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"This task is already {task.get_status_display().lower()}.")
    task.status = status
    task.done_at = now or timezone.now()
    task.save(update_fields=["status", "done_at"])
    _audit(status, task, acting_user)
    return task


@transaction.atomic
def reopen_task(task: Task | int, *, acting_user: User) -> Task:
    _check_actor(acting_user)
    task = _locked(task)
    if task.status == TaskStatus.OPEN:
        raise Conflict("This task is already open.")
    task.status, task.done_at = TaskStatus.OPEN, None
    task.save(update_fields=["status", "done_at"])
    _audit("reopened", task, acting_user)
    return task


@transaction.atomic
def reassign_task(task: Task | int, *, acting_user: User, owner: User | None) -> Task:
    """Give the task to another liaison or admin (or to nobody: the unassigned list)."""
    _check_actor(acting_user)
    check_owner(owner)
    task = _locked(task)
    if task.status != TaskStatus.OPEN:
        raise Conflict("Only an open task can be reassigned: reopen it first.")
    before = task.owner_id
    task.owner = owner
    task.save(update_fields=["owner"])
    _audit("reassigned", task, acting_user, {"from": before, "to": owner.pk if owner else None})
    return task
