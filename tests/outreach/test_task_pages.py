"""The liaison's task pages and the outreach analytics page, from both sides of each rule."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from refloop.core.errors import InvalidInput, NotAllowed
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.outreach import signals, task_services, tiers
from refloop.outreach.models import Activity, ActivityKind, Relationship, Task, TaskKind, Tier
from refloop.outreach.tiers import today
from refloop.referrals.models import ReferralEvent

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def titles(response) -> list[str]:
    return [row["task"].title for row in response.context["rows"]]


def test_my_tasks_are_mine_and_all_tasks_filter_with_overdue_first(lia, ada):
    on = today()
    practice = f.PracticeFactory(name="Filter Clinic")
    Task.objects.create(title="Later", owner=lia, due_on=on + timedelta(days=5))
    Task.objects.create(title="Overdue", owner=lia, due_on=on - timedelta(days=2))
    Task.objects.create(title="No date", owner=lia)
    Task.objects.create(title="Ada's", owner=ada, due_on=on, practice=practice)
    Task.objects.create(
        title="Nobody's", kind=TaskKind.DECLINING, due_on=on, practice=practice, signal_key="x"
    )
    Task.objects.create(title="Closed", owner=lia, status="done")
    client = client_for(lia)

    mine = client.get(reverse("outreach_tasks"))
    assert titles(mine) == ["Overdue", "Later", "No date"]
    assert "2 days overdue" in mine.content.decode()

    everyone = client.get(reverse("outreach_tasks"), {"show": "all"})
    assert titles(everyone)[0] == "Overdue"
    assert set(titles(everyone)) == {"Overdue", "Later", "No date", "Ada's", "Nobody's"}
    unassigned = client.get(reverse("outreach_tasks"), {"show": "all", "owner": "none"})
    assert titles(unassigned) == ["Nobody's"]
    by_kind = client.get(reverse("outreach_tasks"), {"show": "all", "kind": "declining"})
    assert titles(by_kind) == ["Nobody's"]
    by_practice = client.get(reverse("outreach_tasks"), {"show": "all", "practice": practice.pk})
    assert set(titles(by_practice)) == {"Ada's", "Nobody's"}
    done = client.get(reverse("outreach_tasks"), {"status": "done"})
    assert titles(done) == ["Closed"]


def test_a_task_by_hand_goes_to_a_liaison_or_admin_and_its_practice_follows_its_person(
    lia, ada, cora
):
    practice = f.PracticeFactory(name="Hand Made Clinic")
    provider = f.ProviderFactory(practice=practice)
    elsewhere = f.ProviderFactory(practice=f.PracticeFactory(name="Elsewhere"))
    client = client_for(lia)
    assert client.get(reverse("outreach_task_new"), {"practice": practice.pk}).status_code == 200

    refused = client.post(
        reverse("outreach_task_new"), {"title": "Lunch", "owner": cora.pk, "due_on": ""}
    )
    assert refused.status_code == 400
    assert "owner" in refused.context["form"].errors  # only liaisons and admins are offered
    with pytest.raises(InvalidInput, match="Choose a liaison or an admin"):
        task_services.create_task(acting_user=lia, title="Lunch", owner=cora)
    with pytest.raises(NotAllowed):
        task_services.create_task(acting_user=cora, title="Lunch", owner=lia)
    wrong_practice = client.post(
        reverse("outreach_task_new"),
        {"title": "Lunch", "owner": ada.pk, "practice": practice.pk, "provider": elsewhere.pk},
    )
    assert wrong_practice.status_code == 400
    assert "is not at Hand Made Clinic" in wrong_practice.content.decode()
    assert not Task.objects.exists()

    made = client.post(
        reverse("outreach_task_new"),
        {
            "title": "Lunch with Dr. Who",
            "owner": ada.pk,
            "due_on": "2031-01-02",
            "provider": provider.pk,
        },
    )
    assert made.status_code == 302
    task = Task.objects.get()
    assert (task.owner, task.practice, task.provider, task.created_by) == (
        ada,
        practice,
        provider,
        lia,
    )
    assert (task.kind, str(task.due_on)) == (TaskKind.MANUAL, "2031-01-02")
    assert AuditEntry.objects.filter(action="outreach_task.created").count() == 1


def test_the_new_task_form_finds_its_practice_by_type_ahead_not_in_a_list_of_all(lia, ada):
    wanted = f.PracticeFactory(name="Typeahead Orthopedics", city="Quincy")
    provider = f.ProviderFactory(practice=wanted, last_name="Wantedsdoctor")
    other = f.PracticeFactory(name="Not Listed Clinic")
    f.ProviderFactory(practice=other, last_name="Otherdoctor")
    client = client_for(lia)

    blank = client.get(reverse("outreach_task_new")).content.decode()
    assert '<select name="practice"' not in blank
    assert "Typeahead Orthopedics" not in blank and "Not Listed Clinic" not in blank
    assert 'name="to" value="task"' in blank  # the log page's type-ahead, sent to this page

    # Without a script: the search form sends, and a whole page comes back with the results.
    search = reverse("outreach_practice_search")
    page = client.get(search, {"q": "typeahead", "to": "task"}).content.decode()
    chosen = f"{reverse('outreach_task_new')}?practice={wanted.pk}"
    assert "<html" in page and chosen in page
    assert 'value="typeahead"' in page  # the search field keeps what was typed
    assert "Not Listed Clinic" not in page
    # With htmx: the results alone, for the page's list.
    fragment = client.get(
        search, {"q": "typeahead", "to": "task"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and chosen in fragment

    picked = client.get(chosen).content.decode()
    assert "Typeahead Orthopedics" in picked
    assert f'name="practice" value="{wanted.pk}"' in picked
    assert "Wantedsdoctor" in picked and "Otherdoctor" not in picked

    made = client.post(
        reverse("outreach_task_new"),
        {"title": "Bring the spine pad", "owner": ada.pk, "practice": wanted.pk},
    )
    assert made.status_code == 302
    assert Task.objects.get().practice == wanted
    # Refused, it comes back with the practice kept and only its people offered.
    again = client.post(
        reverse("outreach_task_new"), {"title": "", "owner": ada.pk, "practice": wanted.pk}
    )
    assert again.status_code == 400
    body = again.content.decode()
    assert f'name="practice" value="{wanted.pk}"' in body
    assert "Wantedsdoctor" in body and "Otherdoctor" not in body
    assert provider.pk == again.context["form"].fields["provider"].queryset.get().pk


def test_done_cancelled_reopened_and_reassigned_and_not_by_a_coordinator(lia, ada, cora):
    task = Task.objects.create(title="Call the office", owner=lia)
    client = client_for(lia)

    assert client_for(cora).post(reverse("outreach_task_close", args=[task.pk])).status_code == 403
    client.post(reverse("outreach_task_close", args=[task.pk]), {"status": "done"})
    task.refresh_from_db()
    assert (task.status, task.done_at is not None) == ("done", True)
    again = client.post(
        reverse("outreach_task_close", args=[task.pk]), {"status": "cancelled"}, follow=True
    )
    assert "already done" in again.content.decode()
    client.post(reverse("outreach_task_reopen", args=[task.pk]))
    client.post(reverse("outreach_task_reassign", args=[task.pk]), {"owner": ada.pk})
    task.refresh_from_db()
    assert (task.status, task.owner) == ("open", ada)
    client.post(reverse("outreach_task_reassign", args=[task.pk]), {"owner": cora.pk})
    task.refresh_from_db()
    assert task.owner == ada  # a coordinator does not work outreach
    client.post(reverse("outreach_task_close", args=[task.pk]), {"status": "cancelled"})
    task.refresh_from_db()
    assert task.status == "cancelled"


def test_signal_tasks_show_referral_numbers_never_the_patient(lia, referral):
    event = ReferralEvent.objects.get(referral=referral, kind="referral.received")
    signals.on_referral_received(event)
    Task.objects.update(owner=lia)

    page = client_for(lia).get(reverse("outreach_tasks")).content.decode()

    assert "Thank-you note to Prairie Family Medicine" in page
    assert referral.number in page
    assert "Quillfeather" not in page and "Zephyrine" not in page


def test_outreach_analytics_for_outreach_and_analytics_roles_only(lia, andy, ada, pam, referral):
    relationship = Relationship.objects.create(
        practice=referral.referring_practice, tier_override=Tier.A
    )
    Activity.objects.create(
        kind=ActivityKind.VISIT,
        practice=relationship.practice,
        liaison=lia,
        occurred_on=today() - timedelta(days=3),
        cost="42.50",
    )
    tiers.note_contact(relationship.practice_id)

    page = client_for(lia).get(reverse("outreach_analytics"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Referral lift after a visit" in text
    assert "Too few visited practices to say" in text  # the visit's 90 days after are not over
    assert "$42.50" in text
    cadence = {row.label: (row.practices, row.met) for row in page.context["cadence"]}
    assert cadence["Tier A"] == (1, 1)
    assert "Quillfeather" not in text

    assert client_for(andy).get(reverse("outreach_analytics")).status_code == 200
    assert client_for(pam).get(reverse("outreach_analytics")).status_code == 403
    assert Client().get(reverse("outreach_analytics")).status_code == 302
