"""Consent is never ticked in advance: every form class refloop has is walked for a
consent-like box with a ticked initial value, and the pages with the patient's consent box
(portal, public form, quick intake, outbound) show it unticked."""

import importlib
import pkgutil
import re

import pytest
from django import forms

import refloop

CONSENT_WORDS = re.compile(r"consent|agree|permission|authori[sz]", re.IGNORECASE)
CONSENT_BOX = re.compile(rb'<input[^>]*name="contact_consent"[^>]*>')


def every_form_class() -> list[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(refloop.__path__, "refloop."):
        if ".migrations" not in module.name and ".management." not in module.name:
            importlib.import_module(module.name)
    found, pending = [], [forms.BaseForm]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("refloop."):
                found.append(sub)
    return found


def test_no_form_ticks_a_consent_box_in_advance():
    classes = every_form_class()
    names = {cls.__name__ for cls in classes}
    assert {"NewReferralFields", "PortalReferralForm", "PublicReferralForm"} <= names
    ticked = []
    for cls in classes:
        for name, field in cls.base_fields.items():
            about_consent = CONSENT_WORDS.search(f"{name} {field.label or ''}")
            if isinstance(field, forms.BooleanField) and about_consent and field.initial:
                ticked.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert ticked == []


def consent_box(response) -> bytes:
    assert response.status_code == 200
    boxes = CONSENT_BOX.findall(response.content)
    assert len(boxes) == 1, boxes
    return boxes[0]


@pytest.mark.django_db
def test_the_portals_new_referral_form_comes_unticked(client, pam, provider_a, spine):
    client.force_login(pam)
    assert b"checked" not in consent_box(client.get("/portal/referrals/new/"))


@pytest.mark.django_db
def test_the_staff_intake_forms_come_unticked(client, cora, spine):
    client.force_login(cora)
    for url in ("/intake/", "/outbound/new"):
        assert b"checked" not in consent_box(client.get(url)), url


@pytest.mark.django_db
def test_the_public_form_comes_unticked(client, org, spine):
    assert b"checked" not in consent_box(client.get("/refer/form/"))
