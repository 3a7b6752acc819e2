"""Secure messages on a referral between the referring practice and the coordinators: only
the two sides read them, and the email that announces one carries no patient data."""

import pytest
from django.core import mail
from django.test import Client

from refloop.core.models import AuditEntry, Notification
from refloop.demo import factories as f
from refloop.messaging.dispatch import dispatch_all_due
from refloop.ops.worker import drain_queue as run_tasks
from refloop.portal.models import PortalMessage
from refloop.portal.staff import messages_panel_context
from refloop.referrals import services
from tests import samples

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "MRI shows L4-L5 herniation, patient anxious"


def drain_queue() -> None:
    """What the worker does: run the queued tasks, then send what they put in the outbox."""
    run_tasks()
    dispatch_all_due()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def assigned(referral, cora):
    return services.assign_referral(referral, acting_user=cora, assignee=cora)


def test_a_portal_message_reaches_the_assignee_without_patient_data(pam, assigned):
    answer = client_for(pam).post(f"/portal/referrals/{assigned.pk}/messages", {"body": SECRET})
    assert answer.status_code == 302
    message = PortalMessage.objects.get()
    assert (message.author, message.from_portal, message.body) == (pam, True, SECRET)
    assert assigned.events.filter(kind="referral.message_posted", actor=pam).exists()
    assert AuditEntry.objects.filter(action="referral.message_posted", actor=pam).exists()
    mail.outbox.clear()
    drain_queue()
    notice = Notification.objects.get(user=assigned.assignee)
    assert assigned.number in notice.text and "Quillfeather" not in notice.text
    [email] = mail.outbox
    assert email.to == [assigned.assignee.email]
    assert email.subject == f"New message about referral {assigned.number}"
    assert f"There is a new message about referral {assigned.number}" in email.body
    assert f"/referrals/{assigned.pk}/" in email.body
    for private in (SECRET, "Quillfeather", "Zephyrine"):
        assert private not in email.subject + email.body


def test_a_coordinators_reply_is_announced_to_the_practice_only(pam, pete, cora, assigned):
    answer = client_for(cora).post(f"/referrals/{assigned.pk}/messages/", {"body": SECRET})
    assert answer.status_code == 302
    mail.outbox.clear()
    drain_queue()
    assert [m.to for m in mail.outbox] == [[pam.email]]
    assert f"/portal/referrals/{assigned.pk}/" in mail.outbox[0].body
    assert SECRET not in mail.outbox[0].body
    page = client_for(pam).get(f"/portal/referrals/{assigned.pk}/").content.decode()
    assert SECRET in page


def test_the_practice_sees_unread_replies_until_it_opens_the_referral(pam, cora, assigned):
    client_for(cora).post(f"/referrals/{assigned.pk}/messages/", {"body": "Please call us"})
    client = client_for(pam)
    assert "1 new message" in client.get("/portal/").content.decode()
    client.get(f"/portal/referrals/{assigned.pk}/")
    assert PortalMessage.objects.get().read_at is not None
    assert "new message" not in client.get("/portal/").content.decode()


def test_staff_read_the_thread_on_an_audited_page_and_it_is_marked_read(pam, cora, assigned):
    client_for(pam).post(f"/portal/referrals/{assigned.pk}/messages", {"body": SECRET})
    before = AuditEntry.objects.filter(action="referral.read", actor=cora).count()
    page = client_for(cora).get(f"/referrals/{assigned.pk}/messages/")
    assert page.status_code == 200 and SECRET in page.content.decode()
    assert AuditEntry.objects.filter(action="referral.read", actor=cora).count() == before + 1
    assert PortalMessage.objects.get().read_at is not None


def test_another_practice_can_neither_read_nor_write_the_thread(pam, pete, assigned):
    client_for(pam).post(f"/portal/referrals/{assigned.pk}/messages", {"body": SECRET})
    client = client_for(pete)
    assert client.get(f"/portal/referrals/{assigned.pk}/messages").status_code == 404
    answer = client.post(f"/portal/referrals/{assigned.pk}/messages", {"body": "hi"})
    assert answer.status_code == 404
    assert PortalMessage.objects.count() == 1
    assert client.get(f"/referrals/{assigned.pk}/messages/").status_code == 403


def test_staff_without_the_referral_cannot_open_its_messages(lia, hana, assigned):
    assert client_for(lia).get(f"/referrals/{assigned.pk}/messages/").status_code == 403
    assert client_for(hana).get(f"/referrals/{assigned.pk}/messages/").status_code == 404
    answer = client_for(hana).post(f"/referrals/{assigned.pk}/messages/", {"body": "x"})
    assert answer.status_code == 404
    assert not PortalMessage.objects.exists()


def test_an_empty_message_is_refused_beside_the_field(pam, cora, assigned):
    answer = client_for(pam).post(f"/portal/referrals/{assigned.pk}/messages", {"body": "  "})
    assert answer.status_code == 422
    assert 'id="message_body_error"' in answer.content.decode()
    answer = client_for(cora).post(f"/referrals/{assigned.pk}/messages/", {"body": ""})
    assert answer.status_code == 422
    assert not PortalMessage.objects.exists()


def test_the_panel_for_the_detail_page(pam, cora, assigned, practice_b):
    client_for(pam).post(f"/portal/referrals/{assigned.pk}/messages", {"body": SECRET})
    panel = messages_panel_context(assigned, cora)
    assert panel["unread"] == 1 and panel["can_reply"] and panel["has_portal_users"]
    assert [e["message"].body for e in panel["thread"]] == [SECRET]
    assert panel["post_url"] == f"/referrals/{assigned.pk}/messages/"
    assert messages_panel_context(assigned, cora)["unread"] == 0
    outbound = services.create_outbound_referral(
        acting_user=cora, patient=assigned.patient, receiving_practice=practice_b, reason="x"
    )
    assert messages_panel_context(outbound, cora) is None


def test_records_sent_for_a_request_notify_the_assignee(pam, cora, assigned):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from refloop.referrals import transitions

    pending = transitions.request_info(assigned.pk, acting_user=cora, missing_info="MRI")
    client_for(pam).post(
        f"/portal/referrals/{pending.pk}/answer",
        {
            "expected_version": pending.version,
            "documents": SimpleUploadedFile("mri.pdf", samples.pdf()),
            "document_kind": "imaging",
        },
    )
    drain_queue()
    notice = Notification.objects.get(user=cora, kind="referral.info_answered")
    assert pending.number in notice.text


def test_a_practice_with_several_users_emails_each(pam, cora, assigned, practice_a):
    colleague = f.UserFactory(username="paula", role="portal", partner_practice=practice_a)
    client_for(cora).post(f"/referrals/{assigned.pk}/messages/", {"body": "Hello"})
    mail.outbox.clear()
    drain_queue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([pam.email, colleague.email])


def test_a_reply_from_the_detail_panel_comes_back_in_place(cora, assigned):
    answer = client_for(cora).post(
        f"/referrals/{assigned.pk}/messages/",
        {"body": "We booked her"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "<html" not in page and 'id="portal-messages"' in page and "We booked her" in page
    answer = client_for(cora).post(
        f"/referrals/{assigned.pk}/messages/", {"body": ""}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 422 and 'id="message_body_error"' in answer.content.decode()


def test_the_workspace_referral_page_shows_the_thread_with_a_reply_form(pam, cora, assigned):
    client_for(pam).post(f"/portal/referrals/{assigned.pk}/messages", {"body": SECRET})
    html = client_for(cora).get(f"/referrals/{assigned.pk}/").content.decode()
    assert SECRET in html
    assert f'action="/referrals/{assigned.pk}/messages/"' in html
    assert "Message with the referring practice" in html
