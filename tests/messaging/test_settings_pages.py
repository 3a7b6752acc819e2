"""The admin's message settings: rules switched and retimed, wording edited, previewed, reset."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from refloop.core.models import AuditEntry
from refloop.messaging import defaults, outbox
from refloop.messaging.models import RuleSetting, Template
from refloop.messaging.rules import RULES
from refloop.messaging.template_forms import RuleSettingsForm

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/messages/"


def every_rule_as_it_is() -> dict:
    """What the settings page posts when nothing is touched."""
    form = RuleSettingsForm()
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name.endswith("__enabled"):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


def editor(rule_key: str, channel: str) -> str:
    return reverse("message_template", args=[rule_key, channel])


def test_the_settings_page_lists_every_rule_by_audience(client, ada):
    client.force_login(ada)
    response = client.get(SETTINGS)
    assert response.status_code == 200
    page = response.content.decode()
    for heading in ("To referring providers", "To patients", "To our staff"):
        assert heading in page
    for rule in RULES.values():
        assert escape(rule.title) in page
    assert "hours before the appointment" in page


def test_the_settings_page_is_in_the_admin_navigation(client, ada, cora):
    client.force_login(ada)
    assert "Message settings" in client.get(SETTINGS).content.decode()
    client.force_login(cora)
    assert "Message settings" not in client.get("/referrals/").content.decode()


def test_admin_switches_a_rule_off(client, ada):
    client.force_login(ada)
    data = every_rule_as_it_is()
    del data["patient.no_show__enabled"]
    response = client.post(SETTINGS, data)
    assert response.status_code == 302
    assert RULES["patient.no_show"].enabled() is False
    assert RULES["patient.scheduled"].enabled() is True
    # Only the rule that changed gets a setting, and an audit entry.
    assert list(RuleSetting.objects.values_list("key", flat=True)) == ["patient.no_show"]
    entry = AuditEntry.objects.get(action="messaging.rule_changed")
    assert entry.actor == ada
    assert entry.detail["rule"] == "patient.no_show"


def test_admin_retimes_a_reminder_in_hours(client, ada):
    client.force_login(ada)
    data = every_rule_as_it_is()
    assert data["patient.reminder_early__hours"] == "48"
    data["patient.reminder_early__hours"] = "24"
    assert client.post(SETTINGS, data).status_code == 302
    assert RULES["patient.reminder_early"].offset().total_seconds() == -24 * 3600


@pytest.mark.parametrize(
    ("hours", "error"),
    [
        ("soon", "Give the timing as a number of hours"),
        ("0", "goes before the appointment: give more than 0 hours"),
        ("-3", "goes before the appointment: give more than 0 hours"),
    ],
)
def test_a_bad_reminder_timing_is_refused_with_a_plain_error(client, ada, hours, error):
    client.force_login(ada)
    data = every_rule_as_it_is()
    data["patient.reminder_late__hours"] = hours
    del data["patient.no_show__enabled"]
    response = client.post(SETTINGS, data)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not RuleSetting.objects.exists()


def test_a_coordinator_may_not_open_or_change_message_settings(client, cora):
    client.force_login(cora)
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, every_rule_as_it_is()).status_code == 403
    assert client.get(editor("patient.scheduled", "sms")).status_code == 403
    assert client.post(editor("patient.scheduled", "sms"), {"body": "Hi"}).status_code == 403
    assert not RuleSetting.objects.exists() and not Template.objects.exists()


def test_a_template_with_a_placeholder_the_rule_cannot_fill_is_refused(client, ada):
    client.force_login(ada)
    response = client.post(
        editor("patient.scheduled", "email"),
        {
            "language": "en",
            "subject": "Your appointment",
            "body": "Dear {{ patient.last_name }}, see you {{ appointment.when }}.",
            "action": "save",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "{{ patient.last_name }} is not a placeholder this message can use. It can use:" in page
    assert "{{ appointment.when }}" in page
    assert not Template.objects.exists()
    assert not AuditEntry.objects.filter(action="messaging.template_changed").exists()


def test_an_empty_message_is_refused(client, ada):
    client.force_login(ada)
    response = client.post(
        editor("patient.scheduled", "sms"), {"language": "en", "body": "   ", "action": "save"}
    )
    assert response.status_code == 422
    assert "empty message cannot be sent" in response.content.decode()
    assert not Template.objects.exists()


def test_a_saved_template_is_used_by_the_outbox(client, ada):
    client.force_login(ada)
    body = "See you {{ appointment.when }} at {{ practice.name }}."
    response = client.post(
        editor("patient.scheduled", "sms"),
        {"language": "en", "body": body, "action": "save"},
    )
    assert response.status_code == 302
    assert outbox.wording("patient.scheduled", "sms", "en") == ("", body)
    # Spanish falls back to the English template until one is written.
    assert outbox.wording("patient.scheduled", "sms", "es") == ("", body)
    entry = AuditEntry.objects.get(action="messaging.template_changed")
    assert entry.detail["rule"] == "patient.scheduled" and entry.actor == ada


def test_the_editor_shows_the_rules_placeholders_with_their_meanings(client, ada):
    client.force_login(ada)
    response = client.get(editor("referrer.progress_report", "fax"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "report.findings" in page and "the clinician&#x27;s findings" in page.lower()
    assert 'name="subject"' in page


def test_channels_the_rule_cannot_use_are_not_offered(client, ada):
    client.force_login(ada)
    assert client.get(editor("referrer.progress_report", "email")).status_code == 404
    assert client.get(editor("staff.stalled", "sms")).status_code == 404
    assert client.get(editor("no.such_rule", "email")).status_code == 404
    sms = client.get(editor("patient.scheduled", "sms")).content.decode()
    assert 'name="subject"' not in sms


def test_preview_fills_in_example_values_without_saving(client, ada):
    client.force_login(ada)
    response = client.post(
        editor("patient.scheduled", "email"),
        {
            "language": "en",
            "subject": "At {{ practice.name }}",
            "body": "Hello {{ patient.first_name }}, see you {{ appointment.when }}.",
            "action": "preview",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hello Maria, see you Tuesday, November 24 at 9:00 AM." in page
    assert "At Lakeside Orthopedics" in page
    assert not Template.objects.exists()


def test_reset_goes_back_to_refloops_default(client, ada):
    client.force_login(ada)
    url = editor("patient.scheduled", "sms")
    client.post(url, {"language": "es", "body": "Hola {{ patient.first_name }}", "action": "save"})
    assert Template.objects.filter(language="es").exists()
    response = client.post(url, {"language": "es", "action": "reset"})
    assert response.status_code == 302
    assert not Template.objects.exists()
    assert outbox.wording("patient.scheduled", "sms", "es") == defaults.default_wording(
        "patient.scheduled", "sms"
    )
    assert AuditEntry.objects.filter(
        action="messaging.template_changed", detail__reset=True
    ).exists()
