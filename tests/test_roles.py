"""Each role rule from both sides, enforced in the services and selectors themselves."""

import pytest

from refloop.core.errors import InvalidInput, NotAllowed, NotFound
from refloop.core.roles import Capability, can
from refloop.demo import factories as f
from refloop.referrals import selectors, services, transitions
from refloop.referrals.models import State


@pytest.fixture
def hand_referral(cora, hand, provider_b):
    return f.make_referral(acting_user=cora, department=hand, referring_provider=provider_b)


def visible_ids(user):
    return set(selectors.visible_referrals(user).values_list("pk", flat=True))


def test_coordinator_and_admin_see_every_referral(referral, hand_referral, cora, ada):
    assert visible_ids(cora) == visible_ids(ada) == {referral.pk, hand_referral.pk}


def test_clinicians_see_only_their_departments_referrals(referral, hand_referral, cliff, hana):
    assert visible_ids(cliff) == {referral.pk}
    assert visible_ids(hana) == {hand_referral.pk}


def test_portal_users_see_only_what_their_own_practice_sent(referral, hand_referral, pam, pete):
    assert visible_ids(pam) == {referral.pk}
    assert visible_ids(pete) == {hand_referral.pk}


def test_portal_user_without_a_practice_sees_nothing(referral, org):
    orphan = f.UserFactory(username="orphan", role="portal")
    assert visible_ids(orphan) == set()


def test_liaison_sees_referrals_but_no_clinical_detail(referral, lia, cora):
    assert visible_ids(lia) == {referral.pk}
    assert not selectors.sees_clinical_detail(lia)
    assert selectors.sees_clinical_detail(cora)


def test_analyst_sees_no_referral_at_all(referral, andy):
    assert visible_ids(andy) == set()
    with pytest.raises(NotAllowed):
        selectors.get_referral(andy, referral.pk)
    with pytest.raises(NotAllowed):
        selectors.list_referrals(andy, selectors.ReferralFilters())


def test_inactive_user_loses_every_capability(referral, cora):
    cora.is_active = False
    cora.save()
    assert visible_ids(cora) == set()
    with pytest.raises(NotAllowed):
        transitions.start_review(referral, acting_user=cora)


@pytest.mark.parametrize("creator", ["cora", "ada"])
def test_coordinators_and_admins_create_referrals(request, creator, provider_a):
    user = request.getfixturevalue(creator)
    referral = f.make_referral(acting_user=user, referring_provider=provider_a)
    assert referral.state == State.RECEIVED


@pytest.mark.parametrize("creator", ["cliff", "lia", "andy"])
def test_other_roles_may_not_create_referrals_through_the_staff_service(
    request, creator, provider_a
):
    user = request.getfixturevalue(creator)
    with pytest.raises(NotAllowed, match="may not create referrals"):
        f.make_referral(acting_user=user, referring_provider=provider_a)


def test_portal_user_sends_only_through_the_portal(pam, provider_a):
    with pytest.raises(NotAllowed, match="through the portal"):
        f.make_referral(acting_user=pam, referring_provider=provider_a, channel="phone")
    sent = f.make_referral(acting_user=pam, referring_provider=provider_a, channel="portal")
    assert sent.referring_practice == pam.partner_practice and sent.assignee is None


def test_portal_user_cannot_send_for_another_practice(pam, provider_b):
    with pytest.raises(InvalidInput, match="not one of your practice's providers"):
        f.make_referral(acting_user=pam, referring_provider=provider_b, channel="portal")


def test_public_form_is_the_only_channel_without_an_account(provider_a):
    with pytest.raises(NotAllowed, match="public web form"):
        f.make_referral(acting_user=None, channel="phone", source_type="self")


def test_clinician_decides_on_own_department_referral(referral, cliff):
    assert transitions.accept_referral(referral, acting_user=cliff).state == State.ACCEPTED


def test_clinician_of_another_department_cannot_find_the_referral(referral, hana):
    with pytest.raises(NotFound):
        transitions.accept_referral(referral, acting_user=hana)
    referral.refresh_from_db()
    assert referral.state == State.RECEIVED


@pytest.mark.parametrize("user_name", ["lia", "andy", "pam"])
def test_non_clinical_roles_cannot_decide_on_a_referral(request, referral, user_name):
    with pytest.raises(NotAllowed):
        transitions.accept_referral(referral, acting_user=request.getfixturevalue(user_name))


def test_coordinator_works_scheduling_but_clinician_does_not(referral, cora, cliff):
    accepted = transitions.accept_referral(referral, acting_user=cliff)
    with pytest.raises(NotAllowed, match="may not work referrals"):
        transitions.start_contacting(accepted, acting_user=cliff)
    assert transitions.start_contacting(accepted, acting_user=cora).state == State.CONTACTING


def test_only_workers_record_contact_attempts(referral, cora, cliff, lia):
    services.record_contact_attempt(
        referral, acting_user=cora, channel="phone", outcome="no_answer"
    )
    for outsider in (cliff, lia):
        with pytest.raises(NotAllowed):
            services.record_contact_attempt(
                referral, acting_user=outsider, channel="phone", outcome="no_answer"
            )


def test_notes_by_clinicians_and_coordinators_not_by_liaisons(referral, cora, cliff, lia, hana):
    services.add_note(referral, acting_user=cora, text="Called the office for the MRI")
    services.add_note(referral, acting_user=cliff, text="Looks like L5 radiculopathy")
    with pytest.raises(NotAllowed):
        services.add_note(referral, acting_user=lia, text="x")
    with pytest.raises(NotFound):
        services.add_note(referral, acting_user=hana, text="x")


def test_only_workers_assign_and_only_to_staff(referral, cora, cliff, lia, pam):
    assigned = services.assign_referral(referral, acting_user=cora, assignee=cliff)
    assert assigned.assignee == cliff
    with pytest.raises(NotAllowed):
        services.assign_referral(referral, acting_user=cliff, assignee=cora)
    with pytest.raises(Exception, match="only to an active coordinator"):
        services.assign_referral(referral, acting_user=cora, assignee=lia)
    with pytest.raises(Exception, match="only to an active coordinator"):
        services.assign_referral(referral, acting_user=cora, assignee=pam)


def test_portal_user_may_read_own_practices_referral_but_not_change_it(referral, pam, pete):
    assert selectors.get_referral(pam, referral.pk).pk == referral.pk
    with pytest.raises(NotFound):
        selectors.get_referral(pete, referral.pk)
    with pytest.raises(NotAllowed):
        transitions.cancel_referral(referral, acting_user=pam, reason="referrer_request")


@pytest.mark.parametrize(
    ("user_name", "capability", "expected"),
    [
        ("ada", Capability.VIEW_AUDIT, True),
        ("cora", Capability.VIEW_AUDIT, False),
        ("ada", Capability.MANAGE_SETTINGS, True),
        ("cora", Capability.MANAGE_SETTINGS, False),
        ("lia", Capability.EDIT_DIRECTORY, True),
        ("andy", Capability.EDIT_DIRECTORY, False),
        ("andy", Capability.VIEW_DIRECTORY, True),
        ("pam", Capability.VIEW_DIRECTORY, False),
        ("cliff", Capability.EDIT_DIRECTORY, False),
        ("cora", Capability.EDIT_DIRECTORY, True),
    ],
)
def test_capability_table(request, user_name, capability, expected):
    assert can(request.getfixturevalue(user_name), capability) is expected


def test_referring_practice_staff_do_not_see_internal_notes(referral, cora, pam):
    services.add_note(referral, acting_user=cora, text="Internal: check prior auth before booking")
    staff_view = selectors.get_referral(cora, referral.pk)
    portal_view = selectors.get_referral(pam, referral.pk)
    assert "referral.note_added" in [e.kind for e in staff_view.events.all()]
    assert "referral.note_added" not in [e.kind for e in portal_view.events.all()]


def test_a_role_without_the_capability_is_refused_before_the_file_is_read(referral, lia):
    from django.core.files.uploadedfile import SimpleUploadedFile

    not_a_pdf = SimpleUploadedFile("x.pdf", b"plain text")
    with pytest.raises(NotAllowed):
        services.add_attachment(referral, acting_user=lia, upload=not_a_pdf, filename="x.pdf")
