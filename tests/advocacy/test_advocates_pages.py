"""Refer a friend, the pages: staff's advocates (list, page, card, enrol, opt-out, a gift), the
reward settings, and the patient's own opt-in page under the survey link."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from refloop.advocacy import advocates
from refloop.advocacy.models import (
    AdvocacyEvent,
    AdvocacySettings,
    Advocate,
    Audience,
    Reward,
    RewardItem,
    Trigger,
)
from refloop.advocacy.survey_link import COOKIE
from refloop.advocacy.surveys import create_survey
from refloop.core.models import AuditEntry


@pytest.fixture
def as_user(client):
    def sign_in(user) -> Client:
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def advocate(referral, cora):
    return advocates.enrol(
        patient=referral.patient, acting_user=cora, via=advocates.BY_STAFF, now=timezone.now()
    )


def test_staff_enrol_a_patient_by_referral_number_in_the_body(as_user, cora, referral):
    page = as_user(cora).post(
        "/feedback/advocates/enrol/", {"number": referral.number.lower(), "agreed": "on"}
    )
    advocate = Advocate.objects.get(patient=referral.patient)
    assert page.status_code == 302 and page["Location"] == f"/feedback/advocates/{advocate.pk}/"
    assert AdvocacyEvent.objects.get(kind="advocate.enrolled").data == {"via": "staff"}


def test_enrolling_needs_the_patients_agreement_and_a_real_number(as_user, cora, referral):
    page = as_user(cora).post("/feedback/advocates/enrol/", {"number": referral.number})
    assert page.status_code == 422
    assert "only once they have agreed" in page.content.decode()
    page = as_user(cora).post(
        "/feedback/advocates/enrol/", {"number": "R-0000-0000", "agreed": "on"}
    )
    assert "No referral has this number" in page.content.decode()
    assert not Advocate.objects.exists()


def test_the_list_shows_advocates_with_their_referrals_and_audits_the_read(as_user, cora, advocate):
    page = as_user(cora).get("/feedback/advocates/")
    html = page.content.decode()
    assert "Zephyrine Quillfeather" in html
    assert AuditEntry.objects.filter(action="advocate.viewed", object_id=str(advocate.pk)).exists()


def test_the_liaison_and_analyst_are_refused_the_advocates(client, lia, andy, advocate):
    for user in (lia, andy):
        client.force_login(user)
        page = client.get("/feedback/advocates/")
        assert page.status_code == 403
        assert "Zephyrine" not in page.content.decode()


def test_the_card_has_the_link_and_its_qr_code_and_no_patient_data(as_user, cora, advocate, org):
    page = as_user(cora).get(f"/feedback/advocates/{advocate.pk}/card/")
    html = page.content.decode()
    link = advocates.personal_link(advocate)
    assert link in html
    assert advocates.card_svg(link) in html
    assert escape(org.name) in html
    for word in ("Zephyrine", "Quillfeather", advocate.patient.phone):
        assert word not in html


def test_an_opted_out_advocate_has_no_card(as_user, cora, advocate):
    client = as_user(cora)
    assert client.post(f"/feedback/advocates/{advocate.pk}/opt-out/").status_code == 302
    advocate.refresh_from_db()
    assert not advocate.active
    assert client.get(f"/feedback/advocates/{advocate.pk}/card/").status_code == 404


def test_giving_a_reward_from_the_page_says_why_it_is_refused(as_user, cora, advocate):
    mug = RewardItem.objects.create(name="Mug", value_cents=1200)
    client = as_user(cora)
    page = client.post(f"/feedback/advocates/{advocate.pk}/reward/", {"item": mug.pk}, follow=True)
    assert "switched off" in page.content.decode()
    found = AdvocacySettings.current()
    found.rewards_enabled = True
    found.save()
    page = client.post(f"/feedback/advocates/{advocate.pk}/reward/", {"item": mug.pk}, follow=True)
    assert "Mug was written in the ledger" in page.content.decode()
    assert Reward.objects.get().value_cents == 1200


# ---------------------------------------------------------------- reward settings


def test_the_reward_settings_page_cites_the_oig_and_switches_rewards(as_user, ada):
    client = as_user(ada)
    html = client.get("/settings/feedback/rewards/").content.decode()
    assert "OIG" in html and "$15.00" in html and "$75.00" in html and "1320a-7a" in html
    assert "where the advocate was seen" in html
    page = client.post("/settings/feedback/rewards/", {"enabled": "on", "barred_states": "tx, NJ"})
    assert page.status_code == 302
    found = AdvocacySettings.current()
    assert found.rewards_enabled and found.rewards_barred_states == ["NJ", "TX"]
    page = client.post("/settings/feedback/rewards/", {"barred_states": "Texas"})
    assert page.status_code == 422 and "two-letter" in page.content.decode()


def test_items_at_the_limit_are_kept_and_over_it_or_cash_are_refused(as_user, ada):
    client = as_user(ada)
    add = "/settings/feedback/rewards/items/"
    assert client.post(add, {"name": "Mug", "value": "15.00", "not_cash": "on"}).status_code == 302
    page = client.post(add, {"name": "Tote", "value": "15.01", "not_cash": "on"})
    assert page.status_code == 422 and "at most $15.00" in page.content.decode()
    page = client.post(add, {"name": "Gift card", "value": "10", "not_cash": "on"})
    assert page.status_code == 422 and "cash equivalent" in page.content.decode()
    page = client.post(add, {"name": "Cap", "value": "10"})
    assert page.status_code == 422 and "Confirm" in page.content.decode()
    assert list(RewardItem.objects.values_list("name", "value_cents")) == [("Mug", 1500)]


def test_only_admins_change_the_reward_settings(client, cora):
    client.force_login(cora)
    assert client.get("/settings/feedback/rewards/").status_code == 403


# ---------------------------------------------------------------- the patient's page


@pytest.fixture
def survey_client(referral):
    now = timezone.now()
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=now,
        patient=referral.patient,
        referral=referral,
    )
    client = Client()
    client.cookies[COOKIE] = survey.code
    return client, survey


def test_the_patients_page_changes_nothing_on_get_and_opts_in_on_post(survey_client, referral):
    client, _ = survey_client
    page = client.get("/s/advocate/")
    assert page.status_code == 200 and "Send me my link" in page.content.decode()
    assert not Advocate.objects.exists()
    page = client.post("/s/advocate/")
    advocate = Advocate.objects.get(patient=referral.patient)
    assert advocates.personal_link(advocate) in page.content.decode()
    assert AdvocacyEvent.objects.get(kind="advocate.enrolled").data == {"via": "survey_page"}
    client.post("/s/advocate/")
    assert Advocate.objects.count() == 1


def test_the_patients_page_without_a_survey_or_for_an_office_says_so(client, referral, provider_a):
    assert client.get("/s/advocate/").status_code == 404
    office, _ = create_survey(
        audience=Audience.OFFICE,
        trigger=Trigger.LOOP_CLOSED,
        recipient=f"provider:{provider_a.pk}",
        dedupe_key="office:1",
        now=timezone.now(),
    )
    client.cookies[COOKIE] = office.code
    assert client.post("/s/advocate/").status_code == 404
    assert not Advocate.objects.exists()


def test_an_expired_survey_link_opts_nobody_in(survey_client):
    client, survey = survey_client
    survey.expires_at = timezone.now() - dt.timedelta(minutes=1)
    survey.save()
    assert client.post("/s/advocate/").status_code == 410
    assert not Advocate.objects.exists()


def test_a_gift_without_a_real_item_is_refused_plainly(as_user, cora, advocate):
    client = as_user(cora)
    for item in ("", "abc", "999999"):
        page = client.post(
            f"/feedback/advocates/{advocate.pk}/reward/", {"item": item}, follow=True
        )
        assert page.status_code == 200
        assert "Choose an item from the list." in page.content.decode()
    assert not Reward.objects.exists()
