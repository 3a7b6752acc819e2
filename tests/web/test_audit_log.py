"""The audit viewer: admins filter, page and export the log; nobody else may open it."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from refloop.core import audit
from refloop.core.audit import Touch
from refloop.core.models import AuditEntry
from refloop.demo import factories as f


def entry(action="referral.read", *, actor=None, at=None, patient_id=None, referral_id=None, **kw):
    return audit.record(
        action,
        Touch("referral", referral_id or "", patient_id=patient_id, referral_id=referral_id),
        actor=actor,
        now=at or dt.datetime(2026, 7, 1, 15, 0, tzinfo=dt.UTC),
        **kw,
    )


def shown_actions(response) -> list[str]:
    return [row.entry.action for row in response.context["rows"]]


def shown_ids(response) -> list[int]:
    return [row.entry.pk for row in response.context["rows"]]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


# --- who may open it ------------------------------------------------------------------


def test_an_admin_sees_the_audit_log(admin_client, cora):
    entry(actor=cora, patient_id=7, referral_id=3)
    response = admin_client.get(reverse("audit"))
    assert response.status_code == 200
    assert "referral.read" in shown_actions(response)


def test_opening_the_audit_log_is_itself_audited_after_the_page_is_read(admin_client, ada, cora):
    shown = entry(actor=cora, patient_id=7, referral_id=3)
    response = admin_client.get(reverse("audit"), {"patient": 7, "page": 1})
    assert shown_ids(response) == [shown.pk]
    viewed = AuditEntry.objects.get(action="audit.viewed")
    assert viewed.actor == ada and viewed.channel == "web"
    assert viewed.detail == {"filters": {"patient_id": 7}, "page": 1}


@pytest.mark.parametrize("username", ["cora", "cliff", "lia", "andy", "pam"])
def test_every_other_role_is_refused_the_audit_log_and_its_export(
    client, request, username, cora, cliff, lia, andy, pam
):
    entry(actor=cora, patient_id=7)
    client.force_login(request.getfixturevalue(username))
    for url in (reverse("audit"), reverse("audit_csv")):
        response = client.get(url)
        assert response.status_code == 403
        assert b"referral.read" not in response.content
    assert not AuditEntry.objects.filter(action="audit.exported").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, org):
    for url in (reverse("audit"), reverse("audit_csv")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


# --- filters --------------------------------------------------------------------------


def test_filtering_by_user_shows_only_that_users_entries(admin_client, cora, lia):
    mine = entry(actor=cora)
    entry(actor=lia)
    response = admin_client.get(reverse("audit"), {"actor": cora.pk})
    assert shown_ids(response) == [mine.pk]


def test_filtering_by_system_shows_entries_without_a_user(admin_client, cora):
    job = entry("referral.sla_breached", actor=None)
    entry(actor=cora)
    response = admin_client.get(reverse("audit"), {"actor": "system"})
    assert shown_ids(response) == [job.pk]


def test_filtering_by_patient_id_shows_only_that_patients_entries(admin_client, cora):
    theirs = entry(actor=cora, patient_id=41)
    entry(actor=cora, patient_id=42)
    response = admin_client.get(reverse("audit"), {"patient": 41})
    assert shown_ids(response) == [theirs.pk]


def test_filtering_by_referral_number_shows_that_referrals_entries(admin_client, cora, referral):
    other = entry(actor=cora, referral_id=referral.pk + 1000)
    response = admin_client.get(reverse("audit"), {"referral": referral.number.lower()})
    ids = shown_ids(response)
    assert ids and other.pk not in ids
    assert {row.entry.referral_id for row in response.context["rows"]} == {referral.pk}
    # The referral column names the referral by its number and links to its page.
    assert referral.number in response.content.decode()
    assert reverse("referral_detail", args=[referral.pk]) in response.content.decode()


def test_an_unknown_referral_number_is_refused_beside_the_field(admin_client, org):
    response = admin_client.get(reverse("audit"), {"referral": "R-NOPE-NOPE"})
    assert response.status_code == 400
    assert "No referral has this number." in response.content.decode()
    assert "rows" not in response.context


def test_filtering_by_action_shows_only_that_action(admin_client, cora):
    listed = entry("referral.listed", actor=cora)
    entry("referral.read", actor=cora)
    response = admin_client.get(reverse("audit"), {"action": "referral.listed"})
    assert shown_ids(response) == [listed.pk]


def test_the_action_filter_offers_every_action_in_the_log(admin_client, cora):
    for action in ("referral.read", "auth.login", "referral.accepted", "referral.read"):
        entry(action, actor=cora)
    response = admin_client.get(reverse("audit"))
    offered = [value for value, _ in response.context["form"].fields["action"].choices]
    assert offered == ["", "auth.login", "referral.accepted", "referral.read"]


def test_the_date_range_is_inclusive_local_days_of_the_practice(admin_client, cora):
    # The practice is in America/Chicago: 2026-07-02 local runs 05:00Z to 05:00Z next day.
    before = entry(actor=cora, at=dt.datetime(2026, 7, 2, 4, 59, tzinfo=dt.UTC))
    first = entry(actor=cora, at=dt.datetime(2026, 7, 2, 5, 0, tzinfo=dt.UTC))
    last = entry(actor=cora, at=dt.datetime(2026, 7, 4, 4, 59, tzinfo=dt.UTC))
    after = entry(actor=cora, at=dt.datetime(2026, 7, 4, 5, 0, tzinfo=dt.UTC))
    response = admin_client.get(
        reverse("audit"), {"date_from": "2026-07-02", "date_to": "2026-07-03"}
    )
    assert shown_ids(response) == [last.pk, first.pk]
    assert before.pk not in shown_ids(response) and after.pk not in shown_ids(response)


def test_times_are_shown_in_the_practice_time_zone(admin_client, cora):
    entry(actor=cora, at=dt.datetime(2026, 7, 2, 5, 0, tzinfo=dt.UTC))
    response = admin_client.get(reverse("audit"))
    assert "2026-07-02 00:00:00" in response.content.decode()


def test_an_end_date_before_the_start_date_is_refused(admin_client, org):
    response = admin_client.get(
        reverse("audit"), {"date_from": "2026-07-03", "date_to": "2026-07-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_filters_combine(admin_client, cora, lia):
    wanted = entry("referral.read", actor=cora, patient_id=5)
    entry("referral.read", actor=lia, patient_id=5)
    entry("referral.listed", actor=cora, patient_id=5)
    entry("referral.read", actor=cora, patient_id=6)
    response = admin_client.get(
        reverse("audit"), {"actor": cora.pk, "action": "referral.read", "patient": 5}
    )
    assert shown_ids(response) == [wanted.pk]


# --- order and paging -----------------------------------------------------------------


def test_entries_are_newest_first_fifty_a_page_with_a_next_page_link(admin_client, cora):
    start = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    made = [entry(actor=cora, at=start + dt.timedelta(minutes=i)) for i in range(120)]
    newest_first = [e.pk for e in reversed(made)]

    first = admin_client.get(reverse("audit"), {"actor": cora.pk})
    assert shown_ids(first) == newest_first[:50]
    assert first.context["page"].has_next
    assert "page=2" in first.content.decode()

    third = admin_client.get(reverse("audit"), {"actor": cora.pk, "page": 3})
    assert shown_ids(third) == newest_first[100:]
    assert not third.context["page"].has_next
    assert third.context["page"].has_previous


def test_paging_keeps_the_filters(admin_client, cora):
    for i in range(51):
        entry(
            "auth.login",
            actor=cora,
            at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i),
        )
    response = admin_client.get(reverse("audit"), {"action": "auth.login"})
    assert "?action=auth.login&amp;page=2" in response.content.decode()


def test_a_page_does_not_count_the_whole_log(admin_client, cora, django_assert_max_num_queries):
    for i in range(60):
        entry(actor=cora, at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i))
    # A fixed number whatever the log's size: the session, its clocks and second factor,
    # the page's rows, and the page's own audit entry on its chain.
    with django_assert_max_num_queries(20) as captured:
        admin_client.get(reverse("audit"))
    log_counts = [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and "core_auditentry" in q["sql"]
    ]
    assert log_counts == []


# --- CSV export -----------------------------------------------------------------------


def test_the_export_has_a_header_and_every_matching_row_of_the_filter(
    admin_client, cora, lia, referral
):
    start = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    for i in range(70):
        entry(
            "referral.read",
            actor=cora,
            at=start + dt.timedelta(minutes=i),
            patient_id=referral.patient_id,
            referral_id=referral.pk,
            detail={"n": i},
        )
    entry("referral.read", actor=lia, at=start)

    response = admin_client.get(reverse("audit_csv"), {"actor": cora.pk, "action": "referral.read"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header == [
        "time_utc",
        "time_local",
        "actor_id",
        "actor",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "referral_id",
        "referral_number",
        "channel",
        "ip_address",
        "detail",
    ]
    assert len(body) == 70  # all of them, not one page
    newest = dict(zip(header, body[0], strict=True))
    assert newest["actor"] == "cora"
    assert newest["time_utc"] == "2026-07-01T01:09:00+00:00"
    assert newest["time_local"] == "2026-06-30T20:09:00-05:00"
    assert newest["patient_id"] == str(referral.patient_id)
    assert newest["referral_number"] == referral.number
    assert newest["detail"] == '{"n":69}'


def test_the_export_is_audited_with_its_filter(admin_client, ada, cora, referral):
    response = admin_client.get(
        reverse("audit_csv"),
        {"actor": cora.pk, "referral": referral.number, "date_from": "2026-07-01"},
    )
    b"".join(response.streaming_content)
    exported = AuditEntry.objects.get(action="audit.exported")
    assert exported.actor == ada
    assert exported.channel == "web"
    assert exported.detail == {
        "filters": {"actor": cora.pk, "referral_id": referral.pk, "date_from": "2026-07-01"}
    }
    assert exported.patient_id is None


def test_an_exported_cell_cannot_become_a_spreadsheet_formula(admin_client, org):
    entry(actor=f.UserFactory(username="=SUM(1)"))
    rows = csv_rows(admin_client.get(reverse("audit_csv"), {"action": "referral.read"}))
    assert rows[1][3] == "'=SUM(1)"


# --- no patient data in URLs ----------------------------------------------------------


def test_no_patient_name_or_birth_date_appears_in_any_link(admin_client, cora, referral):
    entry(actor=cora, patient_id=referral.patient_id, referral_id=referral.pk)
    patient = referral.patient
    response = admin_client.get(reverse("audit"), {"patient": patient.pk})
    html = response.content.decode()
    hrefs = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert hrefs
    for href in hrefs:
        assert patient.last_name not in href
        assert patient.first_name not in href
        assert patient.date_of_birth.isoformat() not in href
    # The filter form asks for ids and numbers only.
    assert set(response.context["form"].fields) == {
        "actor",
        "action",
        "patient",
        "referral",
        "date_from",
        "date_to",
    }
