"""The one table of reactions to referral events: every handler it names exists, runs once per
event however often the worker is asked, and the referrals app records events without
importing the apps that react to them."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.module_loading import import_string

import refloop.referrals
from refloop.core import reactions as runner
from refloop.core.models import Notification, ReactionDone
from refloop.demo import factories as f
from refloop.messaging import magic, patient_services
from refloop.messaging.models import MagicLink, Message
from refloop.portal import services as portal_services
from refloop.referrals import reactions, services, transitions
from refloop.referrals.models import ReferralEvent
from refloop.referrals.sla import sweep_sla_breaches
from refloop.referrals.transitions import AppointmentInput
from tests import samples

# The kinds whose reactions this file drives end to end, each with at least one effect.
MAIN_KINDS = {
    "referral.received",
    "referral.assigned",
    "referral.accepted",
    "referral.scheduled",
    "referral.pending_info",
    "referral.in_review",
    "referral.message_posted",
    "referral.sla_breached",
    "referral.appointment_cancelled_by_patient",
}


def test_every_handler_in_the_table_resolves_to_a_function():
    paths = {path for handlers in reactions.REACTIONS.values() for path in handlers}
    assert paths, "the table lists no handler"
    for kind in reactions.REACTIONS:
        assert kind == runner.EVERY_KIND or kind.startswith("referral."), kind
    for path in sorted(paths):
        assert callable(import_string(path)), path
    assert reactions.IN_TRANSACTION <= paths
    assert MAIN_KINDS <= set(reactions.REACTIONS)


def test_what_happens_when_a_referral_is_scheduled_is_read_in_one_place():
    assert reactions.handlers_for("referral.scheduled") == [
        "refloop.analytics.facts.event_recorded",
        "refloop.messaging.automation.on_scheduled",
    ]
    assert reactions.handlers_for("referral.note_added") == [
        "refloop.analytics.facts.event_recorded"
    ]


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "module", ["timeline.py", "effects.py", "tasks.py", "reactions.py", "notices.py"]
)
def test_recording_an_event_imports_none_of_the_apps_that_react(module):
    source = Path(refloop.referrals.__file__).parent / module
    above = ("refloop.messaging", "refloop.analytics", "refloop.portal", "refloop.workspace")
    assert not [name for name in _imported_modules(source) if name.startswith(above)]


def _effects() -> tuple[int, int]:
    return Message.objects.count(), Notification.objects.count()


@pytest.fixture
def lived(referral, cora, cliff, ada, pam, spine):
    """A referral taken through the main kinds of event, its reactions not yet run (the test
    database never commits, so nothing was queued), plus a second one breaching its SLA."""
    services.assign_referral(referral, acting_user=cora, assignee=cliff)
    pending = transitions.request_info(referral.pk, acting_user=cora, missing_info="MRI")
    portal_services.answer_info_request(
        pending.pk,
        acting_user=pam,
        documents=[SimpleUploadedFile("mri.pdf", samples.pdf(), "application/pdf")],
        document_kind="imaging",
    )
    portal_services.post_message(referral.pk, acting_user=pam, body="Any news?")
    transitions.accept_referral(referral.pk, acting_user=cora)
    transitions.schedule_referral(
        referral.pk,
        acting_user=cora,
        appointment=AppointmentInput(starts_at=timezone.now() + dt.timedelta(days=10)),
    )
    referral.refresh_from_db()
    magic.mint(
        MagicLink.Purpose.CANCEL_APPOINTMENT,
        referral=referral,
        appointment=referral.appointments.get(),
        now=timezone.now(),
    )
    patient_services.cancel_appointment(link=MagicLink.objects.get(), now=timezone.now())
    late = f.make_referral(
        acting_user=cora, department=spine, now=timezone.now() - dt.timedelta(days=10)
    )
    sweep_sla_breaches(now=late.received_at + dt.timedelta(days=5))
    return referral


def test_every_handler_run_twice_has_its_effects_once(lived):
    kinds = set()
    for event in ReferralEvent.objects.select_related("referral").order_by("pk"):
        for path in reactions.handlers_for(event.kind):
            handler = import_string(path)
            handler(event)
            once = _effects()
            handler(event)
            assert _effects() == once, f"{path} on {event.kind} acted twice"
            kinds.add(event.kind)
    assert MAIN_KINDS <= kinds


def test_the_worker_runs_each_reaction_once_per_event(lived):
    before = _effects()
    ran = {}
    for event in ReferralEvent.objects.order_by("pk"):
        for path in reactions.handlers_for(event.kind):
            if path in reactions.IN_TRANSACTION:
                continue
            assert runner.run_once(event, path)
            ran[event.kind] = ran.get(event.kind, 0) + 1
    after = _effects()
    assert after[0] > before[0] and after[1] > before[1]
    for event in ReferralEvent.objects.order_by("pk"):
        for path in reactions.handlers_for(event.kind):
            if path not in reactions.IN_TRANSACTION:
                assert not runner.run_once(event, path)
    assert _effects() == after
    assert ReactionDone.objects.count() == sum(ran.values())


def test_the_main_kinds_each_have_an_effect(lived, cliff, ada):
    """Not idempotent by doing nothing: each main kind's reactions write something."""
    for event in ReferralEvent.objects.select_related("referral").order_by("pk"):
        if event.kind not in MAIN_KINDS:
            continue
        for path in reactions.handlers_for(event.kind):
            if path in reactions.IN_TRANSACTION:
                continue
            import_string(path)(event)
    assert Notification.objects.filter(user=cliff, kind="referral.assigned").exists()
    assert Notification.objects.filter(kind="referral.info_answered").exists()
    assert Notification.objects.filter(kind="referral.message_posted").exists()
    assert Notification.objects.filter(kind="appointment_cancelled_by_patient").exists()
    assert Message.objects.filter(rule="referrer.acknowledgment").exists()
    assert Message.objects.filter(rule="referrer.pending_info").exists()
    assert Message.objects.filter(rule="referrer.accepted").exists()
    assert Message.objects.filter(rule="patient.scheduled").exists()
    assert Message.objects.filter(rule="staff.sla_breach").exists()
    assert Message.objects.filter(rule="staff.new_portal_message").exists()


def test_a_handler_that_fails_leaves_no_mark_and_may_run_again(referral, monkeypatch):
    event = referral.events.get(kind="referral.received")
    path = "refloop.messaging.automation.on_received"
    calls = []

    def failing(event):
        calls.append(event.pk)
        raise RuntimeError("the SMTP sink is down")

    monkeypatch.setattr(runner, "handler", lambda p: failing)
    with pytest.raises(RuntimeError):
        runner.run_once(event, path)
    assert not ReactionDone.objects.exists()
    monkeypatch.undo()
    assert runner.run_once(event, path)
    assert Message.objects.filter(rule="referrer.acknowledgment").count() == 1


def test_historical_loads_queue_no_reactions(cora, spine, django_capture_on_commit_callbacks):
    from refloop.referrals import effects

    with django_capture_on_commit_callbacks() as callbacks, effects.suppressed():
        f.make_referral(acting_user=cora, department=spine)
    assert callbacks == []
