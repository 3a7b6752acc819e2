"""Refer a friend: enrolling, the friend's form through the advocate's link, the thank-you
that names the friend only with their yes, and the reward ledger's legal limits."""

import datetime as dt
import re
import threading

import pytest
from django.db import connection
from django.test import Client

from refloop.advocacy import advocates, reactions, rewards
from refloop.advocacy.models import (
    AdvocacyEvent,
    AdvocacySettings,
    FriendReferral,
    Reward,
    RewardItem,
)
from refloop.core import reactions as core_reactions
from refloop.core.errors import Conflict, InvalidInput
from refloop.core.logging import redact_path
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging.models import Message
from refloop.referrals.models import Appointment, AppointmentOutcome, Referral

NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
FRIEND = ("Bartholomew", "Featherstonehaugh")


def react(kind: str, **about) -> None:
    """Run the reactions to the latest `kind` event, as the worker would."""
    event = AdvocacyEvent.objects.filter(kind=kind, **about).latest("pk")
    for path in reactions.handlers_for(kind):
        core_reactions.run_once(event, path)


@pytest.fixture
def advocate(referral, cora):
    patient = referral.patient
    patient.email = "zephyrine@example.test"
    patient.save()
    return advocates.enrol(patient=patient, acting_user=cora, via=advocates.BY_STAFF, now=NOW)


# ---------------------------------------------------------------- enrolling


def test_enrolling_records_the_event_and_audit_and_sends_the_personal_link(advocate, cora):
    assert advocate.active and advocate.code
    assert AdvocacyEvent.objects.filter(kind="advocate.enrolled", advocate=advocate).exists()
    assert AuditEntry.objects.filter(
        action="advocate.enrolled", object_id=str(advocate.pk)
    ).exists()
    react("advocate.enrolled", advocate=advocate)
    welcome = Message.objects.get(rule="patient.advocate_welcome")
    assert welcome.recipient == f"patient:{advocate.patient_id}"
    assert advocates.personal_link(advocate) in welcome.body
    assert welcome.referral is None


def test_enrolling_twice_keeps_one_advocate_and_one_code(advocate, cora):
    again = advocates.enrol(patient=advocate.patient, acting_user=cora, via="staff", now=NOW)
    assert (again.pk, again.code) == (advocate.pk, advocate.code)
    assert AdvocacyEvent.objects.filter(kind="advocate.enrolled").count() == 1


def test_opting_out_kills_the_code_and_a_new_enrolment_gets_a_new_one(advocate, cora):
    advocates.opt_out(advocate=advocate, acting_user=cora, now=NOW)
    assert advocates.active_by_code(advocate.code) is None
    assert AdvocacyEvent.objects.filter(kind="advocate.opted_out", advocate=advocate).exists()
    with pytest.raises(Conflict):
        advocates.opt_out(advocate=advocate, acting_user=cora, now=NOW)
    back = advocates.enrol(patient=advocate.patient, acting_user=cora, via="staff", now=NOW)
    assert back.pk == advocate.pk and back.active and back.code != advocate.code


def test_the_card_qr_code_is_drawn_from_the_exact_link(advocate):
    link = advocates.personal_link(advocate)
    assert link.endswith(f"/refer/friend/{advocate.code}/")
    svg = advocates.card_svg(link)
    assert svg.startswith("<svg") and "<path" in svg
    # segno draws the same symbol for the same text, and a different one for another link.
    assert svg == advocates.card_svg(link)
    assert svg != advocates.card_svg(link + "x")


def test_the_access_log_never_shows_the_advocate_code(advocate):
    path = f"/refer/friend/{advocate.code}/"
    assert advocate.code not in redact_path(path)
    assert redact_path(path) == "/refer/friend/[token]/"
    assert advocate.code not in redact_path(f"/refer/form/?a={advocate.code}")


# ---------------------------------------------------------------- the friend's form


def _fresh_nonce(client, url) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def friend_form(client, url, **overrides) -> dict:
    data = {
        "nonce": _fresh_nonce(client, url),
        "website": "",
        "submitter_role": "patient",
        "first_name": FRIEND[0],
        "last_name": FRIEND[1],
        "date_of_birth": "1975-06-02",
        "phone": "(217) 555-0177",
        "preferred_language": "English",
        "contact_consent": "on",
        "reason": "Wrist pain after a fall",
        "urgency": "routine",
        "heard_about": "patient",
    }
    data.update(overrides)
    return data


@pytest.fixture
def visitor(org):
    return Client(REMOTE_ADDR="203.0.113.9")


def send_friend_form(visitor, advocate_code, **overrides) -> Referral:
    url = f"/refer/friend/{advocate_code}/"
    response = visitor.post(url, friend_form(visitor, url, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert advocate_code not in response["Location"]
    referral = Referral.objects.latest("pk")
    assert referral.patient.last_name == FRIEND[1]
    return referral


QUESTION = "May we let the person who gave you this link know that you contacted us"


def test_a_valid_code_asks_the_question_and_never_shows_the_advocate(visitor, advocate):
    html = visitor.get(f"/refer/friend/{advocate.code}/").content.decode()
    assert QUESTION in html
    assert advocate.patient.first_name not in html
    assert advocate.patient.last_name not in html
    assert re.search(r'value="no"[^>]*checked', html)  # "no" unless they say yes


def test_a_valid_code_records_a_patient_referral_linked_to_the_advocate(visitor, advocate):
    referral = send_friend_form(visitor, advocate.code, heard_about="self", may_thank="yes")
    assert referral.source_type == "patient"
    assert referral.advocate_patient_id == advocate.patient_id
    friend = FriendReferral.objects.get(referral=referral)
    assert (friend.advocate_id, friend.may_name_friend) == (advocate.pk, True)
    assert AdvocacyEvent.objects.filter(kind="advocate.friend_referred", advocate=advocate).exists()


@pytest.mark.parametrize("how", ["unknown", "opted_out"])
def test_an_unknown_or_opted_out_code_gives_an_ordinary_self_referral(visitor, advocate, cora, how):
    code = "a" + "x" * 20
    if how == "opted_out":
        advocates.opt_out(advocate=advocate, acting_user=cora, now=NOW)
        code = advocate.code
    page = visitor.get(f"/refer/friend/{code}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert QUESTION not in html
    assert "not valid" not in html and "expired" not in html
    referral = send_friend_form(visitor, code, heard_about="self", may_thank="yes")
    assert referral.source_type == "self"
    assert referral.advocate_patient_id is None
    assert not FriendReferral.objects.exists()


# ---------------------------------------------------------------- the thank-you


def test_the_friends_no_is_honoured_the_advocates_thank_you_names_nobody(visitor, advocate):
    referral = send_friend_form(visitor, advocate.code, may_thank="no")
    react("advocate.friend_referred", advocate=advocate)
    thanks = Message.objects.get(
        recipient=f"patient:{advocate.patient_id}", rule__startswith="patient.advocate_thanks"
    )
    assert thanks.rule == "patient.advocate_thanks"
    text = thanks.subject + "\n" + thanks.body
    for word in (*FRIEND, referral.number, referral.patient.phone):
        assert word not in text
    assert thanks.referral is None
    assert "Hi Zephyrine" in thanks.body


def test_with_the_friends_yes_the_thank_you_says_their_first_name_only(visitor, advocate):
    send_friend_form(visitor, advocate.code, may_thank="yes")
    react("advocate.friend_referred", advocate=advocate)
    thanks = Message.objects.get(rule="patient.advocate_thanks_named")
    assert FRIEND[0] in thanks.body and FRIEND[1] not in thanks.body + thanks.subject


def test_the_thank_you_goes_once_per_friend_referral(visitor, advocate):
    send_friend_form(visitor, advocate.code)
    event = AdvocacyEvent.objects.get(kind="advocate.friend_referred")
    advocates.thank_advocate(event)
    advocates.thank_advocate(event)
    assert Message.objects.filter(rule__startswith="patient.advocate_thanks").count() == 1
    assert FriendReferral.objects.get().thanked_at is not None


def test_the_thank_you_respects_the_advocates_opt_out_of_messages(visitor, advocate):
    from refloop.messaging.models import Preference

    Preference.objects.create(
        recipient=f"patient:{advocate.patient_id}",
        opted_out=["email", "sms", "letter"],
        updated_at=NOW,
    )
    send_friend_form(visitor, advocate.code)
    react("advocate.friend_referred", advocate=advocate)
    thanks = Message.objects.get(rule="patient.advocate_thanks")
    assert thanks.status == "cancelled"


# ---------------------------------------------------------------- rewards


@pytest.fixture
def rewards_on(org):
    found = AdvocacySettings.current()
    found.rewards_enabled = True
    found.save()
    return found


def item(cents: int, name: str = "Water bottle") -> RewardItem:
    return RewardItem.objects.create(name=f"{name} {cents}", value_cents=cents)


def give(advocate, thing, who, when=NOW):
    return rewards.give_reward(advocate=advocate, item=thing, acting_user=who, now=when)


def test_rewards_are_off_by_default_and_refused_while_off(advocate, ada):
    assert AdvocacySettings.current().rewards_enabled is False
    with pytest.raises(Conflict, match="switched off"):
        give(advocate, item(500), ada)
    assert not Reward.objects.exists()


def test_an_item_of_15_00_is_accepted_and_15_01_refused(ada, rewards_on):
    assert rewards.add_item(acting_user=ada, name="Mug", value_cents=1500, not_cash=True, now=NOW)
    with pytest.raises(InvalidInput, match=r"\$15\.00"):
        rewards.add_item(acting_user=ada, name="Tote bag", value_cents=1501, not_cash=True, now=NOW)


def test_the_ledger_refuses_an_item_over_15_even_if_written_around_the_list(
    advocate, ada, rewards_on
):
    over = RewardItem(name="Umbrella", value_cents=1501)
    over.pk = 999  # never saved: the table's own constraint would refuse it too
    with pytest.raises(InvalidInput, match=r"\$15\.00"):
        give(advocate, over, ada)


@pytest.mark.parametrize(
    "name",
    [
        "Amazon gift card",
        "$10 Visa prepaid card",
        "Check for 10",
        "Coffee voucher",
        "Cash",
        "Giftcard",
    ],
)
def test_cash_and_cash_equivalents_are_refused(ada, name):
    with pytest.raises(InvalidInput, match="cash"):
        rewards.add_item(acting_user=ada, name=name, value_cents=1000, not_cash=True, now=NOW)


def test_the_admin_must_confirm_the_item_is_not_cash(ada):
    with pytest.raises(InvalidInput, match="Confirm"):
        rewards.add_item(acting_user=ada, name="Mug", value_cents=1000, not_cash=False, now=NOW)


def test_75_00_a_year_is_reached_and_the_item_crossing_it_refused(advocate, ada, rewards_on):
    fifteen = item(1500)
    for _ in range(5):
        give(advocate, fifteen, ada)  # $75.00: exactly the limit
    assert rewards.given_in(advocate, 2026) == 7500
    with pytest.raises(Conflict, match=r"\$75\.01.*\$75\.00"):
        give(advocate, item(1), ada)
    assert Reward.objects.count() == 5


def test_the_item_that_would_cross_is_refused_one_that_fits_is_not(advocate, ada, rewards_on):
    for name in ("Mug", "Cap", "Scarf", "Book"):
        give(advocate, item(1500, name), ada)
    give(advocate, item(1400, "Pen set"), ada)  # $74.00
    with pytest.raises(Conflict):
        give(advocate, item(200, "Socks"), ada)  # $76.00
    give(advocate, item(100, "Sticker"), ada)  # $75.00
    assert rewards.given_in(advocate, 2026) == 7500


def test_a_new_calendar_year_starts_fresh(advocate, ada, rewards_on):
    fifteen = item(1500)
    for _ in range(5):
        give(advocate, fifteen, ada)
    new_year = dt.datetime(2027, 1, 2, 15, 0, tzinfo=dt.UTC)
    reward = give(advocate, fifteen, ada, when=new_year)
    assert reward.year == 2027
    assert rewards.given_in(advocate, 2027) == 1500


def test_a_barred_state_where_the_advocate_was_seen_refuses_rewards(
    advocate, ada, rewards_on, referral
):
    texas = f.LocationFactory(name="Austin clinic", state="TX")
    f.LocationFactory(name="Springfield clinic", state="IL")
    Appointment.objects.create(
        referral=referral,
        starts_at=NOW,
        location=texas,
        outcome=AppointmentOutcome.ATTENDED,
        created_at=NOW,
    )
    rewards_on.rewards_barred_states = ["IL"]
    rewards_on.save()
    give(advocate, item(500), ada)  # seen in Texas: Illinois' bar does not apply
    rewards_on.rewards_barred_states = ["TX"]
    rewards_on.save()
    with pytest.raises(Conflict, match="barred in TX"):
        give(advocate, item(500, "Mug"), ada)


def test_an_advocate_never_seen_is_held_to_every_location_of_the_practice(
    advocate, ada, rewards_on
):
    f.LocationFactory(name="Springfield clinic", state="IL")
    f.LocationFactory(name="Austin clinic", state="TX")
    rewards_on.rewards_barred_states = ["TX"]
    rewards_on.save()
    with pytest.raises(Conflict, match="barred in TX"):
        give(advocate, item(500), ada)


def test_barred_states_must_be_two_letter_codes(ada):
    with pytest.raises(InvalidInput, match="two-letter"):
        rewards.update_settings(acting_user=ada, enabled=True, barred_states=["Texas"], now=NOW)
    rewards.update_settings(acting_user=ada, enabled=True, barred_states=[" tx", "NY "], now=NOW)
    assert AdvocacySettings.current().rewards_barred_states == ["NY", "TX"]


@pytest.mark.django_db(transaction=True)
def test_two_gifts_at_once_cannot_both_pass_the_yearly_limit(referral, cora, ada):
    """Each of two gifts fits alone ($70.00 given, $5.00 each would make $75.00 and $80.00):
    given at the same moment, the advocate's row lock lets at most one through."""
    advocate = advocates.enrol(patient=referral.patient, acting_user=cora, via="staff", now=NOW)
    found = AdvocacySettings.current()
    found.rewards_enabled = True
    found.save()
    for cents in (1500, 1500, 1500, 1500, 1000):
        give(advocate, item(cents, f"Thing {cents}"), ada)
    five = [item(500, "Socks"), item(500, "Cap")]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def gift(thing):
        try:
            start.wait()
            give(advocate, thing, ada)
            outcomes.append("given")
        except Exception as error:  # a refusal, or SQLite's "locked" for the loser
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=gift, args=(thing,)) for thing in five]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("given") == 1, outcomes
    assert rewards.given_in(advocate, 2026) == 7500
