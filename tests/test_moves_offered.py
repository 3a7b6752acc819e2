"""The pages and the API offer exactly the moves the services accept, for every named user in
every state of both lifecycles.

What is offered: the detail page's move buttons and the API's `allowed_next` (which must
agree), and for the referring practice's users the portal's answer form. What is accepted:
the move's service, called with valid fields inside a savepoint that is then rolled back. An
offered move must go through; one not offered must be refused as not allowed, not found or
in conflict with the referral's state, and leave the referral as it was.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from refloop.core.errors import Conflict, NotAllowed, NotFound
from refloop.demo import factories as f
from refloop.portal.services import answer_info_request
from refloop.referrals import lifecycle, transitions
from refloop.referrals.models import Direction, Referral, State
from refloop.referrals.services import create_outbound_referral
from tests import samples
from tests.test_lifecycle import OUTBOUND_PATH

pytestmark = pytest.mark.django_db

USERS = ("ada", "cora", "cliff", "hana", "lia", "andy", "pam", "pete")
REFUSED = (NotAllowed, NotFound, Conflict)


CASES = [
    pytest.param(direction, state, user, id=f"{direction}-{state}-{user}")
    for direction in (Direction.INBOUND, Direction.OUTBOUND)
    for state in lifecycle.table(direction)
    for user in USERS
]


class _Undo(Exception):
    """Raised inside the savepoint so a move that went through leaves nothing behind."""


def accepted(make_move) -> bool:
    try:
        with transaction.atomic():
            make_move()
            raise _Undo
    except _Undo:
        return True
    except REFUSED:
        return False


def in_state(direction: str, state: str, *, cora, spine, practice_b, referral) -> Referral:
    if direction == Direction.INBOUND:
        return f.advance(referral, state, acting_user=cora)
    outbound = create_outbound_referral(
        acting_user=cora,
        patient=f.patient_data(),
        receiving_practice=practice_b,
        department=spine,
        reason="Cardiology clearance before spinal fusion",
    )
    for step in OUTBOUND_PATH[state]:
        fields = f.fields_for(step, at=dt.datetime.now(dt.UTC))
        transitions.transition(outbound.pk, to=step, acting_user=cora, fields=fields)
    return Referral.objects.get(pk=outbound.pk)


def offered_on_the_detail_page(client: Client, referral: Referral) -> set[str]:
    response = client.get(f"/referrals/{referral.pk}/")
    if response.status_code != 200:
        return set()
    page = response.content.decode()
    return {to for to in State.values if f'/referrals/{referral.pk}/move/{to}"' in page}


def offered_by_the_api(api, user, referral: Referral) -> set[str] | None:
    answer = api(user).get(f"/api/v1/referrals/{referral.pk}")
    if answer.status_code != 200 or "allowed_next" not in answer.json():
        return None  # this user's view of a referral carries no moves
    return set(answer.json()["allowed_next"])


def answer_form_on_the_portal(client: Client, referral: Referral) -> bool:
    response = client.get(f"/portal/referrals/{referral.pk}/")
    return (
        response.status_code == 200
        and f'action="/portal/referrals/{referral.pk}/answer"' in response.content.decode()
    )


@pytest.mark.parametrize(("direction", "state", "who"), CASES)
def test_the_moves_offered_are_exactly_the_moves_accepted(
    request, api, cora, spine, practice_b, referral, direction, state, who
):
    referral = in_state(
        direction, state, cora=cora, spine=spine, practice_b=practice_b, referral=referral
    )
    assert (referral.direction, referral.state) == (direction, state)
    user = request.getfixturevalue(who)
    client = Client()
    client.force_login(user)

    on_page = offered_on_the_detail_page(client, referral)
    by_api = offered_by_the_api(api, user, referral)
    if by_api is not None:
        assert by_api == on_page
    assert on_page == {
        m.to for m in transitions.allowed_next(referral, user, asked=transitions.Asked.BY_STATE)
    }

    version = referral.version
    now = dt.datetime.now(dt.UTC)
    targets = {
        m.to
        for m in transitions.moves_for(direction).values()
        if m.asked == transitions.Asked.BY_STATE
    }
    for to in sorted(targets):
        went = accepted(
            lambda to=to: transitions.transition(
                referral.pk,
                to=to,
                acting_user=user,
                fields=f.fields_for(to, at=now),
                expected_version=version,
            )
        )
        assert went == (to in on_page), f"{who} moving a {state} referral to {to}"

    # The portal's one move, for the referring practices' users who open the portal.
    if user.role == "portal":
        offered = answer_form_on_the_portal(client, referral)
        document = SimpleUploadedFile("records.pdf", samples.pdf(), "application/pdf")
        went = accepted(
            lambda: answer_info_request(
                referral.pk, acting_user=user, documents=[document], expected_version=version
            )
        )
        assert went == offered, f"{who} answering an info request on a {state} referral"

    unchanged = Referral.objects.get(pk=referral.pk)
    assert (unchanged.state, unchanged.version) == (state, version)
