"""The ledger's and the events' pages, the Stark limits under Settings, and the compliance
officer checkbox on a user."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refloop.core import reauth
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.outreach import events, ledger
from refloop.outreach.models import Attendee, EventKind, GiftEntry, GiftKind, Overage, StarkLimit

pytestmark = pytest.mark.django_db

D = Decimal
DAY = "2026-03-02"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def olga(org):
    """A coordinator who is also the practice's compliance officer."""
    olga = f.UserFactory(username="olga", role="coordinator")
    olga.compliance_officer = True
    olga.save()
    return olga


@pytest.fixture
def doctor(practice_a):
    return f.ProviderFactory(
        practice=practice_a, credentials="MD", first_name="Ines", last_name="Varga"
    )


def gift_form(person, value, *, kind="gift", description="Book on spine care", **extra):
    field = "provider" if hasattr(person, "npi") else "staff"
    return {
        "recipient": f"{field}:{person.pk}",
        "given_on": DAY,
        "kind": kind,
        "description": description,
        "value": value,
        **extra,
    }


def record_url(view, practice) -> str:
    return f"{reverse(view)}?practice={practice.pk}"


def test_the_record_form_picks_a_practice_then_its_people(lia, practice_a, doctor):
    client = client_for(lia)
    page = client.get(reverse("ledger_record"), {"q": practice_a.name[:6]}).content.decode()
    assert f"?practice={practice_a.pk}" in page
    nurse = f.ProviderFactory(practice=practice_a, credentials="NP", last_name="Nakamura")
    page = client.get(record_url("ledger_record", practice_a)).content.decode()
    assert "Varga, MD · physician: the yearly limit applies" in page
    assert f"{nurse} · no limit" in page
    assert "Cash or cash equivalent" in page


def test_the_cash_choice_is_refused_on_the_form(lia, practice_a, doctor):
    response = client_for(lia).post(
        record_url("ledger_record", practice_a), gift_form(doctor, "20.00", kind="cash")
    )
    assert response.status_code == 422
    assert "42 CFR 411.357(k)(1)" in response.content.decode()
    assert not GiftEntry.objects.exists()


def test_a_gift_near_the_limit_is_recorded_with_the_warning(lia, practice_a, doctor):
    client = client_for(lia)
    response = client.post(record_url("ledger_record", practice_a), gift_form(doctor, "430.00"))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Warning:" in page
    assert "$430.00 of the 2026 limit of $535.00 (80%)" in page
    assert "Book on spine care" in page


@pytest.mark.time_machine(dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC))
def test_done_when_refused_then_accepted_under_the_exception_and_reported(
    lia, olga, practice_a, doctor
):
    """The ledger refuses the gift that would cross the limit, accepts it under the
    exception with a repayment due, and the report shows both."""
    liaison = client_for(lia)
    assert (
        liaison.post(record_url("ledger_record", practice_a), gift_form(doctor, "500.00"))
    ).status_code == 302

    refused = liaison.post(
        record_url("ledger_record", practice_a),
        gift_form(doctor, "60.00", kind="meal", description="Dinner at the CME evening"),
    )
    assert refused.status_code == 409
    said = refused.content.decode()
    assert "$560.00, $25.00 past the limit of $535.00" in said
    assert "compliance officer can record it under the repayment exception" in said
    # The liaison is not the compliance officer: no button for the exception.
    assert "Record under the repayment exception" not in said
    assert GiftEntry.objects.count() == 1
    # ...nor may they use the exception's form.
    assert liaison.get(record_url("ledger_overage_new", practice_a)).status_code == 403

    officer = client_for(olga)
    accepted = officer.post(
        record_url("ledger_overage_new", practice_a),
        gift_form(
            doctor,
            "60.00",
            kind="meal",
            description="Dinner at the CME evening",
            note="The bill came in after the evening.",
        ),
    )
    assert accepted.status_code == 302
    overage = Overage.objects.get()
    assert accepted["Location"] == reverse("ledger_overage", args=[overage.pk])
    assert (overage.excess, overage.repay_by) == (D("25.00"), dt.date(2026, 8, 29))

    report = officer.get(reverse("ledger_report"), {"year": 2026}).content.decode()
    assert "Varga" in report
    assert "$560.00" in report
    assert "excess $25.00, repay by Aug 29, 2026" in report
    assert 'class="pill warn">due<' in report
    assert 'class="pill late">over<' in report
    csv_text = officer.get(reverse("ledger_report_csv"), {"year": 2026}).content.decode()
    assert ",2,560.00,0.00,560.00,535.00,over,25.00,2026-08-29,,0.00,due\r\n" in csv_text
    pdf = officer.get(reverse("ledger_report_pdf"), {"year": 2026})
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_officer_gets_the_exception_button_on_a_refusal(olga, lia, practice_a, doctor):
    ledger.record_gift(
        acting_user=lia,
        recipient=doctor,
        given_on=dt.date(2026, 3, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("535.00"),
    )
    olga.role = "liaison"  # a liaison who is also the compliance officer
    olga.save()
    page = client_for(olga).post(
        record_url("ledger_record", practice_a), gift_form(doctor, "10.00")
    )
    assert page.status_code == 409
    assert "Record under the repayment exception" in page.content.decode()


def test_repayments_are_recorded_by_the_officer_only(lia, olga, practice_a, doctor):
    ledger.record_gift(
        acting_user=lia,
        recipient=doctor,
        given_on=dt.date(2026, 3, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("535.00"),
    )
    _, overage = ledger.record_overage(
        acting_user=olga,
        recipient=doctor,
        given_on=dt.date(2026, 3, 2),
        kind=GiftKind.MEAL,
        description="Dinner",
        value=D("30.00"),
    )
    url = reverse("ledger_overage_repay", args=[overage.pk])
    assert (
        client_for(lia).post(url, {"repaid_on": "2026-04-01", "amount": "30.00"}).status_code == 403
    )
    page = client_for(lia).get(reverse("ledger_overage", args=[overage.pk])).content.decode()
    assert "Record a repayment" not in page
    response = client_for(olga).post(url, {"repaid_on": "2026-04-01", "amount": "30.00"})
    assert response.status_code == 302
    overage.refresh_from_db()
    assert (overage.repaid_amount, overage.repaid_on) == (D("30.00"), dt.date(2026, 4, 1))
    listed = client_for(lia).get(reverse("ledger_overages")).content.decode()
    assert 'class="pill ok">repaid<' in listed


def test_an_unpaid_overage_past_its_date_is_overdue(lia, olga, practice_a, doctor):
    ledger.record_gift(
        acting_user=lia,
        recipient=doctor,
        given_on=dt.date(2025, 2, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("519.00"),
    )
    ledger.record_overage(
        acting_user=olga,
        recipient=doctor,
        given_on=dt.date(2025, 2, 2),
        kind=GiftKind.MEAL,
        description="Dinner",
        value=D("30.00"),
    )
    listed = client_for(lia).get(reverse("ledger_overages")).content.decode()
    assert 'class="pill late">overdue<' in listed


def test_the_list_filters_by_year_practice_and_person(lia, practice_a, practice_b, doctor):
    other = f.ProviderFactory(practice=practice_b, credentials="DO", last_name="Quist")
    for person, on, description in [
        (doctor, dt.date(2026, 2, 1), "Muffins for Varga"),
        (other, dt.date(2026, 2, 2), "Coffee for Quist"),
        (doctor, dt.date(2025, 2, 3), "Old lunch"),
    ]:
        ledger.record_gift(
            acting_user=lia,
            recipient=person,
            given_on=on,
            kind=GiftKind.MEAL,
            description=description,
            value=D("20.00"),
        )
    client = client_for(lia)
    page = client.get(reverse("ledger"), {"year": 2026}).content.decode()
    assert "Muffins for Varga" in page and "Coffee for Quist" in page
    assert "Old lunch" not in page
    page = client.get(reverse("ledger"), {"year": 2026, "practice": practice_b.pk}).content.decode()
    assert "Coffee for Quist" in page and "Muffins for Varga" not in page
    page = client.get(
        reverse("ledger"), {"year": 2025, "person": f"provider:{doctor.pk}"}
    ).content.decode()
    assert "Old lunch" in page and "Muffins" not in page


def test_the_practice_include_renders_each_person_against_the_limit(rf, lia, practice_a, doctor):
    from django.template.loader import render_to_string

    ledger.record_gift(
        acting_user=lia,
        recipient=doctor,
        given_on=dt.date(2026, 2, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("450.00"),
    )
    html = render_to_string(
        "outreach/ledger/_practice_gifts.html",
        {
            "gift_rows": ledger.practice_gifts(practice_a, 2026),
            "gift_year": 2026,
            "practice": practice_a,
        },
    )
    assert "Ines Varga" in html
    assert "$450.00" in html and "$535.00" in html
    assert "84%" in html
    assert 'class="pill warn">warning<' in html


def test_events_pages_invite_mark_and_share(lia, org, practice_a, doctor):
    desk = f.StaffContactFactory(practice=practice_a, name="Rita Desk")
    client = client_for(lia)
    response = client.post(
        f"{reverse('event_new')}?practice={practice_a.pk}",
        {
            "kind": EventKind.LUNCH_AND_LEARN,
            "title": "Spine referrals made simple",
            "starts_at": "2026-04-14T12:00",
            "place": "Their break room",
            "total_cost": "0",
        },
    )
    assert response.status_code == 302
    event = events.Event.objects.get()
    assert event.host_practice == practice_a
    invite = f"{reverse('event_invite', args=[event.pk])}?practice={practice_a.pk}"
    response = client.post(invite, {"people": [f"provider:{doctor.pk}", f"staff:{desk.pk}"]})
    assert response.status_code == 302
    ids = [str(a.pk) for a in Attendee.objects.filter(event=event)]
    attendance = reverse("event_attendance", args=[event.pk])
    assert client.post(attendance, {"attended": ids, "total_cost": "90.00"}).status_code == 302
    assert client.post(attendance, {"attended": ids, "total_cost": "90.00"}).status_code == 302
    assert sorted(GiftEntry.objects.filter(event=event).values_list("value", flat=True)) == [
        D("45.00"),
        D("45.00"),
    ]
    page = client.get(reverse("event", args=[event.pk])).content.decode()
    assert "Spine referrals made simple" in page and "$45.00" in page
    assert "Spine referrals made simple" in client.get(reverse("events")).content.decode()


def test_an_event_share_past_the_limit_names_the_attendee_on_the_page(lia, org, practice_a, doctor):
    ledger.record_gift(
        acting_user=lia,
        recipient=doctor,
        given_on=dt.date(2026, 2, 1),
        kind=GiftKind.GIFT,
        description="Book",
        value=D("530.00"),
    )
    event = events.create_event(
        acting_user=lia,
        kind=EventKind.CME,
        title="CME evening",
        starts_at=timezone.make_aware(dt.datetime(2026, 5, 5, 18, 0), org.zone),
    )
    events.invite(acting_user=lia, event=event, providers=[doctor])
    response = client_for(lia).post(
        reverse("event_attendance", args=[event.pk]),
        {"attended": [str(Attendee.objects.get().pk)], "total_cost": "40.00"},
    )
    assert response.status_code == 409
    assert f"The attendee {doctor}" in response.content.decode()
    assert not GiftEntry.objects.filter(event=event).exists()


def test_an_admin_enters_a_years_limit_from_settings(ada, lia):
    client = client_for(ada)
    assert "Stark limits" in client.get(reverse("settings_home")).content.decode()
    response = client.post(reverse("settings_stark_limits"), {"year": 2027, "amount": "552.00"})
    assert response.status_code == 302
    assert StarkLimit.objects.get(year=2027).amount == D("552.00")
    assert AuditEntry.objects.filter(action="stark_limit.changed").exists()
    assert client_for(lia).get(reverse("settings_stark_limits")).status_code == 403


def _confirmed_admin(ada) -> Client:
    client = client_for(ada)
    session = client.session
    session[reauth.SESSION_KEY] = timezone.now().timestamp()
    session.save()
    return client


def test_an_admin_makes_someone_the_compliance_officer_audited(ada, lia):
    client = _confirmed_admin(ada)
    page = client.get(reverse("settings_user", args=[lia.pk])).content.decode()
    assert "Compliance officer" in page
    response = client.post(
        reverse("settings_user", args=[lia.pk]),
        {
            "first_name": lia.first_name,
            "last_name": lia.last_name,
            "email": lia.email,
            "role": "liaison",
            "compliance_officer": "on",
        },
    )
    assert response.status_code == 302
    lia.refresh_from_db()
    assert lia.compliance_officer is True
    entry = AuditEntry.objects.get(action="user.compliance_officer_changed")
    assert entry.detail["compliance_officer"] == [False, True]


def test_an_admin_cannot_make_themselves_compliance_officer(ada):
    client = _confirmed_admin(ada)
    response = client.post(
        reverse("settings_user", args=[ada.pk]),
        {
            "first_name": ada.first_name,
            "last_name": ada.last_name,
            "email": ada.email,
            "role": "admin",
            "compliance_officer": "on",
        },
    )
    assert response.status_code == 422
    assert "cannot make yourself the compliance officer" in response.content.decode()
    ada.refresh_from_db()
    assert ada.compliance_officer is False


def test_ledger_pages_refuse_roles_without_outreach(cora, andy):
    for user in (cora, andy):
        client = client_for(user)
        for name in ("ledger", "ledger_report", "ledger_overages", "events", "ledger_record"):
            assert client.get(reverse(name)).status_code == 403, (user.username, name)


def test_no_ledger_or_event_page_shows_a_patient_to_the_liaison(lia, referral, doctor):
    event = events.create_event(
        acting_user=lia,
        kind=EventKind.OPEN_HOUSE,
        title="Open house",
        starts_at=timezone.now(),
        host_practice=doctor.practice,
    )
    client = client_for(lia)
    urls = [
        reverse(name)
        for name in (
            "ledger",
            "ledger_record",
            "ledger_overages",
            "ledger_report",
            "ledger_report_csv",
            "events",
            "event_new",
        )
    ]
    urls += [
        reverse("event", args=[event.pk]),
        f"{reverse('ledger_record')}?practice={doctor.practice_id}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Quillfeather" not in response.content, url
