"""The reactions one transaction queues go to the worker as one task, after commit, each
still run once; a savepoint that rolls back takes its reactions with it."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from refloop.core import reactions as runner
from refloop.core.models import ReactionDone
from refloop.demo import factories as f
from refloop.referrals import reactions
from refloop.referrals.models import ReferralEvent

REACT = "refloop.core.reactions.react"
REACT_ALL = "refloop.core.reactions.react_all"


def _queued() -> list[tuple[str, list]]:
    return [
        (task.task_path, task.args_kwargs["args"]) for task in DBTaskResult.objects.order_by("pk")
    ]


def test_an_intake_queues_one_task_with_every_reaction(
    cora, spine, provider_a, django_capture_on_commit_callbacks
):
    f.UserFactory(username="kim", role="coordinator", departments=[spine])
    with django_capture_on_commit_callbacks(execute=True):
        referral = f.make_referral(
            acting_user=cora, department=spine, referring_provider=provider_a
        )
    expected = [
        ["referrals.referralevent", event.pk, path]
        for event in referral.events.order_by("pk")
        for path in reactions.handlers_for(event.kind)
        if path not in reactions.IN_TRANSACTION
    ]
    assert len(expected) >= 3  # received (two handlers) and the routed assignment
    assert _queued() == [(REACT_ALL, [expected])]


def test_a_single_reaction_is_queued_as_before(referral, cora, django_capture_on_commit_callbacks):
    from refloop.referrals import transitions

    before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        transitions.start_review(referral, acting_user=cora)
    event = referral.events.get(kind="referral.in_review")
    [path] = [p for p in reactions.handlers_for(event.kind) if p not in reactions.IN_TRANSACTION]
    assert _queued()[before:] == [(REACT, ["referrals.referralevent", event.pk, path])]


def test_a_rolled_back_savepoint_takes_its_reactions_with_it(
    referral, django_capture_on_commit_callbacks
):
    kept, dropped = referral.events.order_by("pk")[:2]
    before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        runner.queue_after_commit(kept, ["refloop.kept"])
        with pytest.raises(RuntimeError), transaction.atomic():
            runner.queue_after_commit(dropped, ["refloop.dropped"])
            raise RuntimeError("rolled back")
        runner.queue_after_commit(kept, ["refloop.kept.too"])
    assert _queued()[before:] == [
        (
            REACT_ALL,
            [
                [
                    ["referrals.referralevent", kept.pk, "refloop.kept"],
                    ["referrals.referralevent", kept.pk, "refloop.kept.too"],
                ]
            ],
        )
    ]


def test_the_batch_runs_each_reaction_once_and_goes_on_past_a_failure(referral, monkeypatch):
    event = ReferralEvent.objects.filter(referral=referral).order_by("pk").first()
    ran = []

    def handler(path):
        def run(event):
            ran.append(path)
            if path == "refloop.fails":
                raise RuntimeError("the SMTP sink is down")

        return run

    monkeypatch.setattr(runner, "handler", handler)
    batch = [["referrals.referralevent", event.pk, p] for p in ("refloop.fails", "refloop.works")]
    with pytest.raises(RuntimeError, match="SMTP"):
        runner.react_all.call(batch)
    assert ran == ["refloop.fails", "refloop.works"]
    assert list(ReactionDone.objects.values_list("handler", flat=True)) == ["refloop.works"]
    assert runner.react_all.call([batch[1]]) == 0  # done once already
