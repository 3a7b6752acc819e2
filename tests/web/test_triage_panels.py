"""The referral page's triage: the fit assessment with its reasons, the prefilled request for
missing documents, the possible-duplicate flag and the merge that keeps both timelines."""

import datetime as dt

import pytest

from refloop.demo import factories as f
from refloop.referrals import services
from refloop.referrals.models import Referral, State


@pytest.fixture
def knee(org):
    return f.DepartmentFactory(
        code="knee",
        name="Knee",
        accepted_conditions=["M17"],
        required_documents=["imaging", "referral_letter"],
    )


@pytest.fixture
def knee_referral(knee, cora, provider_a):
    return f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        department=knee,
        icd10_codes=["M17.11"],
        reason="Knee pain",
    )


def page(client, user, referral):
    client.force_login(user)
    return client.get(f"/referrals/{referral.pk}/").content.decode()


def test_page_shows_fit_reasons_and_missing_documents(client, cora, knee_referral):
    html = page(client, cora, knee_referral)
    assert 'id="fit-assessment"' in html and "Needs review" in html
    assert "M17.11 is a condition Knee accepts." in html
    assert "Missing documents:</strong> Imaging, Referral letter" in html
    assert "Request the missing documents" in html


def test_request_for_missing_documents_is_prefilled(client, cora, knee_referral):
    client.force_login(cora)
    form = client.get(f"/referrals/{knee_referral.pk}/move/pending_info").content.decode()
    assert "Knee needs: imaging, referral letter" in form


def test_liaison_sees_no_fit_detail(client, lia, knee_referral):
    html = page(client, lia, knee_referral)
    assert "fit-assessment" not in html and "M17.11" not in html


@pytest.fixture
def pair(spine, cora, provider_a):
    patient = f.patient_data(date_of_birth=dt.date(1975, 7, 7))
    first = f.make_referral(acting_user=cora, referring_provider=provider_a, patient=patient)
    second = f.make_referral(acting_user=cora, referring_provider=provider_a, patient=patient)
    services.add_note(second, acting_user=cora, text="Faxed again by their front desk")
    return first, Referral.objects.get(pk=second.pk)


def test_duplicate_flag_merges_into_the_first_and_shows_both_timelines(client, cora, pair):
    first, second = pair
    html = page(client, cora, second)
    assert 'id="duplicate-flag"' in html and f"Merge into {first.number}" in html
    response = client.post(
        f"/referrals/{second.pk}/merge", {"expected_version": second.version, "into": first.pk}
    )
    assert response.status_code == 302 and response["Location"] == f"/referrals/{first.pk}/"
    second.refresh_from_db()
    assert second.state == State.CANCELLED and second.merged_into_id == first.pk
    kept = page(client, cora, first)
    assert "Faxed again by their front desk" in kept  # the duplicate's timeline, shown here
    assert f"on {second.number}" in kept
    assert "Merged a duplicate into this referral" in kept
    gone = page(client, cora, second)
    assert 'id="merged-into"' in gone and 'id="duplicate-flag"' not in gone


def test_merge_from_a_stale_page_changes_nothing(client, cora, pair):
    first, second = pair
    client.force_login(cora)
    response = client.post(
        f"/referrals/{second.pk}/merge",
        {"expected_version": second.version - 1, "into": first.pk},
        follow=True,
    )
    assert "changed since you loaded it" in response.content.decode()
    second.refresh_from_db()
    assert second.merged_into_id is None and second.state == State.RECEIVED


def test_clinician_sees_the_flag_but_cannot_merge(client, cliff, pair):
    first, second = pair
    html = page(client, cliff, second)
    assert 'id="duplicate-flag"' in html and "Merge into" not in html
    response = client.post(
        f"/referrals/{second.pk}/merge", {"expected_version": second.version, "into": first.pk}
    )
    assert response.status_code == 403


def test_worklist_shows_fit_and_filters_by_it(client, cora, knee_referral, spine, provider_a):
    fitting = f.make_referral(
        acting_user=cora, referring_provider=provider_a, department=spine, icd10_codes=["M54.16"]
    )
    client.force_login(cora)
    html = client.get("/referrals/", {"tab": "all"}).content.decode()
    # The row flags what the fit tells a coordinator: here, the documents not attached.
    assert 'title="Not yet attached: imaging, referral letter">Docs missing' in html
    assert html.count('class="pill flag"') == 1
    only = client.get("/referrals/", {"tab": "all", "fit": "fit"}).content.decode()
    assert fitting.number in only and knee_referral.number not in only
