"""The liaison's pages: the home (due visits, tasks, drifting practices, new referrers, my
numbers) in a fixed number of queries, the phone log and its type-ahead, planning a visit,
and the calendar feed at a secret address that a reset retires. No patient anywhere."""

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.templatetags.static import static
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from refloop.core.roles import Role
from refloop.demo import factories as f
from refloop.outreach import activities, tiers
from refloop.outreach.models import (
    Activity,
    ActivityStatus,
    Relationship,
    Task,
    TaskKind,
    Territory,
    Tier,
)
from tests.analytics.history import History
from tests.headers import policy

pytestmark = pytest.mark.django_db

# A name no page text or fixture contains, so "not on the page" cannot pass by coincidence.
PATIENT = {"first_name": "Zephyrine", "last_name": "Quillfeather"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tier_a(practice, *, last_visit_days_ago=None, territory=None):
    last = (
        None if last_visit_days_ago is None else tiers.today() - dt.timedelta(last_visit_days_ago)
    )
    return Relationship.objects.create(
        practice=practice, computed_tier=Tier.A, last_visit_on=last, territory=territory
    )


def send_referrals(history, provider, days_ago: list[int]):
    for days in days_ago:
        day = tiers.today() - dt.timedelta(days=days)
        history.referral(
            f"{day.isoformat()} 10:00", provider=provider, patient=f.patient_data(**PATIENT)
        )


# ---- the home ----------------------------------------------------------------------------


def test_the_home_shows_what_is_due_my_tasks_overdue_first_and_my_numbers(lia, org, practice_a):
    mine = Territory.objects.create(name="North", liaison=lia)
    tier_a(practice_a, last_visit_days_ago=40, territory=mine)
    elsewhere = f.PracticeFactory(name="Somebody Else's Clinic")
    tier_a(elsewhere, territory=Territory.objects.create(name="South"))
    today = tiers.today()
    Task.objects.create(title="Later task", owner=lia, due_on=today + dt.timedelta(days=5))
    Task.objects.create(title="Overdue task", owner=lia, due_on=today - dt.timedelta(days=2))
    Task.objects.create(title="Not my task", due_on=today)

    html = client_for(lia).get(reverse("outreach_home")).content.decode()

    assert "Prairie Family Medicine" in html
    assert "Tier A: a visit every 30 days; last visit 40 days ago, 10 days overdue" in html
    assert "Somebody Else" not in html  # another liaison's territory
    assert html.index("Overdue task") < html.index("Later task")
    assert "Not my task" not in html
    assert re.search(r'data-count="tasks">2<', html)
    assert re.search(r'data-count="cadence-met">0%<', html)


def test_my_numbers_count_my_visits_and_the_cadence_met(lia, org, practice_a, practice_b):
    tier_a(practice_a)
    tier_a(practice_b)
    activities.log_activity(acting_user=lia, practice=practice_a, occurred_on=tiers.today())

    html = client_for(lia).get(reverse("outreach_home")).content.decode()

    assert re.search(r'data-count="visits-week">1<', html)
    assert re.search(r'data-count="cadence-met">50%<', html)


def test_the_home_lists_drifting_practices_and_new_referrers_without_a_patient(
    lia, cora, spine, org
):
    h = History(cora, spine)
    dropping = f.ProviderFactory(practice=f.PracticeFactory(name="Dropping Family Practice"))
    newcomer = f.ProviderFactory(
        practice=f.PracticeFactory(name="Brand New Pediatrics"), last_name="Newcombe"
    )
    send_referrals(h, dropping, [100 + 15 * i for i in range(24)])  # two a month, none lately
    send_referrals(h, newcomer, [5])
    h.rebuild()
    tiers.refresh_tiers()

    html = client_for(lia).get(reverse("outreach_home")).content.decode()

    drifting = html[html.index('id="drifting"') : html.index('id="thank"')]
    assert "Dropping Family Practice" in drifting
    assert "Brand New Pediatrics" not in drifting
    thank = html[html.index('id="thank"') : html.index('id="calendar"')]
    assert "Brand New Pediatrics" in thank and "Newcombe" in thank
    assert "Dropping Family Practice" not in thank
    assert "Quillfeather" not in html and "Zephyrine" not in html


def _statements(user) -> int:
    client = client_for(user)
    client.get(reverse("outreach_home"))  # warm: sessions, settings rows
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("outreach_home")).status_code == 200
    return len(captured)


def test_the_home_takes_the_same_number_of_queries_whatever_the_rows(lia, org):
    territory = Territory.objects.create(name="North", liaison=lia)

    def plant(n: int):
        for _ in range(n):
            practice = f.PracticeFactory()
            tier_a(practice, last_visit_days_ago=45, territory=territory)
            Task.objects.create(title="Call", owner=lia, practice=practice, due_on=tiers.today())
            activities.plan_visit(
                acting_user=lia,
                practice=practice,
                starts_at=dt.datetime.combine(
                    tiers.today() + dt.timedelta(days=1), dt.time(9), tzinfo=org.zone
                ),
            )

    plant(1)
    few = _statements(lia)
    plant(6)
    assert _statements(lia) == few


def test_only_outreach_roles_open_the_home(cora, andy, lia, org):
    assert client_for(cora).get(reverse("outreach_home")).status_code == 403
    assert client_for(andy).get(reverse("outreach_home")).status_code == 403
    assert client_for(lia).get(reverse("outreach_home")).status_code == 200


# ---- the phone log -----------------------------------------------------------------------


def test_the_log_offers_my_due_visits_and_then_that_practices_people(lia, org, practice_a):
    tier_a(practice_a, last_visit_days_ago=40)
    mine = f.ProviderFactory(practice=practice_a, last_name="Okonkwo")
    f.StaffContactFactory(practice=practice_a, name="Dana Frontdesk")
    f.ProviderFactory(practice=f.PracticeFactory(), last_name="Elsewhereson")
    client = client_for(lia)

    picking = client.get(reverse("outreach_log")).content.decode()
    assert f"?practice={practice_a.pk}" in picking

    form = client.get(reverse("outreach_log"), {"practice": practice_a.pk}).content.decode()
    assert f'value="{mine.pk}"' in form and "Okonkwo" in form
    assert "Dana Frontdesk" in form
    assert "Elsewhereson" not in form
    assert 'value="visit" selected' in form
    assert f'value="{tiers.today().isoformat()}"' in form


def _entry(practice, **fields):
    return {
        "practice": practice.pk,
        "kind": "visit",
        "occurred_on": tiers.today().isoformat(),
        "notes": "Met the new office manager",
        **fields,
    }


def test_a_queued_entry_sent_twice_is_recorded_once(lia, org, practice_a):
    tier_a(practice_a, last_visit_days_ago=40)
    client = client_for(lia)
    entry = _entry(
        practice_a,
        client_key="0b7c6a38-1d1e-4b8e-9a51-3f1e0c2b9d11",
        follow_up="Send the referral pad",
        follow_up_on=(tiers.today() + dt.timedelta(days=3)).isoformat(),
    )

    first = client.post(reverse("outreach_log"), entry, HTTP_ACCEPT="application/json")
    again = client.post(reverse("outreach_log"), entry, HTTP_ACCEPT="application/json")

    assert first.status_code == again.status_code == 200
    assert first.json()["activity"] == again.json()["activity"]
    assert Activity.objects.count() == 1
    assert Task.objects.get().kind == TaskKind.FOLLOW_UP
    assert Relationship.objects.get(practice=practice_a).last_visit_on == tiers.today()


def test_a_refused_entry_answers_a_sentence_to_show_on_the_phone(lia, org, practice_a):
    stranger = f.ProviderFactory(practice=f.PracticeFactory())
    response = client_for(lia).post(
        reverse("outreach_log"),
        _entry(practice_a, providers=[stranger.pk]),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]
    assert not Activity.objects.exists()


def test_an_entry_logged_by_someone_else_on_this_phone_is_not_taken_as_mine(lia, org, practice_a):
    colleague = f.UserFactory(username="colleague", role=Role.LIAISON)
    client = client_for(lia)
    theirs = client.post(
        reverse("outreach_log"),
        _entry(practice_a, logged_by=colleague.pk),
        HTTP_ACCEPT="application/json",
    )
    assert theirs.status_code == 422
    assert "another user" in theirs.json()["error"]
    assert not Activity.objects.exists()
    mine = client.post(
        reverse("outreach_log"),
        _entry(practice_a, logged_by=lia.pk),
        HTTP_ACCEPT="application/json",
    )
    assert mine.status_code == 200 and Activity.objects.get().liaison == lia
    page = client.get(reverse("outreach_log"), {"practice": practice_a.pk}).content.decode()
    assert f'name="logged_by" value="{lia.pk}"' in page


def test_the_log_without_its_script_saves_and_comes_back(lia, org, practice_a):
    response = client_for(lia).post(reverse("outreach_log"), _entry(practice_a))
    assert response.status_code == 302 and response["Location"] == reverse("outreach_log")
    assert Activity.objects.get().liaison == lia


# ---- the log page's service worker ------------------------------------------------------


def test_the_log_pages_worker_is_javascript_never_cached_and_scoped_to_the_log(lia, org):
    worker_url = reverse("outreach_log_worker")
    page = client_for(lia).get(reverse("outreach_log")).content.decode()
    assert f'data-worker="{worker_url}"' in page and 'data-served="network"' in page

    response = Client().get(worker_url)  # nobody signed in: the worker holds no one's data

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    # Its directory is the log page's, so that is its scope with no Service-Worker-Allowed.
    assert worker_url.rsplit("/", 1)[0] + "/" == reverse("outreach_log")
    assert not response.has_header("Service-Worker-Allowed")
    assert policy(response)["worker-src"] == ["'self'"]
    source = response.content.decode()
    assert f'var PAGE = "{reverse("outreach_log")}";' in source
    assert f'var STATIC = "{static("")}";' in source
    assert 'request.method !== "GET"' in source  # a POST is never the worker's


def test_the_worker_drops_a_copy_older_than_the_longest_sign_in(settings):
    settings.SESSION_MAX_HOURS = 2
    source = Client().get(reverse("outreach_log_worker")).content.decode()
    assert f"var MAX_AGE_MS = {2 * 3600 * 1000};" in source


def test_the_browsers_update_checks_of_the_worker_keep_no_session_alive(lia, org):
    """The browser fetches the worker by itself to look for a new version: not activity."""
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = client_for(lia)
        assert client.get(reverse("outreach_log")).status_code == 200
        clock.move_to(start + dt.timedelta(minutes=10))
        assert client.get(reverse("outreach_log_worker")).status_code == 200
        clock.move_to(start + dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES))
        response = client.get(reverse("outreach_log"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_type_ahead_finds_practices_by_name_or_city(lia, org):
    f.PracticeFactory(name="Lakeside Pediatrics", city="Evanston")
    client = client_for(lia)

    def typed(q: str) -> str:  # as the page's htmx asks: the results alone
        search = reverse("outreach_practice_search")
        return client.get(search, {"q": q}, HTTP_HX_REQUEST="true").content.decode()

    by_name, by_city = typed("lakes"), typed("evanst")
    assert "Lakeside Pediatrics" in by_name and "Lakeside Pediatrics" in by_city
    short = typed("l")
    assert "Lakeside" not in short and "two letters" in short


# ---- planning and the calendar feed ------------------------------------------------------


def _calendar_url(client) -> str:
    html = client.post(reverse("outreach_calendar_new")).content.decode()
    return re.search(r'value="(http[^"]+\.ics)"', html).group(1)


def test_a_planned_visit_is_in_my_calendar_feed_and_nothing_of_a_patient(
    lia, cora, spine, org, practice_a
):
    provider = f.ProviderFactory(practice=practice_a)
    f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider,
        patient=f.patient_data(**PATIENT),
    )
    client = client_for(lia)
    day = tiers.today() + dt.timedelta(days=2)
    response = client.post(
        reverse("outreach_plan"), {"practice": practice_a.pk, "starts_at": f"{day}T10:30"}
    )
    assert response.status_code == 302
    planned = Activity.objects.get(status=ActivityStatus.PLANNED)

    feed = Client().get(_calendar_url(client))  # a phone's calendar: no session

    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    assert b"Quillfeather" not in feed.content and b"Zephyrine" not in feed.content
    (event,) = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["summary"]) == "Visit: Prairie Family Medicine"
    assert event.decoded("dtstart") == planned.starts_at
    assert event.decoded("dtstart").astimezone(org.zone).time() == dt.time(10, 30)


def test_resetting_the_calendar_address_retires_the_old_one(lia, org):
    client = client_for(lia)
    old = _calendar_url(client)
    assert Client().get(old).status_code == 200
    new = _calendar_url(client)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


def test_a_cancelled_visit_leaves_the_feed(lia, org, practice_a):
    client = client_for(lia)
    starts = dt.datetime.combine(tiers.today() + dt.timedelta(days=1), dt.time(9), tzinfo=org.zone)
    planned = activities.plan_visit(acting_user=lia, practice=practice_a, starts_at=starts)
    url = _calendar_url(client)
    assert len(Calendar.from_ical(Client().get(url).content).walk("VEVENT")) == 1
    activities.cancel_activity(acting_user=lia, activity=planned)
    assert Calendar.from_ical(Client().get(url).content).walk("VEVENT") == []


def test_the_feed_is_only_the_owners_planned_visits(lia, ada, org, practice_a):
    starts = dt.datetime.combine(tiers.today() + dt.timedelta(days=1), dt.time(9), tzinfo=org.zone)
    activities.plan_visit(acting_user=ada, practice=practice_a, starts_at=starts)
    url = _calendar_url(client_for(lia))
    assert Calendar.from_ical(Client().get(url).content).walk("VEVENT") == []


# ---- changing an activity ----------------------------------------------------------------


def test_a_planned_visit_marked_done_resets_the_cadence(lia, org, practice_a):
    tier_a(practice_a, last_visit_days_ago=40)
    starts = dt.datetime.combine(tiers.today(), dt.time(9), tzinfo=org.zone)
    planned = activities.plan_visit(acting_user=lia, practice=practice_a, starts_at=starts)
    client = client_for(lia)
    assert f"/outreach/activities/{planned.pk}/" in client.get("/outreach/").content.decode()

    response = client.post(
        reverse("outreach_activity", args=[planned.pk]),
        {"kind": "visit", "status": "done", "occurred_on": tiers.today().isoformat()},
    )

    assert response.status_code == 302
    assert Activity.objects.get().status == ActivityStatus.DONE
    assert Relationship.objects.get(practice=practice_a).last_visit_on == tiers.today()


def test_cancelling_from_the_page_takes_the_visit_back(lia, org, practice_a):
    visit, _ = activities.log_activity(
        acting_user=lia, practice=practice_a, occurred_on=tiers.today()
    )
    response = client_for(lia).post(reverse("outreach_activity_cancel", args=[visit.pk]))
    assert response.status_code == 302
    assert Activity.objects.get().status == ActivityStatus.CANCELLED
    assert Relationship.objects.get(practice=practice_a).last_visit_on is None


def test_another_liaison_finds_no_such_activity(lia, org, practice_a):
    visit, _ = activities.log_activity(
        acting_user=lia, practice=practice_a, occurred_on=tiers.today()
    )
    lou = f.UserFactory(username="lou", role="liaison")
    client = client_for(lou)
    assert client.get(reverse("outreach_activity", args=[visit.pk])).status_code == 404
    assert client.post(reverse("outreach_activity_cancel", args=[visit.pk])).status_code == 404
    assert Activity.objects.get().status == ActivityStatus.DONE


def test_no_outreach_page_shows_the_liaison_a_patient(lia, cora, spine, org, practice_a):
    provider = f.ProviderFactory(practice=practice_a)
    referral = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider,
        patient=f.patient_data(**PATIENT),
    )
    tier_a(practice_a, last_visit_days_ago=40)
    starts = dt.datetime.combine(tiers.today(), dt.time(9), tzinfo=org.zone)
    planned = activities.plan_visit(acting_user=lia, practice=practice_a, starts_at=starts)
    client = client_for(lia)
    pages = [
        reverse("outreach_home"),
        reverse("outreach_log"),
        f"{reverse('outreach_log')}?practice={practice_a.pk}",
        f"{reverse('outreach_practice_search')}?q={practice_a.name[:5]}",
        f"{reverse('outreach_practice_search')}?q={practice_a.name[:5]}&to=task",
        f"{reverse('outreach_task_new')}?practice={practice_a.pk}",
        f"{reverse('outreach_plan')}?practice={practice_a.pk}",
        reverse("outreach_activity", args=[planned.pk]),
        _calendar_url(client),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "Quillfeather" not in body and "Zephyrine" not in body, url
        assert referral.patient.date_of_birth.isoformat() not in body, url


def test_the_database_cuts_the_due_list_as_the_whole_list_would_be_cut(org):
    """The home and the log read only the rows they show (a limit, a window, a count in
    SQL): each is the matching slice of the whole list judged practice by practice."""
    from refloop.outreach.models import OutreachSettings

    settings = OutreachSettings.current()
    today = tiers.today()
    for tier in (Tier.A, Tier.B, Tier.C, Tier.PROSPECT):
        cadence = settings.cadence(tier)
        # Either side of "due within a week" and of "overdue", and never visited.
        for n, days_ago in enumerate(
            (None, cadence - 8, cadence - 7, cadence - 6, cadence, cadence + 1, cadence + 30, None)
        ):
            Relationship.objects.create(
                practice=f.PracticeFactory(name=f"{tier} practice {7 - n}"),
                computed_tier=tier,
                last_visit_on=None if days_ago is None else today - dt.timedelta(days=days_ago),
            )
    Relationship.objects.create(
        practice=f.PracticeFactory(name="Overridden"),
        computed_tier=Tier.C,
        tier_override=Tier.A,
        last_visit_on=today - dt.timedelta(days=25),
    )
    judged = [
        tiers.standing(r, today, settings)
        for r in Relationship.objects.select_related("practice")
        if r.tier != Tier.PROSPECT
    ]
    whole = sorted(
        (d for d in judged if d.due_on <= today + dt.timedelta(days=tiers.DUE_SOON_DAYS)),
        key=lambda d: (-d.overdue_days, d.due_on, d.practice.name),
    )
    names = lambda dues: [d.practice.name for d in dues]  # noqa: E731
    everyone = Relationship.objects.all()
    assert len(whole) == 3 * 7 + 1  # per tier A-C: two never, -7, -6, at, past, long past
    assert names(tiers.due_visits(everyone, on=today)) == names(whole)
    assert names(tiers.due_visits(everyone, on=today, limit=5)) == names(whole[:5])
    assert names(tiers.due_visits(everyone, on=today, within_days=0, limit=50)) == names(
        [d for d in whole if d.due_on <= today]
    )
    assert names(tiers.due_visits(everyone, on=today, after=today, limit=3)) == names(
        [d for d in whole if d.due_on > today][:3]
    )
    assert tiers.count_due(everyone, on=today) == len(whole)


@pytest.mark.parametrize(
    ("clock", "shown", "hidden"),
    [
        # In the evening the morning's visit, not yet marked done, is still on the home page.
        ((21, 30), [(0, 9)], [(-1, 9)]),
        # Just after midnight, last evening's visit still is.
        ((0, 30), [(-1, 20)], [(-1, 9)]),
    ],
)
def test_the_days_planned_visits_stay_on_the_home_page_until_marked(
    lia, org, practice_a, clock, shown, hidden
):
    now = dt.datetime.combine(dt.date(2026, 3, 4), dt.time(*clock), tzinfo=org.zone)

    def plan(days, hour):
        starts = dt.datetime.combine(now.date() + dt.timedelta(days=days), dt.time(hour))
        return activities.plan_visit(
            acting_user=lia, practice=practice_a, starts_at=starts.replace(tzinfo=org.zone)
        ).pk

    with time_machine.travel(now - dt.timedelta(days=2), tick=False):
        wanted, unwanted = [plan(*at) for at in shown], [plan(*at) for at in hidden]
    with time_machine.travel(now, tick=False):
        page = client_for(lia).get("/outreach/").content.decode()
    for pk in wanted:
        assert f"/outreach/activities/{pk}/" in page
    for pk in unwanted:
        assert f"/outreach/activities/{pk}/" not in page
