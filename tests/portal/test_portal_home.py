"""The portal's home: what the referring office has to do first, then every other referral
25 a page, with a search kept out of addresses and a status filter."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.portal import selectors
from refloop.portal.services import post_message
from refloop.referrals.models import State

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sent(cora, spine, provider_a):
    """sent(state, **fields): a referral from pam's practice, driven to `state`."""

    def make(state=State.RECEIVED, now=None, **fields):
        referral = f.make_referral(
            acting_user=cora, department=spine, referring_provider=provider_a, now=now, **fields
        )
        return f.advance(referral, state, acting_user=cora, now=now)

    return make


def kinds(user) -> dict[int, str]:
    rows, _ = selectors.needs_action(user)
    return {row.referral.pk: row.action.kind for row in rows}


def test_an_information_request_needs_the_office_first(pam, sent):
    quiet = sent(State.ACCEPTED)
    asked = sent(State.PENDING_INFO)
    rows, total = selectors.needs_action(pam)
    assert [row.referral for row in rows] == [asked] and total == 1
    assert rows[0].action.kind == selectors.INFO_REQUESTED
    assert "Recent MRI report" in rows[0].action.detail
    assert quiet.pk not in kinds(pam)


def test_a_message_from_the_practice_needs_reading_then_an_answer(pam, cora, sent):
    referral = sent(State.ACCEPTED)
    post_message(referral.pk, acting_user=cora, body="Does the patient prefer mornings?")
    assert kinds(pam) == {referral.pk: selectors.NEW_MESSAGE}
    client_for(pam).get(f"/portal/referrals/{referral.pk}/")  # opening the referral reads it
    assert kinds(pam) == {referral.pk: selectors.AWAITING_REPLY}
    post_message(referral.pk, acting_user=pam, body="Mornings, please.")
    assert kinds(pam) == {}


def test_a_recent_decline_needs_a_new_place_for_the_patient_an_old_one_does_not(pam, sent):
    recent = sent(State.DECLINED)
    sent(State.DECLINED, now=timezone.now() - dt.timedelta(days=40))
    rows, _ = selectors.needs_action(pam)
    assert [row.referral for row in rows] == [recent]
    assert "Pain management" in rows[0].action.detail


def test_a_decline_the_office_has_referred_again_needs_nothing(pam, sent):
    declined = sent(State.DECLINED)
    assert declined.pk in kinds(pam)
    sent(State.RECEIVED, patient=declined.patient)  # the same patient, sent again
    assert declined.pk not in kinds(pam)


def test_another_practices_referrals_never_show(pam, pete, cora, hand, provider_b, sent):
    theirs = f.make_referral(acting_user=cora, department=hand, referring_provider=provider_b)
    f.advance(theirs, State.PENDING_INFO, acting_user=cora)
    sent(State.PENDING_INFO)
    assert theirs.pk not in kinds(pam)
    html = client_for(pam).get("/portal/").content.decode()
    assert theirs.number not in html


def test_the_home_page_lists_what_needs_action_above_the_rest(pam, sent):
    other = sent(State.ACCEPTED)
    asked = sent(State.PENDING_INFO)
    html = client_for(pam).get("/portal/").content.decode()
    assert "Needs your action" in html
    assert html.index(asked.number) < html.index(other.number)
    assert html.count(asked.number) == 1  # not listed again below


def test_the_rest_is_paged_25_at_a_time(pam, sent):
    for _ in range(27):
        sent()
    first = client_for(pam).get("/portal/").content.decode()
    assert "Page 1 of 2" in first
    listing, rows = selectors.practice_referrals(pam, page=2)
    assert listing.total == 27 and len(rows) == 2


def test_a_search_by_name_is_a_post_and_finds_the_patient(pam, sent):
    wanted = sent(patient=f.patient_data(first_name="Wilhelmina", last_name="Oakenshott"))
    other = sent()
    response = client_for(pam).post("/portal/", {"q": "Oakenshott"})
    html = response.content.decode()
    assert response.status_code == 200
    assert wanted.number in html and other.number not in html
    assert "Oakenshott" not in response.get("Location", "")


def test_a_name_in_the_address_is_ignored(pam, sent):
    wanted = sent(patient=f.patient_data(first_name="Wilhelmina", last_name="Oakenshott"))
    other = sent()
    html = client_for(pam).get("/portal/", {"q": "Oakenshott"}).content.decode()
    assert wanted.number in html and other.number in html


def test_a_search_by_referral_number_finds_it(pam, sent):
    wanted, other = sent(), sent()
    html = client_for(pam).post("/portal/", {"q": wanted.number.lower()}).content.decode()
    assert wanted.number in html and other.number not in html


def test_the_status_filter_narrows_the_list(pam, sent):
    booked = sent(State.SCHEDULED)
    fresh = sent(State.RECEIVED)
    html = client_for(pam).get("/portal/", {"state": State.SCHEDULED}).content.decode()
    assert booked.number in html and fresh.number not in html
    closed = client_for(pam).get("/portal/", {"state": "closed"}).content.decode()
    assert booked.number not in closed and fresh.number not in closed


def test_every_row_shown_is_audited_as_a_read(pam, sent):
    asked = sent(State.PENDING_INFO)
    other = sent()
    client_for(pam).get("/portal/")
    listed = set(
        AuditEntry.objects.filter(action="referral.listed", actor=pam).values_list(
            "referral_id", flat=True
        )
    )
    assert {asked.pk, other.pk} <= listed


def test_the_pages_of_a_search_are_posted_too(pam, sent):
    for _ in range(27):
        sent(patient=f.patient_data(last_name="Oakenshott"))
    sent()
    html = client_for(pam).post("/portal/", {"q": "Oakenshott", "page": 2}).content.decode()
    assert "Page 2 of 2" in html
    assert 'form="portal-search" name="page" value="1"' in html
    assert "?page=" not in html  # no link would carry the search away, or lose it
