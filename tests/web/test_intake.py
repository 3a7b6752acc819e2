"""Quick intake: the New referral page, its type-ahead, patient lookup and department suggestion."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.patients.models import Patient
from refloop.practice.selectors import suggest_department
from refloop.referrals.models import Referral, State

INTAKE = "/intake/"


@pytest.fixture
def as_cora(client, cora):
    client.force_login(cora)
    return client


def intake_data(**overrides) -> dict:
    data = {
        "idempotency_key": "key-1",
        "channel": "phone",
        "source_type": "self",
        "source_other": "",
        "first_name": "Mara",
        "last_name": "Lindqvist",
        "date_of_birth": "1961-04-02",
        "sex": "female",
        "phone": "(217) 555-0142",
        "preferred_language": "English",
        "contact_consent": "on",
        "reason": "Low back pain radiating to the left leg for six weeks",
        "icd10_codes": "m5416, M51.26",
        "urgency": "routine",
        "department": "",
        "assignee": "",
        "action": "create",
    }
    data.update(overrides)
    return data


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"', html)


def test_the_intake_page_offers_every_labelled_field_and_the_create_button(as_cora, spine):
    response = as_cora.get(INTAKE)
    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "First name",
        "Last name",
        "Date of birth",
        "Phone",
        "Reason for referral",
        "ICD-10 codes",
        "Urgency",
        "Department",
        "Source",
        "How did the referral reach us",
        "Referring provider",
    ):
        assert f">{label}</label>" in html or f">{label}:</label>" in html, label
    assert "Create referral" in html
    assert 'name="idempotency_key"' in html
    assert '<option value="phone" selected>' in html


def test_a_self_referral_by_phone_creates_a_patient_and_a_referral_and_opens_it(
    as_cora, cora, spine
):
    response = as_cora.post(INTAKE, intake_data(department=spine.pk, assignee=cora.pk))
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referral_detail", kwargs={"pk": referral.pk})
    assert referral.state == State.RECEIVED
    assert referral.channel == "phone"
    assert referral.source_type == "self"
    assert referral.icd10_codes == ["M54.16", "M51.26"]
    assert referral.department == spine
    assert referral.assignee == cora
    assert referral.patient.first_name == "Mara"
    assert referral.patient.phone == "(217) 555-0142"


def test_a_provider_referral_records_the_referring_provider_and_their_practice(as_cora, provider_a):
    response = as_cora.post(
        INTAKE, intake_data(source_type="provider", referring_provider=provider_a.pk)
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.referring_provider == provider_a
    assert referral.referring_practice == provider_a.practice


def test_a_provider_referral_without_a_chosen_provider_is_refused_beside_the_search(as_cora):
    response = as_cora.post(INTAKE, intake_data(source_type="provider"))
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_referring_search_error"' in html
    assert not Referral.objects.exists()


def test_other_source_needs_the_specification(as_cora):
    response = as_cora.post(INTAKE, intake_data(source_type="other", source_other=" "))
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_source_other_error"' in html
    assert "Say what the other source is." in html
    assert not Referral.objects.exists()

    response = as_cora.post(
        INTAKE, intake_data(source_type="other", source_other="Health fair at the library")
    )
    assert response.status_code == 302
    assert Referral.objects.get().source_other == "Health fair at the library"


def test_a_missing_source_is_refused_beside_the_source_field(as_cora):
    response = as_cora.post(INTAKE, intake_data(source_type=""))
    assert response.status_code == 422
    assert 'id="id_source_type_error"' in response.content.decode()


def test_field_errors_sit_beside_the_field_and_keep_everything_typed(as_cora):
    response = as_cora.post(
        INTAKE,
        intake_data(icd10_codes="M54.16, banana", reason="Neck pain after a fall", last_name=""),
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_icd10_codes_error"' in html
    assert "Code 2 is not an ICD-10 code" in html
    assert html.count("banana") == 1  # in the field as typed, not in the message
    assert 'id="id_last_name_error"' in html
    assert 'value="M54.16, banana"' in html
    assert 'value="Mara"' in html
    assert 'value="(217) 555-0142"' in html
    assert "Neck pain after a fall</textarea>" in html
    assert 'value="key-1"' in html, "the same idempotency key is kept for the retry"
    assert not Referral.objects.exists()
    assert not Patient.objects.exists()


def test_a_birth_date_in_the_future_is_refused_beside_the_date_field(as_cora):
    response = as_cora.post(INTAKE, intake_data(date_of_birth="2999-01-01"))
    assert response.status_code == 422
    assert 'id="id_date_of_birth_error"' in response.content.decode()


def test_the_same_idempotency_key_twice_creates_one_referral(as_cora):
    first = as_cora.post(INTAKE, intake_data())
    second = as_cora.post(INTAKE, intake_data())
    assert Referral.objects.count() == 1
    assert Patient.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_used_key_with_different_data_is_refused_not_duplicated(as_cora):
    as_cora.post(INTAKE, intake_data())
    response = as_cora.post(INTAKE, intake_data(reason="Something else entirely"))
    assert response.status_code == 422
    assert "already used for another referral" in response.content.decode()
    assert Referral.objects.count() == 1


def test_a_new_intake_page_gets_a_fresh_idempotency_key(as_cora):
    keys = {
        re.search(r'name="idempotency_key" value="([^"]+)"', as_cora.get(INTAKE).content.decode())[
            1
        ]
        for _ in range(2)
    }
    assert len(keys) == 2


def test_choosing_an_existing_patient_reuses_them_instead_of_creating_a_duplicate(
    as_cora, cora, referral
):
    patient = referral.patient
    response = as_cora.post(
        INTAKE,
        intake_data(
            patient_id=patient.pk,
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth.isoformat(),
        ),
    )
    assert response.status_code == 302
    assert Patient.objects.count() == 1
    assert Referral.objects.filter(patient=patient).count() == 2


# ---- patient lookup --------------------------------------------------------------


def lookup(client, **fields):
    return client.post(reverse("intake_patient_lookup"), fields)


def test_patient_lookup_finds_a_patient_by_normalized_name_and_birth_date(as_cora, referral):
    patient = referral.patient
    patient.first_name, patient.last_name = "José", "O'Neil"
    patient.save()
    response = lookup(
        as_cora,
        first_name="  jose ",
        last_name="ONEIL",
        date_of_birth=patient.date_of_birth.isoformat(),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="patient_id" value="{patient.pk}"' in html
    assert "1 open referral" in html


def test_patient_lookup_does_not_match_another_birth_date(as_cora, referral):
    patient = referral.patient
    # A year earlier by days: a random birth date may be 29 February, which no other year has.
    other_day = patient.date_of_birth - dt.timedelta(days=365)
    response = lookup(
        as_cora,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=other_day.isoformat(),
    )
    assert f'value="{patient.pk}"' not in response.content.decode()
    assert "No patient on record" in response.content.decode()


def test_each_patient_shown_by_the_lookup_is_audited_as_a_read(as_cora, cora, referral):
    patient = referral.patient
    lookup(
        as_cora,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth.isoformat(),
    )
    entry = AuditEntry.objects.get(action="patient.read")
    assert entry.actor == cora
    assert entry.patient_id == patient.pk


def test_patient_lookup_refuses_get_so_names_never_travel_in_a_url(as_cora, referral):
    patient = referral.patient
    response = as_cora.get(
        reverse("intake_patient_lookup"),
        {"first_name": patient.first_name, "last_name": patient.last_name},
    )
    assert response.status_code == 405
    assert not AuditEntry.objects.filter(action="patient.read").exists()


def test_patient_lookup_is_refused_to_roles_that_cannot_create_referrals(
    client, lia, cliff, referral
):
    patient = referral.patient
    for user in (lia, cliff):
        client.force_login(user)
        response = lookup(
            client,
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth.isoformat(),
        )
        assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="patient.read").exists()


def test_patient_lookup_without_a_birth_date_asks_for_it(as_cora, referral):
    response = lookup(as_cora, first_name="Mara", last_name="Lindqvist", date_of_birth="")
    assert "Type the first name, last name and date of birth" in response.content.decode()


# ---- type-ahead -------------------------------------------------------------------


def search(client, q):
    return client.get(reverse("intake_provider_search"), {"q": q}).content.decode()


def test_type_ahead_finds_providers_by_name_npi_and_city(as_cora):
    practice = f.PracticeFactory(name="Oak Park Family Care", city="Decatur")
    provider = f.ProviderFactory(practice=practice, first_name="Ines", last_name="Okafor")
    f.ProviderFactory(last_name="Zimmer")
    for q in ("Okafor", provider.npi, "decatur"):
        html = search(as_cora, q)
        assert f'data-provider-id="{provider.pk}"' in html, q
        assert "Zimmer" not in html, q


def test_type_ahead_finds_practices_by_name_and_city(as_cora):
    practice = f.PracticeFactory(name="Oak Park Family Care", city="Decatur")
    for q in ("oak park", "Decatur"):
        assert f'value="practice:{practice.pk}"' in search(as_cora, q), q


def test_type_ahead_shows_the_contact_preferences_of_each_match(as_cora):
    provider = f.ProviderFactory(
        last_name="Okafor", preferred_channel="fax", best_time="after 3 pm", fax="(217) 555-0100"
    )
    html = search(as_cora, "Okafor")
    assert "Fax" in html and "after 3 pm" in html and "(217) 555-0100" in html
    assert provider.npi in html


def test_type_ahead_waits_for_two_characters(as_cora, provider_a):
    assert "data-provider-id" not in search(as_cora, "a")


def test_choosing_a_source_without_javascript_keeps_the_form_and_shows_the_card(
    as_cora, provider_a
):
    response = as_cora.post(
        INTAKE,
        intake_data(source_type="provider", choose_source=f"provider:{provider_a.pk}"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="referring_provider" value="{provider_a.pk}"' in html
    assert provider_a.npi in html
    assert 'value="Mara"' in html
    assert "field-error" not in html
    assert not Referral.objects.exists()


def test_finding_a_source_without_javascript_lists_matches_and_keeps_the_form(as_cora, provider_a):
    response = as_cora.post(
        INTAKE,
        intake_data(action="find_source", referring_search=provider_a.last_name),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="provider:{provider_a.pk}"' in html
    assert 'value="Mara"' in html
    assert not Referral.objects.exists()


# ---- department suggestion ----------------------------------------------------------


def test_department_is_suggested_by_the_longest_matching_icd10_prefix(org):
    joint = f.DepartmentFactory(code="joint", name="Joint", accepted_conditions=["M25"])
    knee = f.DepartmentFactory(code="knee", name="Knee", accepted_conditions=["M25.56"])
    department, why = suggest_department(reason="", icd10_codes=["M25.561"])
    assert department == knee
    assert why == "M25.561 matches Knee (M25.56)"
    assert suggest_department(reason="", icd10_codes=["M25.5"])[0] == joint


def test_department_is_suggested_by_a_keyword_in_the_reason(org, spine):
    hand = f.DepartmentFactory(
        code="sports-hand", name="Sports Medicine & Hand", accepted_specialties=["Hand surgery"]
    )
    department, why = suggest_department(reason="Numb fingers, worse at night", icd10_codes=[])
    assert department == hand
    assert "fingers" in why
    assert suggest_department(reason="Chronic lower back pain", icd10_codes=[])[0] == spine
    assert suggest_department(reason="Feeling tired", icd10_codes=[]) == (None, "")


def test_icd10_codes_win_over_keywords(org, spine):
    f.DepartmentFactory(code="hand", name="Hand", accepted_specialties=["Hand surgery"])
    assert suggest_department(reason="hand pain", icd10_codes=["M54.5"])[0] == spine


def test_the_suggestion_endpoint_answers_a_post_with_the_department_and_why(as_cora, spine):
    response = as_cora.post(
        reverse("intake_department_suggestion"), {"reason": "", "icd10_codes": "m545"}
    )
    html = response.content.decode()
    assert f'data-suggested-department="{spine.pk}"' in html
    assert "M54.5 matches Spine (M54)" in html
    assert as_cora.get(reverse("intake_department_suggestion")).status_code == 405


# ---- the phone script -----------------------------------------------------------------


def test_the_phone_script_tells_when_the_patient_will_be_called_for_each_urgency(as_cora, org):
    org.phone = "(217) 555-0199"
    org.sla_urgent_hours = 12
    org.save()
    html = as_cora.get(INTAKE).content.decode()
    assert "What to tell the caller" in html
    assert "within" in html and "48 hours" in html
    assert 'data-sla-urgent="12 hours"' in html
    assert "(217) 555-0199" in html
    html = as_cora.post(INTAKE, intake_data(urgency="urgent", last_name="")).content.decode()
    assert '<strong id="script-sla"' in html and ">12 hours</strong>" in html


# ---- who may -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lia", "andy", "cliff", "hana"])
def test_roles_without_create_referrals_cannot_open_intake(client, name, request):
    client.force_login(request.getfixturevalue(name))
    assert client.get(INTAKE).status_code == 403
    assert client.post(INTAKE, intake_data()).status_code == 403
    assert client.get(reverse("intake_provider_search"), {"q": "oak"}).status_code == 403
    assert not Referral.objects.exists()


def test_portal_users_cannot_open_intake(client, pam):
    client.force_login(pam)
    assert client.get(INTAKE).status_code == 403


@pytest.mark.parametrize("name", ["ada", "cora"])
def test_admins_and_coordinators_open_intake(client, name, request):
    client.force_login(request.getfixturevalue(name))
    assert client.get(INTAKE).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, org):
    response = client.get(INTAKE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# ---- no PHI in URLs ----------------------------------------------------------------------


def test_no_patient_data_appears_in_any_url_on_the_intake_page(as_cora, referral, provider_a):
    patient = referral.patient
    data = intake_data(
        action="lookup",
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth.isoformat(),
        patient_id=patient.pk,
        referring_provider=provider_a.pk,
        source_type="provider",
    )
    html = as_cora.post(INTAKE, data).content.decode()
    assert f'value="{patient.pk}"' in html
    for url in urls_in(html):
        for secret in (
            patient.first_name,
            patient.last_name,
            patient.date_of_birth.isoformat(),
            "Low back",
        ):
            assert secret.lower() not in url.lower(), url
    assert 'method="post"' in html


def test_a_walk_in_referral_is_recorded_with_its_channel(as_cora, spine):
    page = as_cora.get(INTAKE).content.decode()
    assert '<option value="walk_in">Walk-in</option>' in page
    response = as_cora.post(INTAKE, intake_data(channel="walk_in"))
    assert response.status_code == 302
    assert Referral.objects.get().channel == "walk_in"
