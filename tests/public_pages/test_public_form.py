"""The public referral form: creation, errors, spam protection, double submits, framing."""

import re

import pytest
from django.test import Client

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.patients.models import Patient
from refloop.public.models import PublicSubmission, SubmissionAttempt
from refloop.referrals.models import Referral
from tests.headers import policy

FORM = "/refer/form/"
PATIENT_NAME = ("Zephyrine", "Quillfeather")


def fresh_nonce(client) -> str:
    html = client.get(FORM).content.decode()
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def form_data(client, **overrides) -> dict:
    data = {
        "nonce": fresh_nonce(client),
        "website": "",
        "submitter_role": "patient",
        "first_name": PATIENT_NAME[0],
        "last_name": PATIENT_NAME[1],
        "date_of_birth": "1961-04-02",
        "phone": "(217) 555-0142",
        "email": "",
        "insurance_payer": "Blue Cross",
        "preferred_language": "English",
        "contact_consent": "on",
        "reason": "Low back pain radiating to the left leg for six weeks",
        "urgency": "routine",
        "department": "",
        "icd10_codes": "",
        "heard_about": "self",
        "heard_other": "",
    }
    data.update(overrides)
    return data


def client_from(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


@pytest.fixture
def visitor(org, spine):
    return client_from("203.0.113.7")


def test_a_self_referral_creates_one_web_form_referral_and_confirms_what_happens_next(visitor):
    response = visitor.post(FORM, form_data(visitor))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.channel == "web_form"
    assert referral.source_type == "self"
    assert referral.created_by is None
    assert referral.patient.first_name == PATIENT_NAME[0]
    assert referral.department.code == "spine"  # triaged from the reason
    submission = PublicSubmission.objects.get()
    assert submission.referral == referral

    page = visitor.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert referral.number in html
    assert "within <strong>48 hours</strong>" in html
    assert PATIENT_NAME[1] not in html


def test_other_as_the_source_keeps_the_typed_text(visitor):
    data = form_data(visitor, heard_about="other", heard_other="A poster at the library")
    assert visitor.post(FORM, data).status_code == 302
    referral = Referral.objects.get()
    assert referral.source_type == "other"
    assert referral.source_other == "A poster at the library"
    assert PublicSubmission.objects.get().heard_other == "A poster at the library"


def test_other_without_text_answers_422_naming_the_field_and_keeping_what_was_typed(visitor):
    response = visitor.post(FORM, form_data(visitor, heard_about="other", heard_other=""))
    html = response.content.decode()
    assert response.status_code == 422
    assert "tell us how, in a few words" in html
    assert 'href="#id_heard_other"' in html  # the summary names and links the field
    assert re.search(r'id="id_heard_other"[^>]*aria-invalid="true"', html) or re.search(
        r'aria-invalid="true"[^>]*id="id_heard_other"', html
    )
    assert f'value="{PATIENT_NAME[0]}"' in html
    assert "Low back pain radiating" in html
    assert '<option value="other" selected>' in html
    assert not Referral.objects.exists()
    assert not PublicSubmission.objects.exists()


def test_every_missing_required_field_is_named(visitor):
    response = visitor.post(FORM, {"nonce": fresh_nonce(visitor)})
    html = response.content.decode()
    assert response.status_code == 422
    for field in (
        "submitter_role",
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "contact_consent",
        "reason",
        "heard_about",
    ):
        assert f'href="#id_{field}"' in html, field


def test_a_provider_without_an_account_is_kept_on_the_submission(visitor):
    data = form_data(
        visitor,
        submitter_role="provider",
        submitter_name="Dr. Ines Okafor",
        submitter_phone="(217) 555-0110",
        practice_name="Oak Park Family Care",
        submitter_fax="(217) 555-0100",
        heard_about="provider",
    )
    assert visitor.post(FORM, data).status_code == 302
    referral = Referral.objects.get()
    # Not in the directory: still a provider referral; the submission keeps who it was.
    assert referral.source_type == "provider"
    assert referral.referring_provider is None and referral.referring_practice is None
    submission = PublicSubmission.objects.get()
    assert submission.practice_name == "Oak Park Family Care"
    assert submission.submitter_fax == "(217) 555-0100"
    assert submission.matched_provider is None


def test_a_provider_whose_npi_is_in_the_directory_becomes_the_referring_provider(
    visitor, provider_a
):
    data = form_data(
        visitor,
        submitter_role="provider",
        submitter_name="Dr. Known",
        submitter_phone="(217) 555-0110",
        practice_name="Prairie",
        npi=provider_a.npi,
        heard_about="provider",
    )
    assert visitor.post(FORM, data).status_code == 302
    referral = Referral.objects.get()
    assert referral.source_type == "provider"
    assert referral.referring_provider == provider_a
    assert referral.referring_practice == provider_a.practice


def test_a_provider_must_say_who_they_are(visitor):
    response = visitor.post(FORM, form_data(visitor, submitter_role="provider"))
    html = response.content.decode()
    assert response.status_code == 422
    for field in ("submitter_name", "submitter_phone", "practice_name"):
        assert f'href="#id_{field}"' in html, field


def test_a_wrong_npi_is_refused_with_its_reason(visitor):
    data = form_data(
        visitor,
        submitter_role="provider",
        submitter_name="Dr. X",
        submitter_phone="1",
        practice_name="P",
        npi="1234567890",
    )
    response = visitor.post(FORM, data)
    assert response.status_code == 422
    assert "check digit" in response.content.decode()


def test_the_submission_is_audited_as_the_web_form(visitor):
    visitor.post(FORM, form_data(visitor))
    submission = PublicSubmission.objects.get()
    entry = AuditEntry.objects.get(action="public_submission.created")
    assert entry.object_id == str(submission.pk)
    assert entry.patient_id == submission.referral.patient_id
    assert entry.actor_label == "system:web_form"
    assert entry.ip_address == "203.0.113.7"
    assert PATIENT_NAME[0] not in str(entry.detail)
    received = AuditEntry.objects.get(action="referral.received")
    assert received.actor_label == "system:web_form"


def test_a_filled_honeypot_answers_like_success_and_records_nothing(visitor, caplog):
    response = visitor.post(FORM, form_data(visitor, website="http://spam.example"))
    assert response.status_code == 302
    assert not Referral.objects.exists()
    assert not Patient.objects.exists()
    assert not PublicSubmission.objects.exists()
    page = visitor.get(response["Location"])
    assert page.status_code == 200
    assert "we received the referral" in page.content.decode()
    assert "honeypot" in caplog.text
    assert PATIENT_NAME[0] not in caplog.text
    assert "spam.example" not in caplog.text


def test_the_honeypot_is_hidden_from_people_and_screen_readers(visitor):
    html = visitor.get(FORM).content.decode()
    block = re.search(r'<div class="hp" aria-hidden="true">(.*?)</div>', html, re.S).group(1)
    assert "Leave this field empty" in block
    assert 'tabindex="-1"' in block


def test_a_flood_from_one_address_gets_a_polite_429_and_others_are_not_limited(visitor, settings):
    settings.PUBLIC_FORM_RATE_LIMIT = 3
    for _ in range(3):
        assert visitor.post(FORM, form_data(visitor, reason="")).status_code == 422
    response = visitor.post(FORM, form_data(visitor))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Please wait a little" in response.content.decode()
    assert not Referral.objects.exists()

    neighbour = client_from("198.51.100.20")
    assert neighbour.post(FORM, form_data(neighbour)).status_code == 302
    # Only a keyed hash of each address is stored.
    keys = SubmissionAttempt.objects.values_list("client_key", flat=True)
    assert all("203.0.113.7" not in key and len(key) == 64 for key in keys)


def test_the_limit_lifts_when_the_window_has_passed(visitor, settings, time_machine):
    settings.PUBLIC_FORM_RATE_LIMIT = 2
    time_machine.move_to("2026-03-02 09:00Z", tick=False)
    visitor.post(FORM, form_data(visitor, reason=""))
    visitor.post(FORM, form_data(visitor, reason=""))
    assert visitor.post(FORM, form_data(visitor)).status_code == 429
    time_machine.move_to("2026-03-02 10:00:01Z", tick=False)
    assert visitor.post(FORM, form_data(visitor)).status_code == 302


def test_sending_the_same_form_twice_records_one_referral(visitor):
    data = form_data(visitor)
    first = visitor.post(FORM, data)
    second = visitor.post(FORM, data)
    assert first.status_code == second.status_code == 302
    assert Referral.objects.count() == 1
    assert visitor.get(second["Location"]).content.decode().count(Referral.objects.get().number)


def test_a_refused_send_can_be_corrected_and_sent_with_the_same_form(visitor):
    data = form_data(visitor, heard_about="other")
    assert visitor.post(FORM, data).status_code == 422
    data["heard_other"] = "A radio programme"
    assert visitor.post(FORM, data).status_code == 302
    assert Referral.objects.get().source_other == "A radio programme"


def test_a_forged_or_missing_nonce_is_not_accepted_and_keeps_the_typed_values(visitor):
    data = form_data(visitor, nonce="forged")
    response = visitor.post(FORM, data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "could not be sent" in html
    assert f'value="{PATIENT_NAME[1]}"' in html
    assert not Referral.objects.exists()
    # The page carries a fresh nonce, so sending it again works.
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)
    assert visitor.post(FORM, {**data, "nonce": nonce}).status_code == 302


def test_the_form_works_without_a_csrf_cookie_as_in_a_cross_site_iframe(org, spine):
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")
    data = form_data(browser)
    browser.cookies.clear()
    assert browser.post(FORM, data).status_code == 302
    assert Referral.objects.count() == 1


def test_no_patient_data_in_the_redirect(visitor):
    response = visitor.post(
        FORM, form_data(visitor, email="zq@example.org", heard_about="other", heard_other="Radio")
    )
    location = response["Location"]
    assert location.startswith("/refer/form/thanks/?ref=")
    for value in (*PATIENT_NAME, "1961", "555-0142", "zq@example.org", "Radio", "back pain"):
        assert value.lower() not in location.lower()


def test_the_form_and_its_confirmation_may_be_framed_and_nothing_else(visitor, settings):
    form = visitor.get(FORM)
    assert "X-Frame-Options" not in form
    assert policy(form)["frame-ancestors"] == ["'self'", "*"]
    # Only framing is widened: the rest of the site's policy still holds.
    assert policy(form)["script-src"] == ["'self'"]
    thanks = visitor.get(visitor.post(FORM, form_data(visitor))["Location"])
    assert "X-Frame-Options" not in thanks
    assert "frame-ancestors" in thanks["Content-Security-Policy"]
    for url in ("/refer/", "/refer/embed/", "/login/"):
        assert visitor.get(url)["X-Frame-Options"] == "DENY", url

    settings.EMBED_ORIGINS = ["https://www.lakeside-ortho.example"]
    form = visitor.get(FORM)
    assert policy(form)["frame-ancestors"] == ["'self'", "https://www.lakeside-ortho.example"]


def test_the_embedded_form_stays_embedded_after_sending(visitor):
    response = visitor.post(FORM + "?embed=1", form_data(visitor))
    assert "embed=1" in response["Location"]
    page = visitor.get(response["Location"]).content.decode()
    assert 'class="public-header"' not in page


def test_a_stale_confirmation_link_shows_no_reference(visitor, time_machine):
    time_machine.move_to("2026-03-02 09:00Z", tick=False)
    location = visitor.post(FORM, form_data(visitor))["Location"]
    number = Referral.objects.get().number
    assert number in visitor.get(location).content.decode()
    time_machine.move_to("2026-03-03 09:00Z", tick=False)
    page = visitor.get(location).content.decode()
    assert number not in page
    assert "What happens next" in page


def test_a_department_link_preselects_the_department(visitor, spine):
    html = visitor.get(FORM + "?department=spine").content.decode()
    assert f'<option value="{spine.pk}" selected>' in html


def test_staff_see_who_sent_a_public_referral_and_the_read_is_audited(visitor, cora, lia):
    from refloop.public.selectors import submission_for_staff

    visitor.post(
        FORM,
        form_data(
            visitor,
            submitter_role="caregiver",
            submitter_name="Ola Peña",
            submitter_phone="(217) 555-0177",
        ),
    )
    referral = Referral.objects.get()
    assert submission_for_staff(lia, referral) is None  # liaisons: no patient detail
    submission = submission_for_staff(cora, referral)
    assert submission.submitter_name == "Ola Peña"
    assert AuditEntry.objects.filter(
        action="public_submission.read", actor=cora, referral_id=referral.pk
    ).exists()
    other = f.make_referral(acting_user=cora)
    assert submission_for_staff(cora, other) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_form_record_one_referral(org, spine):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    data = form_data(client_from("203.0.113.30"))
    barrier = threading.Barrier(4)

    def send(_):
        try:
            barrier.wait()
            return client_from("203.0.113.30").post(FORM, data).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(send, range(4)))
    assert statuses == [302] * 4
    assert Referral.objects.count() == 1
    assert PublicSubmission.objects.count() == 1


def test_staff_see_who_sent_a_form_referral_on_its_page_and_the_read_is_audited(visitor, cora, lia):
    data = form_data(
        visitor,
        submitter_role="provider",
        submitter_name="Dr. Ines Okafor",
        submitter_phone="(217) 555-0110",
        practice_name="Oak Park Family Care",
        submitter_fax="(217) 555-0100",
        heard_about="provider",
    )
    assert visitor.post(FORM, data).status_code == 302
    referral = Referral.objects.get()
    staff = Client()
    staff.force_login(cora)
    html = staff.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Sent through the public form" in html and "Oak Park Family Care" in html
    assert AuditEntry.objects.filter(actor=cora, referral_id=referral.pk).exists()
    staff.force_login(lia)
    assert "Oak Park Family Care" not in staff.get(f"/referrals/{referral.pk}/").content.decode()
