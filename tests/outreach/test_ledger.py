"""The gift and meal ledger: cash refused, the Stark limit per physician per calendar year,
and the repayment exception, each at its boundary."""

import datetime as dt
from decimal import Decimal

import pytest

from refloop.core.errors import Conflict, InvalidInput, NotAllowed
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.outreach import ledger
from refloop.outreach.models import GiftEntry, GiftKind, Overage, StarkLimit

pytestmark = pytest.mark.django_db

D = Decimal
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def clair(lia):
    clair = f.UserFactory(username="clair", role="coordinator")
    clair.compliance_officer = True
    clair.save()
    return clair


@pytest.fixture
def doctor(practice_a):
    return f.ProviderFactory(practice=practice_a, credentials="MD", last_name="Okafor")


def gift(user, person, value, *, on=DAY, kind=GiftKind.GIFT, description="Fruit basket"):
    return ledger.record_gift(
        acting_user=user,
        recipient=person,
        given_on=on,
        kind=kind,
        description=description,
        value=D(value),
    )


def overage(user, person, value, *, on=DAY, note=""):
    return ledger.record_overage(
        acting_user=user,
        recipient=person,
        given_on=on,
        kind=GiftKind.MEAL,
        description="Dinner after the CME evening",
        value=D(value),
        note=note,
    )


@pytest.mark.parametrize(
    ("credentials", "physician"),
    [
        ("MD", True),
        ("M.D.", True),
        ("DO", True),
        ("D.O., FACOFP", True),
        ("MD/MPH", True),
        ("MD, PhD", True),
        ("DDS", True),
        ("DMD", True),
        ("DPM", True),
        ("OD", True),
        ("DC", True),
        ("NP", False),
        ("PA-C", False),
        ("RN", False),
        ("DNP, FNP-BC", False),
        ("PharmD", False),
        ("", True),  # not entered yet: held to the limit until someone does
        ("  ", True),
    ],
)
def test_physicians_are_those_stark_names(credentials, physician):
    assert ledger.is_physician(credentials) is physician


def test_the_2026_limit_is_seeded():
    assert StarkLimit.objects.get(year=2026).amount == D("535.00")


def test_the_cash_choice_is_refused_with_the_rule(lia, doctor):
    with pytest.raises(InvalidInput) as refused:
        gift(lia, doctor, "25.00", kind=ledger.CASH, description="Thank you")
    assert "42 CFR 411.357(k)(1)" in refused.value.message
    assert "1320a-7b(b)" in refused.value.message
    assert not GiftEntry.objects.exists()


@pytest.mark.parametrize(
    "description",
    ["Starbucks gift card", "Amazon e-gift", "A check for the team", "$20 cash", "Prepaid Visa"],
)
def test_a_cash_equivalent_named_in_the_description_is_refused(lia, practice_a, description):
    staff = f.StaffContactFactory(practice=practice_a)
    with pytest.raises(InvalidInput) as refused:
        gift(lia, staff, "20.00", description=description)
    assert refused.value.field == "description"
    assert not GiftEntry.objects.exists()


def test_words_that_only_contain_cash_are_not_refused(lia, doctor):
    assert gift(lia, doctor, "30.00", description="Cashew tin and a cashmere throw").entry.pk


def test_the_total_may_reach_the_limit_exactly(lia, doctor):
    gift(lia, doctor, "500.00")
    recorded = gift(lia, doctor, "35.00")
    assert recorded.total == D("535.00")
    assert recorded.state == "warning"


def test_one_cent_past_the_limit_is_refused(lia, doctor):
    gift(lia, doctor, "535.00")
    with pytest.raises(ledger.OverLimit) as refused:
        gift(lia, doctor, "0.01")
    assert "$535.01" in refused.value.message
    assert "42 CFR 411.357(k)" in refused.value.message
    assert refused.value.excess == D("0.01")
    assert GiftEntry.objects.count() == 1


def test_the_warning_starts_at_80_percent(lia, doctor):
    # 80% of $535.00 is $428.00.
    below = gift(lia, doctor, "427.99")
    assert below.warning == ""
    assert below.state == "ok"
    at = gift(lia, doctor, "0.01")
    assert at.state == "warning"
    assert "$428.00 of the 2026 limit of $535.00 (80%)" in at.warning
    assert "$107.00 is left" in at.warning


def test_years_are_calendar_years(lia, doctor):
    gift(lia, doctor, "519.00", on=dt.date(2025, 12, 31))  # 2025's limit
    assert gift(lia, doctor, "535.00", on=dt.date(2026, 1, 1)).total == D("535.00")


def test_non_physicians_are_tracked_without_a_limit(lia, practice_a):
    nurse = f.ProviderFactory(practice=practice_a, credentials="NP")
    coordinator = f.StaffContactFactory(practice=practice_a)
    for person in (nurse, coordinator):
        recorded = gift(lia, person, "900.00")
        assert recorded.limit is None
        assert recorded.entry.physician is False
    assert GiftEntry.objects.count() == 2


def test_the_physician_flag_is_kept_as_it_was(lia, doctor):
    entry = gift(lia, doctor, "40.00").entry
    doctor.credentials = "NP"
    doctor.save()
    entry.refresh_from_db()
    assert entry.physician is True


def test_a_year_without_a_limit_is_refused_until_an_admin_enters_it(lia, ada, doctor):
    with pytest.raises(Conflict) as refused:
        gift(lia, doctor, "20.00", on=dt.date(2027, 1, 4))
    assert "Stark limit for 2027 is not entered" in refused.value.message
    ledger.set_limit(acting_user=ada, year=2027, amount=D("550.00"))
    assert gift(lia, doctor, "20.00", on=dt.date(2027, 1, 4)).limit == D("550.00")
    assert AuditEntry.objects.filter(action="stark_limit.changed").count() == 1


def test_only_an_admin_sets_the_limit(lia):
    with pytest.raises(NotAllowed):
        ledger.set_limit(acting_user=lia, year=2027, amount=D("550.00"))


def test_a_liaison_cannot_record_an_overage(lia, doctor):
    gift(lia, doctor, "535.00")
    with pytest.raises(NotAllowed):
        overage(lia, doctor, "10.00")


def test_an_admin_is_not_a_compliance_officer_by_role(ada, doctor):
    with pytest.raises(NotAllowed):
        overage(ada, doctor, "10.00")


def test_the_exception_covers_an_excess_of_exactly_half_the_limit(lia, clair, doctor):
    gift(lia, doctor, "535.00")
    recorded, found = overage(clair, doctor, "267.50")
    assert found.excess == D("267.50")
    assert recorded.total == D("802.50")
    assert found.repay_by == dt.date(2026, 8, 29)  # 180 days after March 2
    assert AuditEntry.objects.filter(action="gift.overage_recorded").count() == 1


def test_the_exception_refuses_half_the_limit_and_a_cent(lia, clair, doctor):
    gift(lia, doctor, "535.00")
    with pytest.raises(Conflict) as refused:
        overage(clair, doctor, "267.51")
    assert "411.357(k)(3)(i)" in refused.value.message
    assert not Overage.objects.exists()
    with pytest.raises(ledger.OverLimit) as refused_gift:
        gift(lia, doctor, "267.51")
    assert refused_gift.value.exception_possible is False


def test_the_exception_is_not_for_a_gift_within_the_limit(lia, clair, doctor):
    gift(lia, doctor, "500.00")
    with pytest.raises(Conflict) as refused:
        overage(clair, doctor, "35.00")
    assert "record it as an ordinary gift" in refused.value.message


@pytest.mark.parametrize(
    ("given_on", "repay_by"),
    [
        (dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        (dt.date(2026, 7, 3), dt.date(2026, 12, 30)),
        (dt.date(2026, 7, 4), dt.date(2026, 12, 31)),  # both the same day
        (dt.date(2026, 7, 5), dt.date(2026, 12, 31)),  # the year ends first
        (dt.date(2026, 12, 31), dt.date(2026, 12, 31)),
    ],
)
def test_repayment_is_due_by_the_earlier_of_180_days_and_the_year_end(given_on, repay_by):
    assert ledger.repay_by(given_on) == repay_by


@pytest.mark.parametrize(
    ("earlier", "refused"),
    [
        (dt.date(2023, 3, 3), True),  # one day short of three years
        (dt.date(2023, 3, 2), False),  # exactly three years before
        (dt.date(2023, 1, 10), False),
    ],
)
def test_the_exception_is_once_every_three_years(lia, clair, doctor, earlier, refused):
    gift(lia, doctor, "489.00", on=earlier)
    overage(clair, doctor, "10.00", on=earlier)
    gift(lia, doctor, "535.00")
    if refused:
        with pytest.raises(Conflict) as said:
            overage(clair, doctor, "10.00")
        assert "once every 3 years" in said.value.message
        assert Overage.objects.count() == 1
    else:
        overage(clair, doctor, "10.00")
        assert Overage.objects.count() == 2


def test_the_three_years_are_counted_per_physician(lia, clair, doctor, practice_a):
    other = f.ProviderFactory(practice=practice_a, credentials="DO")
    gift(lia, doctor, "535.00")
    overage(clair, doctor, "10.00")
    gift(lia, other, "535.00")
    assert overage(clair, other, "10.00")[1].provider == other


def test_a_repayment_lowers_the_total_and_is_tracked(lia, clair, doctor):
    gift(lia, doctor, "500.00")
    _, found = overage(clair, doctor, "100.00")
    assert ledger.overage_state(found, dt.date(2026, 8, 29)) == "due"
    assert ledger.overage_state(found, dt.date(2026, 8, 30)) == "overdue"
    ledger.record_repayment(
        acting_user=clair, overage=found, repaid_on=dt.date(2026, 4, 1), amount=D("40.00")
    )
    found.refresh_from_db()
    assert ledger.overage_state(found, dt.date(2026, 4, 2)) == "due"
    with pytest.raises(InvalidInput) as refused:
        ledger.record_repayment(
            acting_user=clair, overage=found, repaid_on=dt.date(2026, 4, 2), amount=D("25.01")
        )
    assert "$25.00 is left" in refused.value.message
    ledger.record_repayment(
        acting_user=clair, overage=found, repaid_on=dt.date(2026, 4, 2), amount=D("25.00")
    )
    found.refresh_from_db()
    assert found.repaid_amount == D("65.00")
    assert ledger.overage_state(found, dt.date(2026, 12, 1)) == "repaid"
    assert ledger.year_total(doctor.pk, 2026) == D("535.00")
    # Repaid, the physician is at the limit: nothing more this year, and no second exception.
    with pytest.raises(ledger.OverLimit):
        gift(lia, doctor, "0.01")


def test_a_late_repayment_is_shown_as_late(lia, clair, doctor):
    gift(lia, doctor, "535.00")
    _, found = overage(clair, doctor, "20.00", on=dt.date(2026, 11, 2))
    ledger.record_repayment(
        acting_user=clair, overage=found, repaid_on=dt.date(2027, 1, 5), amount=D("20.00")
    )
    found.refresh_from_db()
    assert ledger.overage_state(found, dt.date(2027, 1, 6)) == "repaid late"


def test_practice_gifts_gives_each_person_against_the_limit(lia, practice_a, practice_b, doctor):
    nurse = f.ProviderFactory(practice=practice_a, credentials="PA-C", last_name="Zeller")
    desk = f.StaffContactFactory(practice=practice_a, name="Abby Front")
    gift(lia, doctor, "300.00")
    # A gift at another practice counts towards the physician's year too.
    moved = GiftEntry.objects.get()
    gift(lia, doctor, "130.00")
    GiftEntry.objects.exclude(pk=moved.pk).update(practice=practice_b)
    gift(lia, nurse, "50.00")
    gift(lia, desk, "20.00", kind=GiftKind.MEAL, description="Lunch")
    gift(lia, doctor, "99.00", on=dt.date(2025, 6, 1))
    rows = ledger.practice_gifts(practice_a, 2026)
    assert [(r.name.split()[-1], r.physician, r.total, r.limit, r.state) for r in rows] == [
        ("Okafor", True, D("430.00"), D("535.00"), "warning"),
        ("Front", False, D("20.00"), None, "ok"),
        ("Zeller", False, D("50.00"), None, "ok"),
    ]
    assert rows[0].share == D("430.00") / D("535.00")
    assert ledger.practice_gifts(practice_b, 2025) == []


def test_the_report_shows_the_physician_over_the_limit_and_the_repayment_due(
    lia, clair, doctor, practice_a
):
    staff = f.StaffContactFactory(practice=practice_a)
    gift(lia, doctor, "500.00")
    overage(clair, doctor, "60.00")
    gift(lia, staff, "15.00", kind=GiftKind.MEAL, description="Coffee")
    report = ledger.compliance_report(2026, on=dt.date(2026, 5, 1))
    [row] = report.physicians
    assert row.person.total == D("560.00")
    assert row.person.state == "over"
    [(found, state)] = row.overages
    assert (found.excess, found.repay_by, state) == (D("25.00"), dt.date(2026, 8, 29), "due")
    assert [p.staff for p in report.others] == [staff]


def test_a_year_cms_published_keeps_its_limit_even_with_the_table_emptied():
    StarkLimit.objects.all().delete()
    assert ledger.limit_for(2026) == Decimal("535.00")
    StarkLimit.objects.create(year=2026, amount=Decimal("540.00"))  # an admin's entry wins
    assert ledger.limit_for(2026) == Decimal("540.00")
    with pytest.raises(Conflict):
        ledger.limit_for(2031)
