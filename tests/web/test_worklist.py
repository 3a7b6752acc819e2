"""The worklist: tabs, filters, search, sort, paging, roles, bulk assign and saved filters."""

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.referrals.models import Referral, ReferralEvent
from refloop.referrals.services import assign_referral, record_contact_attempt
from refloop.workspace import worklist
from refloop.workspace.models import SavedFilter

URL = "/referrals/"


@pytest.fixture
def signed_in(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def make(cora, spine, provider_a, *, first="Jose", last="Smith", **fields):
    fields.setdefault("department", spine)
    if fields.get("source_type", "provider") == "provider":
        fields.setdefault("referring_provider", provider_a)
    return f.make_referral(
        acting_user=cora, patient=f.patient_data(first_name=first, last_name=last), **fields
    )


def numbers(response) -> list[str]:
    return re.findall(r'class="row-link">(R-[0-9A-Z]{4}-[0-9A-Z]{4})<', response.content.decode())


def hrefs(response) -> list[str]:
    html = response.content.decode()
    return [unquote(u) for u in re.findall(r'(?:href|action|formaction)="([^"]*)"', html)]


# ---- who may open it ---------------------------------------------------------------


def test_signed_out_visitor_is_sent_to_sign_in(client, org):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["andy", "pam"])
def test_analysts_and_portal_users_are_refused(signed_in, who, request, referral):
    response = signed_in(request.getfixturevalue(who)).get(URL)
    assert response.status_code == 403
    assert referral.number not in response.content.decode()


@pytest.mark.parametrize("who", ["cora", "ada", "cliff", "lia"])
def test_staff_who_see_referrals_may_open_it(signed_in, who, request, org):
    assert signed_in(request.getfixturevalue(who)).get(URL).status_code == 200


# ---- tabs --------------------------------------------------------------------------


def test_coordinator_starts_on_my_referrals_with_only_their_referrals(
    signed_in, cora, ada, spine, provider_a
):
    mine = make(cora, spine, provider_a, assignee=cora)
    make(cora, spine, provider_a, assignee=ada)
    make(cora, spine, provider_a)
    response = signed_in(cora).get(URL)
    assert numbers(response) == [mine.number]
    assert 'aria-current="page">My referrals' in response.content.decode()


def test_unassigned_tab_lists_only_referrals_without_an_assignee(
    signed_in, cora, spine, provider_a
):
    make(cora, spine, provider_a, assignee=cora)
    nobody = make(cora, spine, provider_a)
    assert numbers(signed_in(cora).get(URL, {"tab": "unassigned"})) == [nobody.number]


def test_all_tab_lists_every_open_inbound_referral_but_not_outbound(
    signed_in, cora, ada, spine, provider_a, practice_b
):
    one = make(cora, spine, provider_a, assignee=ada)
    two = make(cora, spine, provider_a)
    closed = f.advance(make(cora, spine, provider_a), "declined", acting_user=cora)
    from refloop.referrals.services import create_outbound_referral

    outbound = create_outbound_referral(
        acting_user=cora, patient=f.patient_data(), receiving_practice=practice_b, reason="Hand"
    )
    shown = numbers(signed_in(cora).get(URL, {"tab": "all"}))
    assert sorted(shown) == sorted([one.number, two.number])
    assert closed.number not in shown and outbound.number not in shown


def test_clinician_starts_on_my_department_and_never_sees_other_departments(
    signed_in, cora, cliff, spine, hand, provider_a
):
    spine_referral = make(cora, spine, provider_a)
    hand_referral = make(cora, hand, provider_a)
    client = signed_in(cliff)
    response = client.get(URL)
    assert numbers(response) == [spine_referral.number]
    assert 'aria-current="page">My department' in response.content.decode()
    # Neither another tab nor a filter naming the other department shows it.
    for params in ({"tab": "all"}, {"tab": "unassigned"}, {"department": hand.pk}):
        assert hand_referral.number not in numbers(client.get(URL, params))
    assert "Hand &amp; Upper Extremity" not in response.content.decode()


def test_coordinator_without_departments_has_no_my_department_tab(signed_in, cora, spine):
    assert "My department" not in signed_in(cora).get(URL).content.decode()


def test_coordinator_who_belongs_to_a_department_gets_that_tab(
    signed_in, cora, spine, hand, provider_a
):
    cora.departments.set([spine])
    in_spine = make(cora, spine, provider_a)
    make(cora, hand, provider_a)
    response = signed_in(cora).get(URL, {"tab": "department"})
    assert numbers(response) == [in_spine.number]


# ---- filters -------------------------------------------------------------------------


@pytest.fixture
def two_referrals(cora, ada, spine, hand, provider_a, provider_b):
    """A referral that matches each filter below and one that matches none of them."""
    match = make(
        cora,
        spine,
        provider_a,
        urgency="urgent",
        channel="phone",
        assignee=ada,
        now=timezone.now() - dt.timedelta(days=3),
    )
    f.advance(match, "in_review", acting_user=cora)
    other = make(
        cora,
        hand,
        provider_b,
        department=hand,
        referring_provider=provider_b,
        urgency="routine",
        channel="fax",
        source_type="self",
        now=timezone.now() - dt.timedelta(days=10),
    )
    return match, other


@pytest.mark.parametrize(
    "param",
    [
        "state",
        "urgency",
        "department",
        "source_type",
        "practice",
        "channel",
        "assignee",
        "received",
    ],
)
def test_each_filter_narrows_the_list(
    signed_in, org, cora, ada, spine, provider_a, two_referrals, param
):
    match, other = two_referrals
    local = timezone.localdate(match.received_at, org.zone)
    values = {
        "state": {"state": "in_review"},
        "urgency": {"urgency": "urgent"},
        "department": {"department": spine.pk},
        "source_type": {"source_type": "provider"},
        "practice": {"practice": provider_a.practice_id},
        "channel": {"channel": "phone"},
        "assignee": {"assignee": ada.pk},
        "received": {
            "received_from": (local - dt.timedelta(days=1)).isoformat(),
            "received_to": (local + dt.timedelta(days=1)).isoformat(),
        },
    }[param]
    client = signed_in(cora)
    assert sorted(numbers(client.get(URL, {"tab": "all"}))) == sorted([match.number, other.number])
    assert numbers(client.get(URL, {"tab": "all", **values})) == [match.number]


def test_closed_and_any_state_filters(signed_in, cora, spine, provider_a):
    open_one = make(cora, spine, provider_a)
    closed = f.advance(make(cora, spine, provider_a), "cancelled", acting_user=cora)
    client = signed_in(cora)
    assert numbers(client.get(URL, {"tab": "all", "state": "closed"})) == [closed.number]
    shown = numbers(client.get(URL, {"tab": "all", "state": "any"}))
    assert sorted(shown) == sorted([open_one.number, closed.number])


def test_a_bad_date_range_is_shown_beside_the_field_and_keeps_what_was_typed(signed_in, cora, org):
    response = signed_in(cora).get(
        URL, {"tab": "all", "received_from": "2026-03-10", "received_to": "2026-03-01"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_received_to_error"' in html
    assert "The end date is before the start date." in html
    assert 'value="2026-03-10"' in html and 'value="2026-03-01"' in html


def test_a_clinician_is_offered_only_their_departments_in_the_filter(signed_in, cliff, spine, hand):
    html = signed_in(cliff).get(URL).content.decode()
    assert f'<option value="{spine.pk}">Spine</option>' in html
    assert f'<option value="{hand.pk}">' not in html


# ---- search --------------------------------------------------------------------------


def test_search_by_patient_name_travels_in_the_post_body_and_folds_accents(
    signed_in, cora, spine, provider_a
):
    smith = make(cora, spine, provider_a, first="José", last="O'Smith")
    make(cora, spine, provider_a, first="Ann", last="Jones")
    client = signed_in(cora)
    response = client.post(URL + "?tab=all", {"q": "jose osmith"})
    assert numbers(response) == [smith.number]
    # While searching, sort and page controls re-post the search instead of linking.
    html = response.content.decode()
    assert 'form="worklist-search" formaction="/referrals/?tab=all&amp;sort=number"' in html
    assert all("smith" not in u.lower() and "jose" not in u.lower() for u in hrefs(response))


def test_search_by_referral_number(signed_in, cora, spine, provider_a):
    wanted = make(cora, spine, provider_a)
    make(cora, spine, provider_a)
    response = signed_in(cora).post(URL + "?tab=all", {"q": wanted.number.lower()})
    assert numbers(response) == [wanted.number]


def test_the_search_form_posts_and_the_filter_form_has_no_free_text(signed_in, cora, org):
    html = signed_in(cora).get(URL).content.decode()
    search = re.search(r'<form id="worklist-search"[^>]*>', html).group(0)
    assert 'method="post"' in search
    filters = html[html.index('class="worklist-filters"') :]
    filters = filters[: filters.index("</form>")]
    assert 'name="q"' not in filters


def test_liaison_sees_summaries_without_patient_names_and_cannot_search_by_name(
    signed_in, cora, lia, spine, provider_a
):
    smith = make(cora, spine, provider_a, first="Zelda", last="Quartermaine")
    client = signed_in(lia)
    response = client.get(URL)
    html = response.content.decode()
    assert numbers(response) == [smith.number]
    assert "Quartermaine" not in html and "Zelda" not in html
    assert ">Patient</a>" not in html
    assert "Referral number or patient name" not in html
    assert numbers(client.post(URL, {"q": "Quartermaine"})) == []
    assert numbers(client.post(URL, {"q": smith.number})) == [smith.number]
    # Sorting by patient is not open to a liaison either.
    assert "sort=patient" not in html


def test_coordinator_sees_patient_names_and_each_row_shown_is_audited(
    signed_in, cora, spine, provider_a
):
    smith = make(cora, spine, provider_a, first="Zelda", last="Quartermaine")
    other = make(cora, spine, provider_a)
    before = AuditEntry.objects.filter(action="referral.listed").count()
    response = signed_in(cora).get(URL, {"tab": "all"})
    assert "Quartermaine, Zelda" in response.content.decode()
    listed = AuditEntry.objects.filter(action="referral.listed", actor=cora)
    assert listed.count() - before == 2
    assert set(listed.values_list("referral_id", flat=True)) == {smith.pk, other.pk}


def test_liaison_list_reads_are_not_patient_reads(signed_in, lia, referral):
    signed_in(lia).get(URL)
    assert not AuditEntry.objects.filter(action="referral.listed", actor=lia).exists()


# ---- sort and paging ---------------------------------------------------------------


def test_columns_sort_both_ways_with_aria_sort(signed_in, cora, spine, provider_a):
    made = [make(cora, spine, provider_a) for _ in range(3)]
    by_number = sorted(r.number for r in made)
    client = signed_in(cora)
    response = client.get(URL, {"tab": "all", "sort": "number"})
    assert numbers(response) == by_number
    assert 'aria-sort="ascending"' in response.content.decode()
    response = client.get(URL, {"tab": "all", "sort": "-number"})
    assert numbers(response) == by_number[::-1]
    assert 'aria-sort="descending"' in response.content.decode()


def test_urgency_sorts_stat_first_and_received_oldest_first(signed_in, cora, spine, provider_a):
    now = timezone.now()
    routine = make(cora, spine, provider_a, urgency="routine", now=now - dt.timedelta(hours=3))
    stat = make(cora, spine, provider_a, urgency="stat", now=now - dt.timedelta(hours=1))
    urgent = make(cora, spine, provider_a, urgency="urgent", now=now - dt.timedelta(hours=2))
    client = signed_in(cora)
    assert numbers(client.get(URL, {"tab": "all", "sort": "urgency"})) == [
        stat.number,
        urgent.number,
        routine.number,
    ]
    assert numbers(client.get(URL, {"tab": "all", "sort": "received"})) == [
        routine.number,
        urgent.number,
        stat.number,
    ]
    # An unknown sort key falls back to the default rather than failing.
    assert client.get(URL, {"tab": "all", "sort": "patient__date_of_birth"}).status_code == 200


def test_by_default_what_needs_action_comes_first(signed_in, cora, spine, provider_a, monkeypatch):
    """The first-contact clock (the coordinator's own) overdue, then due soon, then the
    report clock overdue, then due soon, then urgency, then age; with the targets of 4 h
    (stat), 24 h (urgent) and 48 h (routine). A referral waiting on the referring office
    is not pressed forward by its overdue clock."""
    now = timezone.now()

    def received(hours_ago: float, urgency: str = "routine") -> Referral:
        return make(
            cora, spine, provider_a, urgency=urgency, now=now - dt.timedelta(hours=hours_ago)
        )

    def seen(hours_ago: float) -> Referral:
        """Contacted at once, seen `hours_ago`: the report clock (168 h) is running."""
        referral = received(hours_ago + 30)
        record_contact_attempt(
            referral,
            acting_user=cora,
            channel="phone",
            outcome="reached",
            now=now - dt.timedelta(hours=hours_ago + 29),
        )
        return f.advance(
            referral, "seen", acting_user=cora, now=now - dt.timedelta(hours=hours_ago)
        )

    planted = {
        "routine, waiting 1 h": received(1),
        "report overdue": seen(170),
        "routine, 40 of 48 h": received(40),
        "routine overdue by 2 h": received(50),
        "stat, 1 of 4 h": received(1, "stat"),
        "contacted 100 h ago": received(100),
        "stat overdue": received(6, "stat"),
        "routine overdue by 22 h": received(70),
        "urgent, 20 of 24 h": received(20, "urgent"),
        "report due soon": seen(130),
        "routine, waiting 20 h": received(20),
        "waiting on the referrer, overdue": f.advance(
            received(60), "pending_info", acting_user=cora, now=now - dt.timedelta(hours=59)
        ),
    }
    record_contact_attempt(
        planted["contacted 100 h ago"],
        acting_user=cora,
        channel="phone",
        outcome="reached",
        now=now - dt.timedelta(hours=99),
    )
    expected = [
        # First contact overdue: the most urgent, then the longest waiting.
        "stat overdue",
        "routine overdue by 22 h",
        "routine overdue by 2 h",
        # First contact due soon (three quarters of the target used).
        "urgent, 20 of 24 h",
        "routine, 40 of 48 h",
        # The report clock, overdue then due soon.
        "report overdue",
        "report due soon",
        # Nothing due yet, or nothing to do now.
        "stat, 1 of 4 h",
        "contacted 100 h ago",
        "waiting on the referrer, overdue",
        "routine, waiting 20 h",
        "routine, waiting 1 h",
    ]
    by_number = {r.number: name for name, r in planted.items()}
    client = signed_in(cora)
    response = client.get(URL, {"tab": "all"})
    assert [by_number[n] for n in numbers(response)] == expected
    assert re.search(r'aria-sort="ascending">\s*<a [^>]*>Due', response.content.decode())
    # The same order when asked for by name, and the other way round on a second click.
    assert numbers(client.get(URL, {"tab": "all", "sort": "due"})) == numbers(response)
    reverse = [by_number[n] for n in numbers(client.get(URL, {"tab": "all", "sort": "-due"}))]
    assert reverse == expected[::-1]
    html = response.content.decode()
    # The waiting referral's clock still shows late: it is ordered lower, not hidden.
    assert html.count('class="pill late"') == 5 and html.count('class="pill warn"') == 3
    # Ordered in the database, not on the page: a page goes on where the last one stopped.
    monkeypatch.setattr(worklist, "PAGE_SIZE", 4)
    pages = [numbers(client.get(URL, {"tab": "all", "page": n})) for n in (1, 2, 3)]
    assert [by_number[n] for page in pages for n in page] == expected


def test_the_rows_flag_only_a_poor_fit_or_missing_documents(signed_in, cora, org, provider_a):
    knee = f.DepartmentFactory(
        code="knee", name="Knee", accepted_conditions=["M17"], required_documents=["imaging"]
    )
    hip = f.DepartmentFactory(code="hip", name="Hip", accepted_conditions=["M17"])
    elbow = f.DepartmentFactory(code="elbow", name="Elbow", excluded_conditions=["M17"])
    fitting = make(cora, hip, provider_a, icd10_codes=["M17.11"])
    lacking = make(cora, knee, provider_a, icd10_codes=["M17.11"])
    unfit = make(cora, elbow, provider_a, icd10_codes=["M17.11"])
    assert fitting.fit == "fit"
    html = signed_in(cora).get(URL, {"tab": "all"}).content.decode()
    rows = dict(re.findall(r'class="row-link">([^<]+)</a>(.*?)</tr>', html, re.S))
    assert "pill flag" not in rows[fitting.number]
    assert 'title="Not yet attached: imaging">Docs missing' in rows[lacking.number]
    assert ">Not a fit<" in rows[unfit.number]


def test_paging_shows_fifty_rows_a_page_and_clamps_past_the_end(signed_in, cora, spine, provider_a):
    for _ in range(53):
        make(cora, spine, provider_a)
    client = signed_in(cora)
    first = client.get(URL, {"tab": "all"})
    second = client.get(URL, {"tab": "all", "page": 2})
    assert len(numbers(first)) == 50 and len(numbers(second)) == 3
    assert not set(numbers(first)) & set(numbers(second))
    assert "Page 1 of 2" in first.content.decode()
    assert "/referrals/?tab=all&amp;page=2" in first.content.decode()
    assert numbers(client.get(URL, {"tab": "all", "page": 40})) == numbers(second)
    assert client.get(URL, {"tab": "all", "page": "x"}).status_code == 200


def test_query_count_does_not_grow_with_the_rows_shown(signed_in, cora, ada, spine, provider_a):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"tab": "all"}).status_code == 200
        return len(captured)

    client = signed_in(cora)
    for _ in range(5):
        make(cora, spine, provider_a, assignee=ada)
    few = queries()
    for _ in range(55):
        make(cora, spine, provider_a, assignee=cora, source_type="self")
    assert queries() == few


def test_rows_show_the_first_contact_clock_against_the_urgency_sla(
    signed_in, cora, spine, provider_a
):
    now = timezone.now()
    make(cora, spine, provider_a, urgency="stat", now=now - dt.timedelta(hours=5))
    make(cora, spine, provider_a, urgency="stat", now=now - dt.timedelta(hours=3, minutes=30))
    make(cora, spine, provider_a, urgency="routine", now=now - dt.timedelta(hours=1))
    html = signed_in(cora).get(URL, {"tab": "all"}).content.decode()
    assert html.count('class="pill late"') == 1
    assert html.count('class="pill warn"') == 1
    assert html.count('class="pill ok"') == 1
    assert "1 h of 48 h to first contact" in html


def test_no_patient_data_in_any_link_or_form_address(signed_in, cora, spine, provider_a):
    make(cora, spine, provider_a, first="Zelda", last="Quartermaine")
    SavedFilter.objects.create(user=cora, name="Urgent", params={"urgency": "urgent"})
    response = signed_in(cora).get(URL, {"tab": "all"})
    addresses = " ".join(hrefs(response))
    assert "Quartermaine" not in addresses and "Zelda" not in addresses


# ---- bulk assign -------------------------------------------------------------------


def picked(*referrals) -> list[str]:
    return [f"{r.pk}:{r.version}" for r in referrals]


def test_bulk_assign_assigns_each_and_reports_how_many(signed_in, cora, ada, spine, provider_a):
    one, two = make(cora, spine, provider_a), make(cora, spine, provider_a)
    response = signed_in(cora).post(
        "/referrals/bulk-assign?tab=unassigned",
        {"referral": picked(one, two), "assignee": ada.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/referrals/?tab=unassigned"
    assert {r.assignee_id for r in Referral.objects.filter(pk__in=[one.pk, two.pk])} == {ada.pk}
    assert f"Assigned 2 referrals to {ada.get_full_name()}." in response.content.decode()


def test_bulk_assign_reports_which_failed_and_why_and_assigns_the_rest(
    signed_in, cora, ada, spine, provider_a
):
    fine = make(cora, spine, provider_a)
    declined = f.advance(make(cora, spine, provider_a), "declined", acting_user=cora)
    stale = make(cora, spine, provider_a)
    stale_version = picked(stale)[0]
    assign_referral(stale.pk, acting_user=cora, assignee=cora)  # someone else got there first
    response = signed_in(cora).post(
        "/referrals/bulk-assign?tab=all",
        {"referral": [*picked(fine, declined), stale_version], "assignee": ada.pk},
        follow=True,
    )
    html = response.content.decode()
    assert "Assigned 1 referral to" in html
    assert f"{declined.number} was not assigned: This referral is declined, which is final" in html
    assert f"{stale.number} was not assigned: This referral changed since you loaded it" in html
    assert Referral.objects.get(pk=fine.pk).assignee == ada
    assert Referral.objects.get(pk=stale.pk).assignee == cora


def test_submitting_bulk_assign_twice_assigns_once(signed_in, cora, ada, spine, provider_a):
    one = make(cora, spine, provider_a)
    client = signed_in(cora)
    body = {"referral": picked(one), "assignee": ada.pk}
    client.post("/referrals/bulk-assign?tab=all", body)
    response = client.post("/referrals/bulk-assign?tab=all", body, follow=True)
    assert f"Already with {ada.get_full_name()}: {one.number}." in response.content.decode()
    assert ReferralEvent.objects.filter(referral=one, kind="referral.assigned").count() == 1


def test_bulk_unassign(signed_in, cora, spine, provider_a):
    one = make(cora, spine, provider_a, assignee=cora)
    signed_in(cora).post("/referrals/bulk-assign", {"referral": picked(one), "assignee": "none"})
    assert Referral.objects.get(pk=one.pk).assignee is None


def test_bulk_assign_without_a_choice_shows_errors_and_keeps_the_selection(
    signed_in, cora, spine, provider_a
):
    one = make(cora, spine, provider_a)
    client = signed_in(cora)
    response = client.post("/referrals/bulk-assign?tab=all", {"referral": picked(one)})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_bulk_assignee_error"' in html
    assert (
        f'value="{picked(one)[0]}" form="bulk-assign" aria-label="Select {one.number}" checked'
        in html
    )
    response = client.post("/referrals/bulk-assign?tab=all", {"assignee": cora.pk})
    assert response.status_code == 422
    assert "Select at least one referral to assign." in response.content.decode()
    assert Referral.objects.get(pk=one.pk).assignee is None


@pytest.mark.parametrize("who", ["cliff", "lia"])
def test_roles_that_do_not_work_referrals_may_not_bulk_assign(
    signed_in, who, request, cora, spine, provider_a
):
    one = make(cora, spine, provider_a)
    client = signed_in(request.getfixturevalue(who))
    assert 'id="bulk-assign"' not in client.get(URL).content.decode()
    response = client.post("/referrals/bulk-assign", {"referral": picked(one), "assignee": cora.pk})
    assert response.status_code == 403
    assert Referral.objects.get(pk=one.pk).assignee is None


def test_coordinator_gets_the_bulk_assign_controls(signed_in, cora, referral):
    html = signed_in(cora).get(URL, {"tab": "all"}).content.decode()
    assert 'id="bulk-assign"' in html and f'aria-label="Select {referral.number}"' in html


# ---- saved filters -----------------------------------------------------------------


def test_saving_filters_keeps_tab_filters_and_sort_but_never_the_search_text(
    signed_in, cora, spine
):
    client = signed_in(cora)
    response = client.post(
        f"/referrals/saved-filters?tab=all&urgency=stat&department={spine.pk}&sort=-received&junk=1",
        {"name": "Stat spine", "q": "Quartermaine"},
    )
    saved = SavedFilter.objects.get(user=cora)
    assert saved.name == "Stat spine"
    assert saved.params == {
        "tab": "all",
        "urgency": "stat",
        "department": str(spine.pk),
        "sort": "-received",
    }
    assert response["Location"] == (
        f"/referrals/?tab=all&urgency=stat&department={spine.pk}&sort=-received"
    )
    html = client.get(URL).content.decode()
    assert "Stat spine" in html and "The search text is never saved" in html


def test_saving_under_an_existing_name_replaces_it(signed_in, cora, org):
    client = signed_in(cora)
    client.post("/referrals/saved-filters?urgency=stat", {"name": "Mine"})
    client.post("/referrals/saved-filters?urgency=urgent", {"name": "Mine"})
    assert list(SavedFilter.objects.filter(user=cora).values_list("params", flat=True)) == [
        {"urgency": "urgent"}
    ]


def test_a_saved_filter_needs_a_name_shown_beside_the_field(signed_in, cora, org):
    response = signed_in(cora).post("/referrals/saved-filters?urgency=stat", {"name": "  "})
    assert response.status_code == 422
    assert 'id="id_name_error"' in response.content.decode()
    assert not SavedFilter.objects.exists()


def test_saved_filters_belong_to_their_user(signed_in, cora, ada, org):
    theirs = SavedFilter.objects.create(user=ada, name="Ada's view", params={"tab": "all"})
    client = signed_in(cora)
    assert "Ada&#x27;s view" not in client.get(URL).content.decode()
    client.post(f"/referrals/saved-filters/{theirs.pk}/delete")
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()


def test_deleting_a_saved_filter(signed_in, cora, org):
    mine = SavedFilter.objects.create(user=cora, name="Urgent", params={"urgency": "urgent"})
    client = signed_in(cora)
    response = client.post(f"/referrals/saved-filters/{mine.pk}/delete?tab=all", follow=True)
    assert not SavedFilter.objects.exists()
    assert "Deleted the saved filter." in response.content.decode()
    again = client.post(f"/referrals/saved-filters/{mine.pk}/delete", follow=True)
    assert "already deleted" in again.content.decode()


def test_a_long_list_says_more_than_the_counted_rows_and_still_pages_on(
    signed_in, cora, spine, provider_a, monkeypatch
):
    from refloop.referrals import selectors
    from refloop.workspace import worklist

    monkeypatch.setattr(selectors, "COUNT_CEILING", 3)
    monkeypatch.setattr(worklist, "PAGE_SIZE", 2)
    for i in range(6):
        make(cora, spine, provider_a, last=f"Patient{i}", assignee=cora)
    html = signed_in(cora).get("/referrals/").content.decode()
    assert "Referrals 1–2 of more than 3" in html
    assert "Page 1</li>" in html
    assert 'page=2">Next page<' in html
    last = signed_in(cora).get("/referrals/?page=3").content.decode()
    assert "Referrals 5–6 of 6" in last
    assert "Page 3 of 3" in last
