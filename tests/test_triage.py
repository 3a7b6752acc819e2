"""Triage and routing of every new referral: fit against the department's intake criteria,
missing documents, department and round-robin assignee, possible duplicates and merging."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from refloop.core.errors import Conflict, InvalidInput, NotAllowed
from refloop.core.roles import Role
from refloop.demo import factories as f
from refloop.referrals import services
from refloop.referrals.models import Fit, ReferralEvent, State
from refloop.referrals.triage import possible_duplicate
from tests import samples

PDF = samples.pdf()
CHICAGO = ZoneInfo("America/Chicago")  # OrganizationFactory's time zone
# The patients' ages below are on this day: born 1960 is 65, born 2015 is 11.
RECEIVED = dt.datetime(2026, 3, 3, 10, 0, tzinfo=CHICAGO)


@pytest.fixture
def knee(org):
    return f.DepartmentFactory(
        code="knee",
        name="Knee",
        accepted_conditions=["M17", "S83"],
        accepted_keywords=["knee"],
        excluded_conditions=["M17.0"],
        excluded_keywords=["pregnant"],
        accepted_insurances=["Blue Cross", "Medicare"],
        min_age=18,
        max_age=80,
        required_documents=["imaging"],
    )


def referral_to(department, cora, provider_a, **fields):
    values = {
        "patient": f.patient_data(insurance_payer="Medicare", date_of_birth=dt.date(1960, 5, 1)),
        "reason": "Right knee pain, worse on stairs",
        "icd10_codes": ["M17.11"],
        "department": department,
        "now": RECEIVED,
        **fields,
    }
    return f.make_referral(acting_user=cora, referring_provider=provider_a, **values)


def test_accepted_condition_with_documents_missing_needs_review(knee, cora, provider_a):
    referral = referral_to(knee, cora, provider_a)
    assert referral.fit == Fit.NEEDS_REVIEW
    assert referral.missing_documents == ["imaging"]
    assert any("needs imaging" in r for r in referral.fit_reasons)
    assert any("M17.11 is a condition Knee accepts" in r for r in referral.fit_reasons)


def test_attaching_the_required_document_makes_it_a_fit(knee, cora, provider_a):
    referral = referral_to(knee, cora, provider_a)
    services.add_attachment(
        referral,
        acting_user=cora,
        upload=ContentFile(PDF, name="mri.pdf"),
        filename="mri.pdf",
        kind="imaging",
        now=RECEIVED + dt.timedelta(hours=1),
    )
    referral.refresh_from_db()
    assert referral.fit == Fit.FIT and referral.missing_documents == []


def test_age_turns_over_at_the_practices_midnight_not_at_midnight_utc(knee, cora, provider_a):
    # At 21:00 and 23:00 in Chicago it is already the next day in UTC, the patient's 18th
    # birthday; in the practice it is still the day before.
    patient = f.patient_data(insurance_payer="Medicare", date_of_birth=dt.date(2008, 3, 4))
    with time_machine.travel(dt.datetime(2026, 3, 3, 21, 0, tzinfo=CHICAGO), tick=False):
        referral = referral_to(knee, cora, provider_a, patient=patient, now=None)
    assert "The patient is 17; Knee sees ages 18–80." in referral.fit_reasons
    with time_machine.travel(dt.datetime(2026, 3, 3, 23, 0, tzinfo=CHICAGO), tick=False):
        services.add_attachment(
            referral,
            acting_user=cora,
            upload=ContentFile(PDF, name="mri.pdf"),
            filename="mri.pdf",
            kind="imaging",
        )
    referral.refresh_from_db()
    assert referral.fit == Fit.NOT_FIT
    assert "The patient is 17; Knee sees ages 18–80." in referral.fit_reasons


@pytest.mark.parametrize(
    ("fields", "finding"),
    [
        ({"icd10_codes": ["M17.0"]}, "does not take (M17.0)"),
        ({"reason": "Knee pain; patient is pregnant"}, "“pregnant” in the reason"),
        (
            {"patient": f.patient_data(insurance_payer="Acme Health")},
            "does not accept the insurance “Acme Health”",
        ),
        (
            {
                "patient": f.patient_data(
                    insurance_payer="Medicare", date_of_birth=dt.date(2015, 1, 1)
                )
            },
            "Knee sees ages 18–80",
        ),
    ],
)
def test_an_excluded_finding_makes_it_not_fit(knee, cora, provider_a, fields, finding):
    referral = referral_to(knee, cora, provider_a, **fields)
    assert referral.fit == Fit.NOT_FIT
    assert any(finding in reason for reason in referral.fit_reasons), referral.fit_reasons


def test_missing_insurance_asks_for_review_where_only_some_payers_are_taken(knee, cora, provider_a):
    patient = f.patient_data(insurance_payer="", date_of_birth=dt.date(1960, 5, 1))
    referral = referral_to(knee, cora, provider_a, patient=patient)
    assert referral.fit == Fit.NEEDS_REVIEW
    assert any("No insurance given" in r for r in referral.fit_reasons)


def test_nothing_confirming_the_fit_asks_for_review(spine, cora, provider_a):
    referral = f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        department=spine,
        icd10_codes=["Z00.00"],
        reason="Check-up",
    )
    assert referral.fit == Fit.NEEDS_REVIEW
    assert any("not among the conditions Spine lists" in r for r in referral.fit_reasons)


def test_no_department_found_asks_someone_to_choose(org, cora, provider_a):
    referral = f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        department=None,
        icd10_codes=[],
        reason="Please see",
    )
    assert referral.department is None and referral.fit == Fit.NEEDS_REVIEW
    assert referral.fit_reasons == ["No department matched: choose one."]


def test_department_is_suggested_from_the_codes_when_none_is_given(knee, spine, cora, provider_a):
    referral = f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        department=None,
        icd10_codes=["M54.16"],
    )
    assert referral.department == spine
    triaged = referral.events.get(kind="referral.triaged")
    assert triaged.data["department"] == "spine" and triaged.data["fit"] == referral.fit


def test_new_referrals_go_round_robin_to_the_departments_coordinators(knee, cora, provider_a):
    first = f.UserFactory(username="kim", role=Role.COORDINATOR, departments=[knee])
    second = f.UserFactory(username="kai", role=Role.COORDINATOR, departments=[knee])
    f.UserFactory(username="kit", role=Role.CLINICIAN, departments=[knee])
    f.UserFactory(username="kip", role=Role.COORDINATOR, departments=[knee], is_active=False)
    assignees = [referral_to(knee, cora, provider_a).assignee for _ in range(4)]
    assert assignees == [first, second, first, second]
    routed = ReferralEvent.objects.filter(kind="referral.assigned", data__routed=True)
    assert routed.count() == 4


def test_without_coordinators_the_point_of_contact_gets_it(knee, cora, provider_a):
    lead = f.UserFactory(username="lee", role=Role.CLINICIAN, departments=[knee])
    knee.point_of_contact = lead
    knee.save()
    assert referral_to(knee, cora, provider_a).assignee == lead


def test_an_assignee_chosen_at_intake_is_kept(knee, cora, provider_a):
    f.UserFactory(username="kim", role=Role.COORDINATOR, departments=[knee])
    assert referral_to(knee, cora, provider_a, assignee=cora).assignee == cora


def test_same_patient_from_same_practice_within_30_days_is_flagged(spine, cora, provider_a):
    now = timezone.now()
    born = dt.date(1971, 3, 9)
    first = f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        patient=f.patient_data(first_name="José", last_name="Núñez", date_of_birth=born),
        now=now - dt.timedelta(days=29),
    )
    again = f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        patient=f.patient_data(first_name="jose", last_name="NUNEZ", date_of_birth=born),
        now=now,
    )
    assert again.possible_duplicate_of == first
    assert again.events.filter(kind="referral.duplicate_flagged", data__of=first.number).exists()


def test_other_practice_or_older_than_30_days_is_not_a_duplicate(
    spine, cora, provider_a, provider_b
):
    now = timezone.now()
    patient = f.patient_data(date_of_birth=dt.date(1980, 1, 2))
    f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        patient=patient,
        now=now - dt.timedelta(days=31),
    )
    elsewhere = f.make_referral(
        acting_user=cora, referring_provider=provider_b, patient=patient, now=now
    )
    later = f.make_referral(
        acting_user=cora, referring_provider=provider_a, patient=patient, now=now
    )
    assert elsewhere.possible_duplicate_of is None
    assert later.possible_duplicate_of is None
    assert possible_duplicate(later) is None


@pytest.fixture
def pair(spine, cora, provider_a):
    patient = f.patient_data(date_of_birth=dt.date(1975, 7, 7))
    first = f.make_referral(acting_user=cora, referring_provider=provider_a, patient=patient)
    second = f.make_referral(acting_user=cora, referring_provider=provider_a, patient=patient)
    assert second.possible_duplicate_of == first
    return first, second


def test_merge_cancels_the_duplicate_and_keeps_both_timelines(pair, cora):
    first, second = pair
    services.add_note(second, acting_user=cora, text="Called twice about this")
    kept = services.merge_duplicate(
        second, into=first, acting_user=cora, expected_version=second.version + 1
    )
    second.refresh_from_db()
    assert kept == first
    assert second.state == State.CANCELLED and second.end_reason == "duplicate"
    assert second.merged_into == first
    # Nothing was moved or lost: each referral keeps its own events.
    assert second.events.filter(kind="referral.note_added").exists()
    assert second.events.filter(kind="referral.merged_into", data__into=first.number).exists()
    assert first.events.filter(kind="referral.merged", data__merged=second.number).exists()


def test_merge_refuses_a_stale_page_a_second_merge_and_itself(pair, cora):
    first, second = pair
    with pytest.raises(Conflict):
        services.merge_duplicate(second, into=first, acting_user=cora, expected_version=99)
    services.merge_duplicate(second, into=first, acting_user=cora)
    with pytest.raises(Conflict, match="already merged"):
        services.merge_duplicate(second, into=first, acting_user=cora)
    with pytest.raises(InvalidInput, match="itself"):
        services.merge_duplicate(first, into=first, acting_user=cora)
    with pytest.raises(InvalidInput, match="merged away"):
        services.merge_duplicate(first, into=second, acting_user=cora)


def test_liaison_cannot_merge(pair, lia):
    first, second = pair
    with pytest.raises(NotAllowed, match="may not work referrals"):
        services.merge_duplicate(second, into=first, acting_user=lia)
    second.refresh_from_db()
    assert second.merged_into is None


def test_an_accepted_keyword_routes_a_referral_without_codes(knee, spine, cora, provider_a):
    referral = f.make_referral(
        acting_user=cora,
        referring_provider=provider_a,
        department=None,
        icd10_codes=[],
        reason="Twisted her knee skiing, swelling for two weeks",
    )
    assert referral.department == knee
    triaged = referral.events.get(kind="referral.triaged")
    assert triaged.data["department"] == "knee"
