"""The advocacy API: a low score to a closed case through the API, the case moves' order of
refusals, who may do what (both sides), idempotent replays, the reward ledger's refusals, and a
revoked authorization's testimonial gone from the publishable list."""

import datetime as dt

import pytest
import time_machine

from refloop.advocacy import testimonials
from refloop.advocacy.models import AdvocacySettings, Case, Reward, RewardItem
from refloop.advocacy.surveys import submit_response
from refloop.core.models import AuditEntry

from .surveys_helpers import NOW, see, site, survey_of
from .test_cases_flow import react_to_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def after_the_visit():
    """An hour after surveys_helpers' visit, so the API's now follows the survey's."""
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        yield


def _rewards_on():
    found = AdvocacySettings.current()
    found.rewards_enabled = True
    found.save()


def _advocate_id(api, cora, referral) -> int:
    answer = api(cora).post(
        "/api/v1/advocacy/advocates", {"referral_id": referral.pk, "agreed": True}
    )
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def _move(client, case_id, **body):
    return client.post(f"/api/v1/advocacy/cases/{case_id}/moves", body)


def test_a_low_score_becomes_a_case_acknowledged_resolved_and_closed_through_the_api(
    api, referral, cora, after_the_visit
):
    site()
    seen = see(referral, by=cora)
    survey = survey_of(seen)
    submit_response(
        survey=survey,
        recommend=3,
        answers={},
        comment="",
        now=survey.created_at + dt.timedelta(hours=1),
    )
    react_to_everything()
    client = api(cora)

    got = client.get(f"/api/v1/advocacy/surveys/{survey.pk}").json()
    assert got["response"]["recommend"] == 3 and got["answered_at"] is not None
    low = client.get("/api/v1/advocacy/responses", score_max=6).json()
    assert [r["survey_id"] for r in low["items"]] == [survey.pk]

    (row,) = client.get("/api/v1/advocacy/cases", show="all").json()["items"]
    assert (row["source"], row["state"], row["moves"]) == (
        "low_score",
        "open",
        ["acknowledge", "reassign"],
    )
    assert row["clock"]["name"] == "acknowledge" and row["clock"]["words"].startswith("due in")

    case_id = row["id"]
    assert _move(client, case_id, move="acknowledge", note="Called her back").status_code == 200
    missing = _move(client, case_id, move="resolve", outcome="resolved")
    assert (missing.status_code, missing.json()["field"]) == (422, "action_taken")
    done = _move(client, case_id, move="resolve", outcome="resolved", action_taken="Rebooked her")
    assert done.json()["state"] == "resolved" and done.json()["clock"] is None
    closed = _move(client, case_id, move="close").json()
    assert closed["state"] == "closed"
    assert [e["kind"] for e in closed["timeline"]] == [
        "case.opened",
        "case.acknowledged",
        "case.resolved",
        "case.closed",
    ]
    assert AuditEntry.objects.filter(action="case.read", actor=cora).exists()


def test_an_illegal_move_is_409_before_its_fields_are_asked_for(api, referral, cora):
    client = api(cora)
    case = client.post(
        "/api/v1/advocacy/cases",
        {"source": "phone", "category": "wait", "summary": "Waited", "referral_id": referral.pk},
    ).json()
    refused = _move(client, case["id"], move="resolve")  # no outcome, no action: still 409
    assert refused.status_code == 409
    assert "open" in refused.json()["detail"]
    assert _move(client, case["id"], move="close").status_code == 409
    stale = _move(client, case["id"], move="acknowledge", expected_version=99)
    assert stale.status_code == 409


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/advocacy/surveys",
        "/api/v1/advocacy/responses",
        "/api/v1/advocacy/cases",
        "/api/v1/advocacy/advocates",
        "/api/v1/advocacy/reward-items",
        "/api/v1/advocacy/testimonials",
        "/api/v1/advocacy/testimonials/publishable",
    ],
)
def test_the_care_team_reads_feedback_and_liaisons_analysts_and_portal_users_do_not(
    api, path, cora, cliff, lia, andy, pam
):
    for allowed in (cora, cliff):
        assert api(allowed).get(path).status_code == 200, (path, allowed)
    for refused in (lia, andy, pam):
        assert api(refused).get(path).status_code == 403, (path, refused)


def _approved(referral, ada):
    site()
    seen = see(referral, by=ada)
    survey = survey_of(seen)
    offered = testimonials.offer_testimonial(
        survey=survey, text="Kind people.", attribution="", photo=None, now=survey.created_at
    )
    testimonials.sign_authorization(
        testimonial=offered,
        signature="Zephyrine Quillfeather",
        agreed=True,
        expires_on=survey.created_at.date() + dt.timedelta(days=700),
        expiry_event="",
        signer_is_patient=True,
        representative_authority="",
        now=survey.created_at,
    )
    return offered


def test_only_a_publisher_approves_and_a_written_revocation_takes_it_off_the_publishable_list(
    api, referral, ada, cora, after_the_visit
):
    offered = _approved(referral, ada)
    path = f"/api/v1/advocacy/testimonials/{offered.pk}"
    assert api(cora).post(f"{path}/approve").status_code == 403
    assert api(cora).post(f"{path}/decline").status_code == 403
    approved = api(ada).post(f"{path}/approve")
    assert approved.status_code == 200 and approved.json()["publishable"]
    assert api(ada).post(f"{path}/approve").status_code == 409
    shown = api(cora).get("/api/v1/advocacy/testimonials/publishable").json()
    assert [t["id"] for t in shown] == [offered.pk]

    revoked = api(cora).post(f"{path}/revocation", {"how": "Letter of 3 March"})
    assert revoked.status_code == 200
    assert revoked.json()["standing"] == "Revoked" and not revoked.json()["publishable"]
    assert api(cora).get("/api/v1/advocacy/testimonials/publishable").json() == []
    assert api(cora).post(f"{path}/revocation", {"how": "Again"}).status_code == 409


def test_opening_a_case_with_an_idempotency_key_replays_and_refuses_another_body(
    api, referral, cora, cliff
):
    body = {
        "source": "phone",
        "category": "billing",
        "summary": "A bill",
        "referral_id": referral.pk,
    }
    first = api(cora).post("/api/v1/advocacy/cases", body, **{"Idempotency-Key": "k-1"})
    again = api(cora).post("/api/v1/advocacy/cases", body, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1
    other = api(cora).post(
        "/api/v1/advocacy/cases", {**body, "summary": "Another"}, **{"Idempotency-Key": "k-1"}
    )
    assert (other.status_code, other.json()["field"]) == (422, "Idempotency-Key")
    theirs = api(cliff).post("/api/v1/advocacy/cases", body, **{"Idempotency-Key": "k-1"})
    assert theirs.status_code == 422


def test_the_ledger_refuses_with_its_sentence_and_holds_75_dollars_a_year(api, referral, cora):
    advocate_id = _advocate_id(api, cora, referral)
    item = RewardItem.objects.create(name="Water bottle", value_cents=1500)
    path = f"/api/v1/advocacy/advocates/{advocate_id}/rewards"
    off = api(cora).post(path, {"item_id": item.pk})
    assert off.status_code == 409 and "switched off" in off.json()["detail"]

    _rewards_on()
    for n in range(5):  # 5 x $15.00 = $75.00: exactly the limit
        given = api(cora).post(path, {"item_id": item.pk}, **{"Idempotency-Key": f"gift-{n}"})
        assert given.status_code == 201, given.content
    assert given.json()["given_this_year_cents"] == 7500
    replay = api(cora).post(path, {"item_id": item.pk}, **{"Idempotency-Key": "gift-4"})
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    cent = RewardItem.objects.create(name="Pen", value_cents=1)
    over = api(cora).post(path, {"item_id": cent.pk})
    assert over.status_code == 409
    assert "$75.01, over the limit of $75.00" in over.json()["detail"]
    assert Reward.objects.count() == 5

    cent.active = False
    cent.save()
    gone = api(cora).post(path, {"item_id": cent.pk})
    assert (gone.status_code, gone.json()["field"]) == (422, "item_id")


def test_an_advocate_is_enrolled_once_read_with_their_ledger_and_opts_out_once(
    api, referral, cora, andy
):
    advocate_id = _advocate_id(api, cora, referral)
    again = api(cora).post(
        "/api/v1/advocacy/advocates", {"referral_id": referral.pk, "agreed": True}
    )
    assert again.status_code == 200 and again.json()["id"] == advocate_id
    got = api(cora).get(f"/api/v1/advocacy/advocates/{advocate_id}").json()
    assert got["active"] and got["link"] and got["ledger"] == []
    assert api(andy).get(f"/api/v1/advocacy/advocates/{advocate_id}").status_code == 403
    path = f"/api/v1/advocacy/advocates/{advocate_id}/opt-out"
    assert api(cora).post(path).json()["active"] is False
    assert api(cora).post(path).status_code == 409


def test_a_survey_is_sent_by_hand_once_in_the_interval(api, referral, cora, hana):
    sent = api(cora).post("/api/v1/advocacy/surveys", {"referral_id": referral.pk})
    assert sent.status_code == 201, sent.content
    assert sent.json()["trigger"] == "by_hand"
    again = api(cora).post("/api/v1/advocacy/surveys", {"referral_id": referral.pk})
    assert again.status_code == 409 and "already sent a survey" in again.json()["detail"]
    # A clinician of another department does not see the referral.
    theirs = api(hana).post("/api/v1/advocacy/surveys", {"referral_id": referral.pk})
    assert (theirs.status_code, theirs.json()["field"]) == (422, "referral_id")
    assert api(hana).get(f"/api/v1/advocacy/surveys/{sent.json()['id']}").status_code == 404
