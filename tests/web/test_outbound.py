"""Outbound referrals: the list of patients we send out, and the form to send one."""

import re

import pytest
from django.urls import reverse

from refloop.demo import factories as f
from refloop.patients.models import Patient, last_name_key
from refloop.referrals import transitions
from refloop.referrals.models import Direction, Referral, State
from refloop.referrals.services import create_outbound_referral

LIST = "/outbound/"
NEW = "/outbound/new"


@pytest.fixture
def as_cora(client, cora):
    client.force_login(cora)
    return client


@pytest.fixture
def specialist(db):
    return f.PracticeFactory(name="Lakeview Neurology", city="Peoria", in_network=True)


@pytest.fixture
def outside(db):
    return f.PracticeFactory(name="Aardvark Pain Center", city="Joliet", in_network=False)


def outbound(cora, practice, **fields):
    return create_outbound_referral(
        acting_user=cora,
        patient=f.patient_data(),
        receiving_practice=practice,
        reason="Neuropathy work-up",
        **fields,
    )


def new_data(practice, **overrides) -> dict:
    data = {
        "idempotency_key": "out-1",
        "first_name": "Ivo",
        "last_name": "Brandt",
        "date_of_birth": "1958-11-23",
        "sex": "male",
        "phone": "(217) 555-0177",
        "preferred_language": "English",
        "contact_consent": "on",
        "receiving_practice": practice.pk,
        "receiving_provider": "",
        "reason": "EMG for suspected peripheral neuropathy",
        "icd10_codes": "G62.9",
        "urgency": "routine",
        "department": "",
        "action": "create",
    }
    data.update(overrides)
    return data


def test_the_list_shows_outbound_referrals_with_state_practice_and_network_status(
    as_cora, cora, specialist, outside, referral
):
    drafted = outbound(cora, specialist)
    sent = outbound(cora, outside)
    transitions.send_outbound(sent.pk, acting_user=cora)
    html = as_cora.get(LIST).content.decode()
    assert reverse("referral_detail", kwargs={"pk": drafted.pk}) in html
    assert reverse("referral_detail", kwargs={"pk": sent.pk}) in html
    assert referral.number not in html, "inbound referrals are not listed"
    assert "Lakeview Neurology" in html and "Aardvark Pain Center" in html
    assert '<span class="pill ok">in network</span>' in html
    assert '<span class="pill warn">out of network</span>' in html
    assert "Draft" in html and "Sent" in html
    assert "not sent" in html


def test_the_list_pages_through_many_referrals(as_cora, cora, specialist):
    for _ in range(27):
        outbound(cora, specialist)
    first = as_cora.get(LIST).content.decode()
    second = as_cora.get(LIST, {"page": 2}).content.decode()
    assert first.count("<tr>") == 26  # header + 25
    assert second.count("<tr>") == 3
    assert "Page 1 of 2" in first and "?page=2" in first


def test_coordinators_see_the_new_button_and_clinicians_do_not(client, cora, cliff, org):
    client.force_login(cora)
    assert "New outbound referral" in client.get(LIST).content.decode()
    client.force_login(cliff)
    response = client.get(LIST)
    assert response.status_code == 200
    assert "New outbound referral" not in response.content.decode()
    assert client.get(NEW).status_code == 403


@pytest.mark.parametrize("name", ["lia", "andy", "pam"])
def test_roles_without_referral_detail_cannot_open_outbound_pages(client, name, request):
    client.force_login(request.getfixturevalue(name))
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403


def test_the_receiving_practice_choice_lists_in_network_practices_first(
    as_cora, specialist, outside
):
    html = as_cora.get(NEW).content.decode()
    assert html.index('label="In network"') < html.index('label="Out of network"')
    assert html.index("Lakeview Neurology") < html.index("Aardvark Pain Center")
    in_network_group = html[html.index('label="In network"') : html.index('label="Out of network"')]
    assert "Aardvark" not in in_network_group


def test_a_coordinator_drafts_an_outbound_referral_for_a_new_patient(as_cora, cora, specialist):
    provider = f.ProviderFactory(practice=specialist, specialty="Neurology")
    response = as_cora.post(NEW, new_data(specialist, receiving_provider=provider.pk))
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referral_detail", kwargs={"pk": referral.pk})
    assert referral.direction == Direction.OUTBOUND
    assert referral.state == State.DRAFT
    assert referral.receiving_practice == specialist
    assert referral.receiving_provider == provider
    assert referral.icd10_codes == ["G62.9"]
    assert referral.patient.last_name == "Brandt"
    assert referral.created_by == cora


def test_an_outbound_referral_can_reuse_a_patient_already_on_record(as_cora, specialist, referral):
    patient = referral.patient
    response = as_cora.post(
        NEW,
        new_data(
            specialist,
            patient_id=patient.pk,
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth.isoformat(),
        ),
    )
    assert response.status_code == 302
    assert Patient.objects.count() == 1
    assert Referral.objects.get(direction=Direction.OUTBOUND).patient == patient


def test_a_provider_from_another_practice_is_refused_beside_the_provider_field(
    as_cora, specialist, outside
):
    elsewhere = f.ProviderFactory(practice=outside)
    response = as_cora.post(NEW, new_data(specialist, receiving_provider=elsewhere.pk))
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_receiving_provider_error"' in html
    assert not Referral.objects.exists()


def test_missing_fields_are_shown_beside_the_field_and_what_was_typed_is_kept(as_cora, specialist):
    response = as_cora.post(NEW, new_data(specialist, receiving_practice="", reason=""))
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_receiving_practice_error"' in html
    assert 'id="id_reason_error"' in html
    assert 'value="Brandt"' in html
    assert 'value="G62.9"' in html
    assert 'value="out-1"' in html
    assert not Referral.objects.exists()


def test_submitting_the_same_outbound_form_twice_creates_one_referral(as_cora, specialist):
    first = as_cora.post(NEW, new_data(specialist))
    second = as_cora.post(NEW, new_data(specialist))
    assert Referral.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_no_patient_data_appears_in_any_url_on_the_outbound_pages(as_cora, cora, specialist):
    referral = outbound(cora, specialist)
    patient = referral.patient
    pages = [as_cora.get(LIST).content.decode(), as_cora.get(NEW).content.decode()]
    pages.append(
        as_cora.post(
            NEW,
            new_data(
                specialist,
                action="lookup",
                first_name=patient.first_name,
                last_name=patient.last_name,
                date_of_birth=patient.date_of_birth.isoformat(),
            ),
        ).content.decode()
    )
    assert f'value="{patient.pk}"' in pages[2]
    for html in pages:
        for url in re.findall(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"', html):
            for secret in (patient.first_name, patient.last_name, str(patient.date_of_birth)):
                assert secret.lower() not in url.lower(), url


def test_sending_the_same_outbound_form_twice_drafts_one_referral(as_cora, specialist):
    first = as_cora.post(NEW, new_data(specialist))
    second = as_cora.post(NEW, new_data(specialist))
    referral = Referral.objects.get(direction=Direction.OUTBOUND)
    assert first["Location"] == second["Location"] == f"/referrals/{referral.pk}/"
    assert Patient.objects.filter(last_name_key=last_name_key("Brandt")).count() == 1


def test_reusing_an_outbound_form_for_different_data_is_refused(as_cora, specialist):
    as_cora.post(NEW, new_data(specialist))
    response = as_cora.post(NEW, new_data(specialist, reason="Something else entirely"))
    assert response.status_code == 422
    assert "already used for another referral" in response.content.decode()
    assert Referral.objects.filter(direction=Direction.OUTBOUND).count() == 1


def test_the_outbound_service_replays_a_key_from_the_same_user_only(cora, ada, specialist):
    patient = f.patient_data()
    first = outbound(cora, specialist, idempotency_key="k-1", fingerprint="same")
    again = create_outbound_referral(
        acting_user=cora,
        patient=patient,
        receiving_practice=specialist,
        reason="Neuropathy work-up",
        idempotency_key="k-1",
        fingerprint="same",
    )
    other_user = outbound(ada, specialist, idempotency_key="k-1", fingerprint="same")
    assert again.pk == first.pk
    assert other_user.pk != first.pk
