"""Testimonials under a HIPAA authorization: the signed text carries every element of
45 CFR 164.508(c); nothing unsigned, unapproved, revoked or expired is shown or exported;
the patient gets a copy and can revoke it; staff review."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refloop.advocacy import survey_link, testimonials
from refloop.advocacy.models import (
    AdvocacyEvent,
    Audience,
    Authorization,
    Trigger,
)
from refloop.advocacy.models import Testimonial as Offered
from refloop.advocacy.models import TestimonialState as State
from refloop.advocacy.surveys import create_survey
from refloop.core import reactions as core_reactions
from refloop.core.errors import Conflict, InvalidInput, NotAllowed
from refloop.messaging.models import Message
from refloop.practice.models import Location, Organization
from tests import samples

# 15:00 UTC is 09:00 in Chicago: the same calendar day in the practice's zone.
NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def survey(referral, org):
    Organization.objects.filter(pk=org.pk).update(time_zone="America/Chicago", phone="555-0100")
    Location.objects.get_or_create(
        name="Main clinic",
        defaults={
            "address": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
    )
    made, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=NOW,
        patient=referral.patient,
        referral=referral,
    )
    return made


def offer(survey, text="They fixed my back.", photo=None):
    return testimonials.offer_testimonial(
        survey=survey, text=text, attribution="", photo=photo, now=NOW
    )


def sign(testimonial, **overrides):
    values = {
        "signature": "Zephyrine Quillfeather",
        "agreed": True,
        "expires_on": dt.date(2028, 11, 2),
        "expiry_event": "",
        "signer_is_patient": True,
        "representative_authority": "",
        "now": NOW,
    }
    values.update(overrides)
    return testimonials.sign_authorization(testimonial=testimonial, **values)


def approved(survey, ada, **sign_overrides):
    testimonial = offer(survey)
    sign(testimonial, **sign_overrides)
    return testimonials.review_testimonial(testimonial, move="approve", acting_user=ada, now=NOW)


# ---------------------------------------------------------------- the signed text


def test_the_signed_text_carries_every_element_of_164_508(survey):
    testimonial = offer(survey, photo=testimonials.check_photo(_upload("me.png", samples.png())))
    authorization = sign(testimonial)
    text = authorization.text
    # (c)(1)(i) what is used and disclosed: the words, the name as signed, the photo, that
    # they were our patient
    assert "They fixed my back." in text
    assert '"Zephyrine Q."' in text
    assert "the photo you gave us" in text
    assert "you were a patient of" in text
    # (c)(1)(ii) who discloses: the practice; (iii) to whom: the public, where
    assert f"Who will share it: {Organization.current().name}." in text
    for where in ("the public", "website", "printed materials", "social media"):
        assert where in text
    # (c)(1)(iv) purpose
    assert "marketing" in text
    # (c)(1)(v) expiry
    assert "ends on November 2, 2028" in text
    # (c)(2)(i) the right to revoke in writing, and how: the link and the practice's address
    assert "revoke" in text and "in writing" in text
    assert "the link in the copy we send you" in text
    assert "1 Main St, Springfield, IL 62701" in text and "555-0100" in text
    # (c)(2)(ii) no conditioning; (c)(2)(iii) redisclosure
    assert "treatment, payment, enrolment in a health plan and eligibility for benefits" in text
    assert "do not depend on whether you sign" in text
    assert "no longer protects" in text
    # (c)(1)(vi) signature and date
    assert "Signature: Zephyrine Quillfeather" in text
    assert "Date: 2026-11-02" in text
    assert "Signed by the patient." in text
    assert authorization.text_sha256 == testimonials.digest(text)
    assert authorization.revocation_code


def test_a_representative_signs_with_their_authority_in_the_text(survey):
    authorization = sign(
        offer(survey),
        signature="Ana Quillfeather",
        signer_is_patient=False,
        representative_authority="parent of a minor",
    )
    assert "personal representative" in authorization.text
    assert "Authority to act for the patient: parent of a minor." in authorization.text
    assert authorization.representative_authority == "parent of a minor"


def test_a_representative_must_say_their_authority(survey):
    with pytest.raises(InvalidInput) as refused:
        sign(offer(survey), signer_is_patient=False, representative_authority=" ")
    assert refused.value.field == "representative_authority"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"agreed": False}, "agreed"),
        ({"signature": ""}, "signature"),
        ({"signature": "Zephyrine"}, "signature"),
        ({"expires_on": None, "expiry_event": ""}, "expires_on"),
        ({"expires_on": TODAY}, "expires_on"),
    ],
)
def test_unsigned_or_without_an_expiry_is_refused(survey, overrides, field):
    testimonial = offer(survey)
    with pytest.raises(InvalidInput) as refused:
        sign(testimonial, **overrides)
    assert refused.value.field == field
    assert not Authorization.objects.exists()
    testimonial.refresh_from_db()
    assert testimonial.authorization is None


def test_an_unsigned_testimonial_cannot_be_approved_or_shown(survey, ada):
    testimonial = offer(survey)
    with pytest.raises(Conflict):
        testimonials.review_testimonial(testimonial, move="approve", acting_user=ada, now=NOW)
    Offered.objects.filter(pk=testimonial.pk).update(state=State.APPROVED)
    assert not testimonials.publishable(NOW).exists()


def test_signing_acts_once(survey):
    testimonial = offer(survey)
    sign(testimonial)
    with pytest.raises(Conflict):
        sign(testimonial)
    with pytest.raises(Conflict):
        offer(survey, text="Changed my mind about the words")
    assert Authorization.objects.count() == 1
    assert Offered.objects.count() == 1


# ---------------------------------------------------------------- the one selector


def test_the_last_valid_day_is_shown_and_the_day_after_it_is_gone(survey, ada):
    testimonial = approved(survey, ada, expires_on=dt.date(2026, 12, 31))
    # 23:59 on 31 December in Chicago is already 1 January in UTC: the local day counts.
    last_minute = dt.datetime(2027, 1, 1, 5, 59, tzinfo=dt.UTC)
    first_minute_after = dt.datetime(2027, 1, 1, 6, 0, tzinfo=dt.UTC)
    assert list(testimonials.publishable(last_minute)) == [testimonial]
    assert list(testimonials.publishable(first_minute_after)) == []


def test_an_expiry_event_counts_until_staff_record_it_happened(survey, ada, cora):
    testimonial = approved(survey, ada, expires_on=None, expiry_event="when I move away")
    assert "ends when this happens: when I move away" in testimonial.authorization.text
    assert list(testimonials.publishable(NOW + dt.timedelta(days=3650))) == [testimonial]
    testimonials.record_expiry_event(testimonial.authorization, acting_user=cora, now=NOW)
    assert not testimonials.publishable(NOW).exists()


def test_revoking_takes_every_testimonial_under_it_down(survey, ada):
    testimonial = approved(survey, ada)
    assert testimonials.is_publishable(testimonial, NOW)
    testimonials.revoke_authorization(
        testimonial.authorization, how="By the patient", acting_user=None, now=NOW
    )
    assert not testimonials.publishable(NOW).exists()
    assert AdvocacyEvent.objects.filter(kind="authorization.revoked", testimonial=testimonial)
    with pytest.raises(Conflict):
        testimonials.revoke_authorization(
            testimonial.authorization, how="again", acting_user=None, now=NOW
        )


@pytest.mark.parametrize("state", ["submitted", "declined", "withdrawn"])
def test_only_approved_testimonials_are_publishable(survey, state):
    testimonial = offer(survey)
    sign(testimonial)
    Offered.objects.filter(pk=testimonial.pk).update(state=state)
    assert not testimonials.publishable(NOW).exists()


def test_only_publishers_approve_or_decline_and_feedback_handlers_withdraw(survey, ada, cora):
    testimonial = offer(survey)
    sign(testimonial)
    with pytest.raises(NotAllowed):
        testimonials.review_testimonial(testimonial, move="approve", acting_user=cora, now=NOW)
    with pytest.raises(NotAllowed):
        testimonials.review_testimonial(testimonial, move="decline", acting_user=cora, now=NOW)
    testimonials.review_testimonial(testimonial, move="approve", acting_user=ada, now=NOW)
    testimonials.review_testimonial(testimonial, move="withdraw", acting_user=cora, now=NOW)
    testimonial.refresh_from_db()
    assert testimonial.state == State.WITHDRAWN
    assert not testimonials.publishable(NOW).exists()


# ---------------------------------------------------------------- photos


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_a_photo_must_be_a_jpeg_or_png(survey):
    assert testimonials.check_photo(_upload("a.jpg", samples.jpeg())).content_type == "image/jpeg"
    with pytest.raises(Exception) as refused:
        testimonials.check_photo(_upload("a.pdf", samples.pdf()))
    assert refused.value.field == "photo"


def test_a_photo_over_the_limit_is_refused(survey, settings):
    big = samples.png() + b"\x00" * (testimonials.PHOTO_MAX_BYTES + 1)
    with pytest.raises(Exception) as refused:
        testimonials.check_photo(_upload("big.png", big))
    assert refused.value.status == 413
    assert refused.value.field == "photo"


def test_the_photo_is_stored_encrypted(survey):
    testimonial = offer(survey, photo=testimonials.check_photo(_upload("me.png", samples.png())))
    with testimonial.photo.storage.open(testimonial.photo.name, "rb") as stored:
        assert stored.read() == samples.png()
    raw = testimonial.photo.storage.path(testimonial.photo.name)
    with open(raw, "rb") as on_disk:
        assert on_disk.read() != samples.png()


# ---------------------------------------------------------------- the patient's pages


def _patient_client(survey) -> Client:
    client = Client()
    client.cookies[survey_link.COOKIE] = survey.code
    return client


def test_a_patient_offers_and_signs_from_their_survey_link(
    survey, django_capture_on_commit_callbacks
):
    client = _patient_client(survey)
    page = client.get(reverse("advocacy_survey_testimonial"))
    assert page.status_code == 200
    assert 'value="Zephyrine Q."' in page.content.decode()
    assert not Offered.objects.exists()  # GET changes nothing

    answer = client.post(
        reverse("advocacy_survey_testimonial"),
        {"text": "Kind and quick.", "attribution": "", "photo": _upload("me.jpg", samples.jpeg())},
    )
    assert answer.status_code == 303
    assert answer["Location"] == reverse("advocacy_survey_testimonial_sign")

    page = client.get(answer["Location"])
    body = page.content.decode()
    assert "Kind and quick." in body and "marketing" in body and "revoke" in body
    assert not Authorization.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(
            reverse("advocacy_survey_testimonial_sign"),
            {
                "ends": "date",
                "expires_on": "2030-01-31",
                "signer": "patient",
                "signature": "Zephyrine Quillfeather",
                "agreed": "on",
            },
        )
    assert answer.status_code == 303
    authorization = Authorization.objects.get()
    assert authorization.expires_on == dt.date(2030, 1, 31)
    assert callbacks  # the copy is queued after commit

    event = AdvocacyEvent.objects.get(kind="testimonial.authorized")
    core_reactions.run_once(event, "refloop.advocacy.testimonials.send_authorization_copy")
    copy = Message.objects.get(rule="patient.testimonial_authorization")
    assert testimonials.revoke_link(authorization) in copy.body
    assert "Zephyrine" in copy.body and "Quillfeather" not in copy.body
    assert "Kind and quick" not in copy.body  # the words stay behind the link

    done = client.get(reverse("advocacy_survey_testimonial_done"))
    assert authorization.text.splitlines()[0] in done.content.decode()
    # A second POST of step 2 acts on nothing.
    again = client.post(
        reverse("advocacy_survey_testimonial_sign"),
        {
            "ends": "date",
            "expires_on": "2031-01-31",
            "signer": "patient",
            "signature": "Zephyrine Quillfeather",
            "agreed": "on",
        },
    )
    assert again.status_code == 303
    assert Authorization.objects.count() == 1


def test_the_signing_page_says_what_to_fix(survey):
    offer(survey)
    client = _patient_client(survey)
    answer = client.post(
        reverse("advocacy_survey_testimonial_sign"),
        {"ends": "date", "expires_on": "", "signer": "patient", "signature": "Z Q"},
    )
    assert answer.status_code == 422
    assert "Tick the box" in answer.content.decode()
    assert not Authorization.objects.exists()


def test_without_the_survey_link_the_pages_say_the_link_is_not_valid(db, org):
    for name in ("advocacy_survey_testimonial", "advocacy_survey_testimonial_sign"):
        answer = Client().get(reverse(name))
        assert answer.status_code == 404
        assert "not valid" in answer.content.decode()


def test_an_office_survey_cannot_offer_a_testimonial(db, org):
    office, _ = create_survey(
        audience=Audience.OFFICE,
        trigger=Trigger.QUARTERLY,
        recipient="staff_contact:1",
        dedupe_key="office:1:2026Q4",
        now=NOW,
    )
    assert _patient_client(office).get(reverse("advocacy_survey_testimonial")).status_code == 404


def test_the_revoke_link_shows_first_and_revokes_only_on_post(survey, ada):
    testimonial = approved(survey, ada)
    client = Client()
    code = testimonial.authorization.revocation_code
    handed = client.get(reverse("advocacy_authorization_link", args=[code]))
    assert handed.status_code == 303 and code not in handed["Location"]
    page = client.get(handed["Location"])
    assert "Revoke my permission" in page.content.decode()
    testimonial.authorization.refresh_from_db()
    assert testimonial.authorization.revoked_at is None  # a scanner's GET revokes nothing

    done = client.post(reverse("advocacy_authorization"))
    assert "your permission is revoked" in done.content.decode()
    testimonial.authorization.refresh_from_db()
    assert testimonial.authorization.revoked_how == testimonials.REVOKED_BY_LINK
    again = client.post(reverse("advocacy_authorization"))
    assert "already revoked" in again.content.decode()


def test_an_unknown_revoke_code_is_not_valid(db, org):
    client = Client()
    client.get(reverse("advocacy_authorization_link", args=["rnope"]))
    assert client.get(reverse("advocacy_authorization")).status_code == 404


# ---------------------------------------------------------------- widget, photo, export


def test_the_widget_and_photo_follow_the_selector_and_are_never_cached(survey, ada):
    testimonial = offer(survey, photo=testimonials.check_photo(_upload("me.png", samples.png())))
    sign(testimonial)
    photo_url = reverse("advocacy_testimonial_photo", args=[testimonial.pk])
    client = Client()
    assert "Kind" not in client.get(reverse("advocacy_testimonials_widget")).content.decode()
    assert client.get(photo_url).status_code == 404  # not approved yet
    testimonial = testimonials.review_testimonial(
        testimonial, move="approve", acting_user=ada, now=NOW
    )

    widget = client.get(reverse("advocacy_testimonials_widget"))
    assert "They fixed my back." in widget.content.decode()
    assert "no-store" in widget["Cache-Control"].split(", ")
    assert "X-Frame-Options" not in widget
    assert "frame-ancestors" in widget["Content-Security-Policy"]
    photo = client.get(photo_url)
    assert photo.status_code == 200 and b"".join(photo.streaming_content) == samples.png()

    testimonials.revoke_authorization(
        testimonial.authorization, how="By the patient", acting_user=None, now=NOW
    )
    assert (
        "They fixed my back."
        not in client.get(reverse("advocacy_testimonials_widget")).content.decode()
    )
    assert client.get(photo_url).status_code == 404


def _export(client) -> list[list[str]]:
    answer = client.get(reverse("advocacy_feedback_testimonials_export"))
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(answer.content.decode())))


def test_the_export_follows_the_same_rule(survey, ada):
    testimonial = approved(survey, ada, expires_on=dt.date(2026, 12, 31))
    client = Client()
    # The last minute of the last valid day in Chicago, then the first minute after it.
    with time_machine.travel(dt.datetime(2027, 1, 1, 5, 59, tzinfo=dt.UTC), tick=False):
        client.force_login(ada)
        assert [r[1] for r in _export(client)[1:]] == ["They fixed my back."]
    with time_machine.travel(dt.datetime(2027, 1, 1, 6, 0, tzinfo=dt.UTC), tick=False):
        client.force_login(ada)
        assert _export(client)[1:] == []
    client.force_login(ada)
    Authorization.objects.filter(pk=testimonial.authorization_id).update(
        expires_on=dt.date(2030, 1, 1)
    )
    assert len(_export(client)) == 2
    testimonials.revoke_authorization(
        testimonial.authorization, how="In writing", acting_user=ada, now=NOW
    )
    assert _export(client)[1:] == []


def test_the_export_keeps_a_formula_from_running(survey, ada):
    testimonial = offer(survey, text="=HYPERLINK(1)")
    sign(testimonial)
    testimonials.review_testimonial(testimonial, move="approve", acting_user=ada, now=NOW)
    client = Client()
    client.force_login(ada)
    assert _export(client)[1][1] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------- staff pages


def test_staff_review_a_testimonial_and_record_a_written_revocation(survey, ada, cora):
    testimonial = offer(survey)
    sign(testimonial)
    client = Client()
    client.force_login(ada)
    listing = client.get(reverse("advocacy_feedback_testimonials"))
    assert "Zephyrine" in listing.content.decode()
    detail_url = reverse("advocacy_feedback_testimonial", args=[testimonial.pk])
    assert "Approve for publication" in client.get(detail_url).content.decode()
    answer = client.post(
        reverse("advocacy_feedback_testimonial_review", args=[testimonial.pk]), {"move": "approve"}
    )
    assert answer.status_code == 302
    assert testimonials.is_publishable(testimonial, timezone.now())

    coordinator = Client()
    coordinator.force_login(cora)
    assert "Approve for publication" not in coordinator.get(detail_url).content.decode()
    answer = coordinator.post(
        reverse("advocacy_feedback_testimonial_revocation", args=[testimonial.pk]),
        {"how": "Letter received 5 December"},
    )
    assert answer.status_code == 302
    testimonial.refresh_from_db()
    assert testimonial.authorization.revoked_how == "In writing: Letter received 5 December"
    assert not testimonials.publishable(timezone.now()).exists()


def test_reading_testimonials_is_audited(survey, ada):
    from refloop.core.models import AuditEntry

    testimonial = offer(survey)
    client = Client()
    client.force_login(ada)
    client.get(reverse("advocacy_feedback_testimonials"))
    client.get(reverse("advocacy_feedback_testimonial", args=[testimonial.pk]))
    actions = set(
        AuditEntry.objects.filter(object_type="testimonial", actor=ada).values_list(
            "action", flat=True
        )
    )
    assert {"testimonial.listed", "testimonial.viewed"} <= actions
