"""Each role's start page (refloop.workspace.start): where `home` sends a signed-in user,
and the lists and counts each page is built from."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging.models import Message
from refloop.referrals import transitions
from refloop.referrals.models import State
from refloop.referrals.reports import write_progress_report
from refloop.workspace import start

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def referral_in(state: str, *, cora, department, provider, now=None, **fields):
    referral = f.make_referral(
        acting_user=cora, department=department, referring_provider=provider, now=now, **fields
    )
    return f.advance(referral, state, acting_user=cora, now=now)


# ---- which page -------------------------------------------------------------------------


def test_the_practice_manager_starts_on_the_practice_at_a_glance(ada):
    response = client_for(ada).get("/")
    assert response.status_code == 200
    assert "The practice at a glance" in response.content.decode()


def test_the_coordinator_starts_on_the_worklist(cora):
    response = client_for(cora).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("worklist")


def test_the_clinician_starts_on_their_decisions_and_reports(cliff):
    response = client_for(cliff).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your decisions" in html and "Reports to write" in html


def test_the_liaison_starts_on_the_outreach_home_not_the_worklist(lia):
    response = client_for(lia).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach_home")


def test_the_analyst_starts_on_the_analytics_dashboard(andy):
    response = client_for(andy).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics_dashboard")


def test_the_referring_office_starts_on_the_portal(pam):
    response = client_for(pam).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("portal_home")


# ---- the clinician's lists --------------------------------------------------------------


def test_decisions_are_the_referrals_in_review_in_the_clinicians_departments(
    cora, cliff, spine, hand, provider_a
):
    waiting = referral_in(State.IN_REVIEW, cora=cora, department=spine, provider=provider_a)
    referral_in(State.RECEIVED, cora=cora, department=spine, provider=provider_a)
    referral_in(State.ACCEPTED, cora=cora, department=spine, provider=provider_a)
    elsewhere = referral_in(State.IN_REVIEW, cora=cora, department=hand, provider=provider_a)
    assert list(start.decisions_for(cliff)) == [waiting]
    assert elsewhere not in start.decisions_for(cliff)


def test_urgent_decisions_come_before_routine_ones(cora, cliff, spine, provider_a):
    routine = referral_in(State.IN_REVIEW, cora=cora, department=spine, provider=provider_a)
    urgent = referral_in(
        State.IN_REVIEW, cora=cora, department=spine, provider=provider_a, urgency="urgent"
    )
    assert list(start.decisions_for(cliff)) == [urgent, routine]


def test_reports_to_write_are_the_seen_referrals_without_a_progress_report(
    cora, cliff, spine, provider_a
):
    waiting = referral_in(State.SEEN, cora=cora, department=spine, provider=provider_a)
    written = referral_in(State.SEEN, cora=cora, department=spine, provider=provider_a)
    write_progress_report(written, acting_user=cliff, findings="Stable.", plan="Physio.")
    assert list(start.reports_to_write(cliff)) == [waiting]


def test_a_report_past_its_week_counts_as_overdue(cora, cliff, spine, provider_a):
    now = timezone.now()
    referral_in(
        State.SEEN, cora=cora, department=spine, provider=provider_a, now=now - dt.timedelta(days=9)
    )
    referral_in(State.SEEN, cora=cora, department=spine, provider=provider_a)
    work = start.clinician_work(cliff, now=now)
    assert (work.reports_total, work.reports_overdue) == (2, 1)
    assert work.reports[0].badge.level == "late"


def test_the_clinicians_page_names_the_patient_and_audits_the_rows_it_shows(
    cora, cliff, spine, provider_a, referral
):
    transitions.start_review(referral, acting_user=cora)
    html = client_for(cliff).get("/").content.decode()
    assert referral.number in html and "Quillfeather" in html
    assert reverse("referral_detail", args=[referral.pk]) in html
    assert AuditEntry.objects.filter(
        action="referral.listed", actor=cliff, referral_id=referral.pk
    ).exists()


def test_another_departments_clinician_sees_nothing_of_it(cora, hana, referral):
    transitions.start_review(referral, acting_user=cora)
    html = client_for(hana).get("/").content.decode()
    assert referral.number not in html and "Quillfeather" not in html
    assert "No referral is waiting for your decision" in html


def test_roles_without_clinical_decisions_have_no_decisions(lia, andy, pam, referral, cora):
    transitions.start_review(referral, acting_user=cora)
    for user in (lia, andy, pam):
        assert not start.decisions_for(user).exists()
        assert not start.reports_to_write(user).exists()


# ---- the practice at a glance -----------------------------------------------------------


def failed_message(referral, n: int) -> Message:
    return Message.objects.create(
        referral=referral,
        rule="referrer.acknowledgment",
        audience="referrer",
        recipient="provider:1",
        recipient_label="Dr. Example",
        channel="fax",
        body="We received your referral.",
        dedupe_key=f"test|failed|{n}",
        due_at=referral.received_at,
        created_at=referral.received_at,
        status="failed",
        attempts=3,
        reason="The fax line was busy.",
    )


def test_the_glance_counts_failed_messages(ada, referral):
    failed_message(referral, 1)
    failed_message(referral, 2)
    assert start.practice_glance(ada).failed_messages == 2


def test_a_breach_counts_when_its_clock_fell_due_within_the_week(ada, cora, spine, provider_a):
    now = timezone.now()
    recent = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        now=now - dt.timedelta(days=3),
    )
    old = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        now=now - dt.timedelta(days=30),
    )
    on_time = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    assert recent.first_contact_due_at < now  # the target is shorter than three days
    breaches = start.sla_breaches(ada, now=now)
    assert recent in breaches and old not in breaches and on_time not in breaches
    glance = start.practice_glance(ada, now=now)
    assert (glance.breaches_total, glance.breaches_open) == (1, 1)
    assert [b.number for b in glance.breaches] == [recent.number]


def test_a_late_report_is_a_breach_too(ada, cora, spine, provider_a):
    now = timezone.now()
    seen = referral_in(
        State.SEEN,
        cora=cora,
        department=spine,
        provider=provider_a,
        now=now - dt.timedelta(days=10),  # first contact due 8 days ago: outside the week
    )
    assert seen in start.sla_breaches(ada, now=now)
    [breach] = start.practice_glance(ada, now=now).breaches
    assert breach.clock == "Report to the referrer"


def test_staff_without_a_second_factor_are_listed_and_those_with_one_are_not(ada, cora, cliff, pam):
    TOTPDevice.objects.create(user=cora, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=cliff, name="unfinished", confirmed=False)
    without = set(start.staff_without_second_factor())
    assert cliff in without and ada in without
    assert cora not in without
    assert pam not in without  # portal users are not the practice's staff
    glance = start.practice_glance(ada)
    names = {p.name for p in glance.without_second_factor}
    assert {u.get_full_name() or u.username for u in (ada, cliff)} <= names
    assert (cora.get_full_name() or cora.username) not in names
    assert glance.without_second_factor_required >= 1  # the admin always needs one


def test_the_glance_page_shows_numbers_links_and_no_patient(ada, cora, referral):
    failed_message(referral, 1)
    html = client_for(ada).get("/").content.decode()
    assert 'data-count="failed-messages">1<' in html
    assert reverse("outbox") + "?status=failed" in html
    assert reverse("message_settings") in html and reverse("audit") in html
    assert "Quillfeather" not in html
