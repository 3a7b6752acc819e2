"""The capabilities and scopes core/roles.py answers, per role, from both sides."""

from datetime import time

import pytest

from refloop.core.errors import Conflict, NotAllowed
from refloop.core.roles import (
    ASSIGNABLE_ROLES,
    Capability,
    ReferralScope,
    Role,
    can,
    referral_scope,
    role_among,
    roles_with,
)
from refloop.demo import factories as f
from refloop.messaging import services
from refloop.messaging.models import Preference, RuleSetting, Template
from refloop.messaging.rules import RULES
from refloop.referrals.services import create_outbound_referral


def test_only_practice_staff_use_the_workspace_and_only_portal_users_the_portal(
    ada, cora, cliff, lia, andy, pam
):
    for user in (ada, cora, cliff, lia, andy):
        assert can(user, Capability.USE_WORKSPACE) and not can(user, Capability.USE_PORTAL)
    assert can(pam, Capability.USE_PORTAL) and not can(pam, Capability.USE_WORKSPACE)


def test_admins_coordinators_and_clinicians_hold_referrals(ada, cora, cliff, lia, andy, pam):
    assert ASSIGNABLE_ROLES == (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)
    assert all(can(u, Capability.HOLD_REFERRALS) for u in (ada, cora, cliff))
    assert not any(can(u, Capability.HOLD_REFERRALS) for u in (lia, andy, pam))


def test_clinicians_see_their_departments_portal_users_their_practice(ada, cora, cliff, lia, pam):
    assert {referral_scope(u) for u in (ada, cora, lia)} == {ReferralScope.ALL}
    assert referral_scope(cliff) == ReferralScope.DEPARTMENTS
    assert referral_scope(pam) == ReferralScope.PRACTICE


def test_an_inactive_user_has_no_scope_and_no_role_among_any(cora):
    cora.is_active = False
    assert referral_scope(cora) == ReferralScope.NONE
    assert not role_among(cora, [Role.COORDINATOR])


def test_only_the_analyst_lacks_small_counts_among_analytics_readers(ada, cora, cliff, lia, andy):
    assert all(can(u, Capability.VIEW_SMALL_COUNTS) for u in (ada, cora, cliff, lia))
    assert can(andy, Capability.VIEW_ANALYTICS) and not can(andy, Capability.VIEW_SMALL_COUNTS)


def test_the_bulk_assignees_are_the_roles_that_work_referrals():
    assert roles_with(Capability.HOLD_REFERRALS, Capability.WORK_REFERRALS) == (
        Role.ADMIN,
        Role.COORDINATOR,
    )


# ---- the messaging settings services check the capability themselves ----------------------


def test_only_settings_managers_change_rules_and_wording(ada, cora):
    rule = next(iter(RULES.values()))
    with pytest.raises(NotAllowed):
        services.save_rule_settings(acting_user=cora, wanted={rule.key: (not rule.enabled(), None)})
    with pytest.raises(NotAllowed):
        services.save_template(
            acting_user=cora,
            rule_key=rule.key,
            channel="email",
            language="en",
            subject="",
            body="x",
        )
    assert not RuleSetting.objects.exists() and not Template.objects.exists()
    services.save_template(
        acting_user=ada, rule_key=rule.key, channel="email", language="en", subject=" Hi ", body="x"
    )
    assert Template.objects.get(key=rule.key).subject == "Hi"
    with pytest.raises(NotAllowed):
        services.reset_template(acting_user=cora, rule_key=rule.key, channel="email", language="en")
    assert services.reset_template(
        acting_user=ada, rule_key=rule.key, channel="email", language="en"
    )
    assert not Template.objects.exists()


def _preferences(user, referral):
    return services.save_patient_preferences(
        acting_user=user,
        referral_id=referral.pk,
        preferred_channel="sms",
        opted_out=["email"],
        quiet_start=time(21),
        quiet_end=time(8),
        language="en",
    )


def test_patient_preferences_are_for_staff_who_work_inbound_referrals(referral, cora, cliff):
    with pytest.raises(NotAllowed):
        _preferences(cliff, referral)
    assert _preferences(cora, referral).opted_out == ["email"]


def test_outbound_referrals_keep_no_patient_preferences(cora):
    outbound = create_outbound_referral(
        acting_user=cora,
        patient=f.patient_data(),
        receiving_practice=f.PracticeFactory(name="Lakeview Neurology"),
        reason="Neuropathy work-up",
    )
    with pytest.raises(Conflict, match="inbound referrals"):
        _preferences(cora, outbound)
    assert not Preference.objects.exists()
