"""Reads through the Django admin are audited: every row of a list, and the object of a
change, history or delete page."""

import pytest
from django.urls import reverse

from refloop.core.models import AuditEntry


@pytest.fixture
def superuser(ada):
    ada.is_staff = ada.is_superuser = True
    ada.save(update_fields=["is_staff", "is_superuser"])
    return ada


@pytest.fixture
def admin_site(client, superuser):
    client.force_login(superuser)
    return client


def admin_reads():
    return AuditEntry.objects.filter(action="admin.read").order_by("pk")


def test_a_changelist_records_a_read_of_each_row_it_shows(admin_site, superuser, cora, lia):
    response = admin_site.get(reverse("admin:core_user_changelist"))
    assert response.status_code == 200
    reads = admin_reads()
    assert {(r.object_type, r.object_id) for r in reads} == {
        ("core.user", str(user.pk)) for user in (superuser, cora, lia)
    }
    assert {(r.actor_id, r.channel) for r in reads} == {(superuser.pk, "web")}
    assert reads[0].detail == {"view": "core_user_changelist"}


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_an_object_page_records_a_read_of_that_object(admin_site, superuser, cora, view):
    response = admin_site.get(reverse(f"admin:core_user_{view}", args=[cora.pk]))
    assert response.status_code == 200
    read = admin_reads().get()
    assert (read.object_type, read.object_id, read.actor_id) == (
        "core.user",
        str(cora.pk),
        superuser.pk,
    )
    assert read.detail == {"view": f"core_user_{view}"}


def test_reading_the_audit_log_in_the_admin_is_audited(admin_site, cora):
    response = admin_site.get(reverse("admin:core_auditentry_changelist"))
    assert response.status_code == 200
    assert admin_reads().filter(object_type="core.auditentry").exists()


def test_admin_pages_that_show_no_object_record_nothing(admin_site):
    assert admin_site.get(reverse("admin:index")).status_code == 200
    assert admin_site.get(reverse("admin:core_user_add")).status_code == 200
    assert not admin_reads().exists()


def test_a_refused_admin_page_records_no_read(client, cora):
    client.force_login(cora)  # not staff: sent to the admin's sign-in
    response = client.get(reverse("admin:core_user_changelist"))
    assert response.status_code == 302
    assert not admin_reads().exists()
